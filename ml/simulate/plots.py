"""Figures of a simulation run, each written as PNG and SVG (matplotlib, Agg backend: no display)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from slotoptim.ml.optimize.template_problem import TemplateProblem
from slotoptim.ml.optimize.template_result import Template
from slotoptim.ml.simulate.replicate import METRIC_LABELS, METRICS, Comparison
from slotoptim.ml.simulate.sensitivity import SensitivityPoint, SensitivityResult


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    # A fixed salt makes SVG element ids, and so the files, the same on every run.
    matplotlib.rcParams["svg.hashsalt"] = "slotoptim"
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, out: Path, stem: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    for path in paths:
        # A fixed date and no software tag keep the SVG identical across runs with the same inputs.
        metadata = {"Date": None} if path.suffix == ".svg" else {"Software": None}
        figure.savefig(path, dpi=120, bbox_inches="tight", metadata=metadata)
    _pyplot().close(figure)
    return paths


def plot_comparison(comparison: Comparison, out: Path) -> list[Path]:
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(METRICS), figsize=(3.2 * len(METRICS), 3.4))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, metric in zip(axes, METRICS, strict=True):
        scale = 100.0 if metric == "utilisation" else 1.0
        estimates = [comparison.estimate(name, metric) for name in comparison.names]
        means = [scale * e.mean for e in estimates]
        errors = [scale * e.half_width for e in estimates]
        axis.bar(comparison.names, means, yerr=errors, capsize=4, color=colours[: len(means)])
        axis.set_title(METRIC_LABELS[metric] + (" (%)" if scale != 1.0 else ""), fontsize=9)
        axis.tick_params(axis="x", labelsize=8)
    figure.suptitle(f"Template comparison, {len(comparison.runs[0])} replications, 95% CI", fontsize=10)
    figure.tight_layout()
    return _save(figure, out, "comparison_metrics")


def plot_waiting_distribution(comparison: Comparison, out: Path) -> list[Path]:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(5.5, 3.6))
    for name, runs in zip(comparison.names, comparison.runs, strict=True):
        waits = np.sort(np.concatenate([np.asarray(run.waits) for run in runs]))
        if len(waits):
            axis.step(waits, np.arange(1, len(waits) + 1) / len(waits), where="post", label=name)
    axis.set_xlabel("waiting time of scheduled patients (min)")
    axis.set_ylabel("share of patients waiting at most x")
    axis.grid(alpha=0.3)
    axis.legend()
    return _save(figure, out, "waiting_ecdf")


def plot_template_load(problem: TemplateProblem, named: Sequence[tuple[str, Template]], out: Path) -> list[Path]:
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(named), figsize=(4.2 * len(named), 3.6), squeeze=False, layout="constrained")
    grids = []
    for _, template in named:
        grid = np.array(
            [
                [sum(template.booked_minutes(problem, p, w, h) for p in problem.providers) for w in problem.weekdays]
                for h in problem.hours
            ]
        )
        grids.append(grid)
    top = max(float(g.max()) for g in grids) or 1.0
    for column, (axis, (name, _), grid) in enumerate(zip(axes[0], named, grids, strict=True)):
        image = axis.imshow(grid, vmin=0, vmax=top, cmap="viridis", aspect="auto")
        axis.set_xticks(range(len(problem.weekdays)), problem.weekdays)
        axis.set_yticks(range(len(problem.hours)), [f"{h:02d}:00" for h in problem.hours] if column == 0 else [])
        axis.set_title(f"{name}: booked minutes", fontsize=9)
    figure.colorbar(image, ax=axes[0].tolist(), shrink=0.8)
    return _save(figure, out, "template_load")


def plot_sensitivity(result: SensitivityResult, out: Path) -> list[Path]:
    plt = _pyplot()
    from matplotlib.colors import CenteredNorm

    rates = sorted({p.no_show_rate for p in result.points})
    multipliers = sorted({p.cv_multiplier for p in result.points})
    panels: list[tuple[str, Callable[[SensitivityPoint], float]]] = [
        ("mean wait change (min)\nre-optimised - current", lambda p: p.wait_change.mean),
        ("utilisation change (points)\nre-optimised - current", lambda p: 100 * p.utilisation_change.mean),
        (
            "session: objective gain (%)\noptimal vs Bailey-Welch",
            lambda p: 100 * (1 - p.session_objective / p.bailey_welch_objective) if p.bailey_welch_objective else 0.0,
        ),
    ]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.3 * len(panels), 3.6))
    for axis, (title, value) in zip(axes, panels, strict=True):
        grid = np.full((len(rates), len(multipliers)), np.nan)
        for point in result.points:
            grid[rates.index(point.no_show_rate), multipliers.index(point.cv_multiplier)] = value(point)
        # Diverging colours centred on zero: red is more than today, blue less.
        image = axis.imshow(grid, cmap="coolwarm", norm=CenteredNorm(), aspect="auto", origin="lower")
        for (row, column), number in np.ndenumerate(grid):
            axis.text(column, row, f"{number:.2f}", ha="center", va="center", fontsize=8)
        axis.set_xticks(range(len(multipliers)), [f"{m:g}" for m in multipliers])
        axis.set_yticks(range(len(rates)), [f"{r:g}" for r in rates])
        axis.set_xlabel("duration spread multiplier")
        axis.set_ylabel("no-show rate")
        axis.set_title(title, fontsize=9)
        figure.colorbar(image, ax=axis, shrink=0.8)
    figure.tight_layout()
    return _save(figure, out, "sensitivity")
