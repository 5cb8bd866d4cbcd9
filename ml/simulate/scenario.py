"""One simulation scenario: a template problem adjusted for no-show rate and duration spread."""

from __future__ import annotations

import dataclasses

from slotoptim.ml.optimize.template_problem import TemplateProblem
from slotoptim.ml.simulate.clinic_model import SimulationSettings
from slotoptim.ml.simulate.durations import DurationSampler, DurationShape


def adjusted_problem(problem: TemplateProblem, *, no_show_rate: float | None, cv_multiplier: float) -> TemplateProblem:
    """The problem the optimiser should see under the scenario: same clinic, other rates and spreads."""
    visit_types = tuple(
        dataclasses.replace(
            visit,
            no_show_rate=visit.no_show_rate if no_show_rate is None else no_show_rate,
            std_minutes=visit.std_minutes * cv_multiplier,
        )
        for visit in problem.visit_types
    )
    return dataclasses.replace(problem, visit_types=visit_types)


def sampler_for(problem: TemplateProblem, shape: DurationShape, settings: SimulationSettings) -> DurationSampler:
    """Durations per visit type with the problem's (unadjusted) spreads times the scenario multiplier."""
    spreads = {v.name: (v.mean_minutes, v.std_minutes) for v in problem.visit_types}
    return DurationSampler(shape, spreads, settings.cv_multiplier)
