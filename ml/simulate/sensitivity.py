"""Sensitivity of the recommendation to the no-show rate and to duration variability.

For every (no-show rate, spread multiplier) on the grid:

* the template is re-optimised for that scenario and simulated against the clinic's current template
  and against the template optimised for the nominal inputs, on common random numbers;
* the single-session schedule is re-optimised exactly (optimize.session_search) with the service
  time pmf built from the real durations at that spread, and compared with Bailey-Welch.

The question answered: does the advice change, and does its benefit survive, when the inputs are off?
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slotoptim.ml.optimize.session_eval import SessionEvaluator
from slotoptim.ml.optimize.session_problem import SessionProblem, Weights
from slotoptim.ml.optimize.session_rules import bailey_welch
from slotoptim.ml.optimize.session_search import optimise
from slotoptim.ml.optimize.template import evaluate_template, solve_template
from slotoptim.ml.optimize.template_problem import SlotKey, TemplateProblem
from slotoptim.ml.optimize.template_result import Template
from slotoptim.ml.simulate.clinic_model import SimulationSettings
from slotoptim.ml.simulate.durations import DurationShape, empirical_service
from slotoptim.ml.simulate.replicate import compare
from slotoptim.ml.simulate.scenario import adjusted_problem, sampler_for
from slotoptim.ml.simulate.stats import Estimate
from slotoptim.ml.simulate.template_days import template_days


@dataclass(frozen=True)
class SessionSetup:
    """The representative session re-optimised at every grid point."""

    patients: int = 12
    intervals: int = 12
    interval_minutes: float = 15.0
    mean_minutes: float = 13.0
    std_minutes: float = 6.0
    weights: Weights = field(default_factory=lambda: Weights(1.0, 1.0, 1.0))


@dataclass(frozen=True)
class SensitivityPoint:
    no_show_rate: float
    cv_multiplier: float
    wait_change: Estimate
    """Mean wait of the re-optimised template minus the current one (minutes; negative is better)."""
    utilisation_change: Estimate
    seen_change: Estimate
    """Patients seen per day, re-optimised minus current."""
    reoptimising_wait_change: Estimate
    """Re-optimised minus the nominal optimum, mean wait: what re-optimising for this scenario buys."""
    slots_moved: int
    """Slots that differ from the nominal recommendation (half the sum of absolute differences)."""
    session_schedule: tuple[int, ...]
    session_objective: float
    bailey_welch_objective: float

    def to_plain(self) -> dict[str, Any]:
        return {
            "no_show_rate": self.no_show_rate,
            "cv_multiplier": self.cv_multiplier,
            "template": {
                "mean_wait_change": self.wait_change.to_plain(),
                "utilisation_change": self.utilisation_change.to_plain(),
                "patients_seen_change": self.seen_change.to_plain(),
                "reoptimising_mean_wait_change": self.reoptimising_wait_change.to_plain(),
                "slots_moved_from_nominal": self.slots_moved,
            },
            "session": {
                "schedule": list(self.session_schedule),
                "objective": self.session_objective,
                "bailey_welch_objective": self.bailey_welch_objective,
            },
        }


@dataclass(frozen=True)
class SensitivityResult:
    points: tuple[SensitivityPoint, ...]
    session: SessionSetup

    def to_plain(self) -> dict[str, Any]:
        s = self.session
        return {
            "session_setup": {
                "patients": s.patients,
                "intervals": s.intervals,
                "interval_minutes": s.interval_minutes,
                "mean_minutes": s.mean_minutes,
                "std_minutes": s.std_minutes,
                "weights": [s.weights.waiting, s.weights.idle, s.weights.lateness],
            },
            "points": [p.to_plain() for p in self.points],
        }

    def to_table(self) -> str:
        lines = [
            "Sensitivity (template: re-optimised minus current, 95% CI; session: optimal vs Bailey-Welch)",
            f"{'no-show':>8}{'cv x':>6}{'d mean wait':>22}{'d utilisation':>22}{'d seen/day':>20}"
            f"{'re-opt vs nominal':>22}{'moved':>7}  session schedule (objective vs BW)",
        ]
        for p in self.points:
            lines.append(
                f"{p.no_show_rate:>8.2f}{p.cv_multiplier:>6.2f}{_ci(p.wait_change):>22}"
                f"{_ci(p.utilisation_change, 100):>22}{_ci(p.seen_change):>20}{_ci(p.reoptimising_wait_change):>22}"
                f"{p.slots_moved:>7}  {' '.join(str(x) for x in p.session_schedule)} "
                f"({p.session_objective:.2f} vs {p.bailey_welch_objective:.2f})"
            )
        return "\n".join(lines)


def run_sensitivity(
    problem: TemplateProblem,
    current_slots: Mapping[SlotKey, int],
    nominal: Template,
    shape: DurationShape,
    settings: SimulationSettings,
    *,
    no_show_rates: Sequence[float],
    cv_multipliers: Sequence[float],
    replications: int,
    seed: int,
    node_limit: int | None,
    session: SessionSetup | None = None,
) -> SensitivityResult:
    session = session or SessionSetup()
    points = []
    for no_show_rate in no_show_rates:
        for multiplier in cv_multipliers:
            scenario = SimulationSettings(
                punctuality=settings.punctuality,
                no_show_rate=no_show_rate,
                cancellation_rate=settings.cancellation_rate,
                walk_ins_per_hour=settings.walk_ins_per_hour,
                walk_in_visit_type=settings.walk_in_visit_type,
                cv_multiplier=multiplier,
                see_early=settings.see_early,
            )
            variant = adjusted_problem(problem, no_show_rate=no_show_rate, cv_multiplier=multiplier)
            reoptimised = solve_template(variant, node_limit=node_limit)
            # Fill rates of the fixed templates follow the scenario's demand routing, as the new one's do.
            current = evaluate_template(variant, current_slots)
            kept = evaluate_template(variant, nominal.slots)
            comparison = compare(
                [
                    ("current", template_days(variant, current.slots, current.fill_rate)),
                    ("nominal", template_days(variant, kept.slots, kept.fill_rate)),
                    ("reoptimised", template_days(variant, reoptimised.slots, reoptimised.fill_rate)),
                ],
                sampler_for(problem, shape, scenario),
                scenario,
                replications=replications,
                seed=seed,
            )
            schedule, objective, rule = _session_point(shape, session, no_show_rate, multiplier)
            points.append(
                SensitivityPoint(
                    no_show_rate=no_show_rate,
                    cv_multiplier=multiplier,
                    wait_change=comparison.difference("reoptimised", "mean_wait"),
                    utilisation_change=comparison.difference("reoptimised", "utilisation"),
                    seen_change=comparison.difference("reoptimised", "patients_seen"),
                    reoptimising_wait_change=comparison.difference("reoptimised", "mean_wait", against="nominal"),
                    slots_moved=_slots_moved(nominal.slots, reoptimised.slots),
                    session_schedule=schedule,
                    session_objective=objective,
                    bailey_welch_objective=rule,
                )
            )
    return SensitivityResult(tuple(points), session)


def _session_point(
    shape: DurationShape, setup: SessionSetup, no_show_rate: float, multiplier: float
) -> tuple[tuple[int, ...], float, float]:
    service = empirical_service(shape, setup.mean_minutes, setup.std_minutes, multiplier)
    problem = SessionProblem(
        setup.patients, setup.intervals, setup.interval_minutes, service, no_show_rate, setup.weights
    )
    best = optimise(problem)
    rule = SessionEvaluator(problem).evaluate(bailey_welch(setup.patients, setup.intervals)).objective
    return best.schedule, best.cost.objective, rule


def _slots_moved(first: Mapping[SlotKey, int], second: Mapping[SlotKey, int]) -> int:
    keys = set(first) | set(second)
    return sum(abs(first.get(k, 0) - second.get(k, 0)) for k in keys) // 2


def _ci(value: Estimate, scale: float = 1.0) -> str:
    return f"{scale * value.mean:+.2f} [{scale * value.low:+.2f},{scale * value.high:+.2f}]"
