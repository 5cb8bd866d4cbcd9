from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from slotoptim.ml.optimize.template_input import template_problem_to_plain
from slotoptim.ml.optimize.template_problem import TemplateProblem, VisitType
from slotoptim.ml.simulate import cli


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="slotoptim")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


@pytest.fixture
def problem_file(tmp_path: Path) -> Path:
    hours = (8, 9, 10)
    problem = TemplateProblem(
        providers=("dr",),
        weekdays=("mon", "tue"),
        hours=hours,
        available_minutes={("dr", w, h): 60.0 for w in ("mon", "tue") for h in hours},
        visit_types=(VisitType("new", 20, 9, 0.15), VisitType("review", 10, 4.5, 0.1)),
        demand={("mon", 8, "new"): 2.0, ("mon", 9, "review"): 4.0, ("tue", 10, "new"): 1.5},
    )
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(template_problem_to_plain(problem)), encoding="utf-8")
    return path


def test_writes_figures_and_json(
    problem_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], hangu_file: Path
) -> None:
    out = tmp_path / "out"
    argv = [
        "simulate",
        "template",
        "--input",
        str(problem_file),
        "--replications",
        "3",
        "--seed",
        "2",
        "--out",
        str(out),
        "--format",
        "json",
        "--data",
        str(hangu_file),
        "--sensitivity",
        "--sensitivity-no-show",
        "0.1",
        "--sensitivity-cv",
        "1",
    ]
    assert run(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["simulation"]["replications"] == 3
    assert set(result["simulation"]["metrics"]["mean_wait"]) == {"current", "optimised", "optimised - current"}
    assert len(result["sensitivity"]["points"]) == 1
    for stem in ("comparison_metrics", "waiting_ecdf", "template_load", "sensitivity"):
        assert (out / f"{stem}.png").stat().st_size > 0
        assert (out / f"{stem}.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert json.loads((out / "result.json").read_text(encoding="utf-8"))["scenario"]["seed"] == 2


def test_table_is_reproducible_for_a_seed(
    problem_file: Path, capsys: pytest.CaptureFixture[str], hangu_file: Path
) -> None:
    argv = ["simulate", "template", "--input", str(problem_file), "--replications", "3", "--data", str(hangu_file)]
    assert run(argv) == 0
    first = capsys.readouterr().out
    assert run(argv) == 0
    assert capsys.readouterr().out == first
    assert "mean wait (min)" in first and "optimised - current" in first


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--punctuality", "uniform:1,2"], "--punctuality"),
        (["--punctuality", "normal:50,5"], "--punctuality"),
        (["--no-show", "1.2"], "--no-show"),
        (["--replications", "1"], "--replications"),
        (["--cancellation-rate", "-0.1"], "--cancellation-rate"),
        (["--data", "/nonexistent/Data.csv"], "--data"),
    ],
)
def test_bad_input_exits_2_naming_the_option(
    problem_file: Path, extra: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["simulate", "template", "--input", str(problem_file), "--replications", "3", *extra]) == 2
    assert capsys.readouterr().err.startswith(f"slotoptim: error: {option}: ")
