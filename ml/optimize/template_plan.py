"""An optimised template next to the current one, scored by the same model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slotoptim.ml.optimize.template import evaluate_template, solve_template
from slotoptim.ml.optimize.template_baseline import uniform_template_slots
from slotoptim.ml.optimize.template_problem import SlotKey, TemplateProblem
from slotoptim.ml.optimize.template_result import Template


@dataclass(frozen=True)
class TemplatePlan:
    problem: TemplateProblem
    optimised: Template
    current: Template
    current_source: str
    """"given" when the caller supplied the current template, else "uniform" (the built baseline)."""

    def to_plain(self) -> dict[str, Any]:
        return {
            "current_source": self.current_source,
            "optimised": self.optimised.to_plain(),
            "current": self.current.to_plain(),
        }


def plan_templates(
    problem: TemplateProblem,
    *,
    current_slots: Mapping[SlotKey, int] | None = None,
    solver: str = "SCIP",
    node_limit: int | None = None,
    time_limit_seconds: float | None = None,
) -> TemplatePlan:
    optimised = solve_template(problem, solver=solver, node_limit=node_limit, time_limit_seconds=time_limit_seconds)
    source = "given"
    if current_slots is None:
        booked = sum(count * problem.visit(visit).mean_minutes for (_, _, _, visit), count in optimised.slots.items())
        current_slots = uniform_template_slots(problem, booked_minutes=booked)
        source = "uniform"
    current = evaluate_template(problem, current_slots, solver=solver)
    return TemplatePlan(problem, optimised, current, source)
