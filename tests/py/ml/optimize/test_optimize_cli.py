from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from slotoptim.ml.optimize import cli
from slotoptim.ml.optimize.template_input import template_problem_to_plain
from slotoptim.ml.optimize.template_problem import TemplateProblem, VisitType

CHECK = [
    "optimize",
    "session",
    "--patients",
    "6",
    "--intervals",
    "4",
    "--interval-minutes",
    "5",
    "--service",
    "pmf:3=0.2,5=0.3,8=0.5",
    "--no-show",
    "0.1",
    "--weights",
    "0.5,0,0.5",
]


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="slotoptim")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


def test_session_json_reports_the_check_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*CHECK, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    optimal = report["schedules"]["optimal"]
    assert optimal["schedule"] == [2, 1, 1, 2]
    assert optimal["objective"] == pytest.approx(9.5734588, abs=1e-6)
    assert set(report["schedules"]) == {"optimal", "bailey-welch", "even spread"}
    assert run([*CHECK, "--format", "json", "--count-no-show-waiting"]) == 0
    published = json.loads(capsys.readouterr().out)["schedules"]["optimal"]
    assert published["objective"] == pytest.approx(9.8947055, abs=1e-6)


def test_session_table_names_the_three_parts(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(CHECK) == 0
    out = capsys.readouterr().out
    for word in ("optimal", "bailey-welch", "even spread", "wait/pat", "idle", "lateness", "2 1 1 2"):
        assert word in out


@pytest.mark.parametrize(
    ("change", "option"),
    [
        (("--service", "pmf:3=0.2,5=0.3,8=0.4"), "--service"),
        (("--service", "uniform:3"), "--service"),
        (("--no-show", "-0.1"), "--no-show"),
        (("--patients", "0"), "--patients"),
        (("--interval-minutes", "0"), "--interval-minutes"),
        (("--weights", "1,1"), "--weights"),
        (("--weights", "1,-1,1"), "--weights"),
    ],
)
def test_bad_session_input_exits_2_naming_the_option(
    change: tuple[str, str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = list(CHECK)
    argv[argv.index(change[0]) + 1] = change[1]
    assert run(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"slotoptim: error: {option}: ")


def tiny_problem_file(tmp_path: Path) -> Path:
    problem = TemplateProblem(
        providers=("dr",),
        weekdays=("mon",),
        hours=(9, 10),
        available_minutes={("dr", "mon", 9): 60.0, ("dr", "mon", 10): 60.0},
        visit_types=(VisitType("review", 10, 4, 0.1),),
        demand={("mon", 9, "review"): 5.0, ("mon", 10, "review"): 1.0},
    )
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(template_problem_to_plain(problem)), encoding="utf-8")
    return path


def test_template_json_compares_optimised_and_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problem_file = tiny_problem_file(tmp_path)
    assert run(["optimize", "template", "--input", str(problem_file), "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["current_source"] == "uniform"
    assert plan["optimised"]["status"] == "optimal"
    assert plan["optimised"]["objective"]["total"] <= plan["current"]["objective"]["total"] + 1e-9
    current = tmp_path / "current.json"
    current.write_text(json.dumps(plan["optimised"]["slots"]), encoding="utf-8")
    assert run(["optimize", "template", "--input", str(problem_file), "--current", str(current)]) == 0
    assert "current (given)" in capsys.readouterr().out


def test_template_bad_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["optimize", "template", "--input", str(tmp_path / "absent.json")]) == 2
    assert "--input: cannot read" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text('{"providers": ["dr"]}', encoding="utf-8")
    assert run(["optimize", "template", "--input", str(broken)]) == 2
    assert "--input: " in capsys.readouterr().err
