"""A "current practice" template to compare the optimised one with: the same mix in every hour.

Clinics without optimisation typically repeat one pattern all day. The baseline books the same total
minutes as it is given (the optimised template's, so capacity is equal and only placement differs),
spreads them evenly over every working hour, and uses in every hour the week's demand mix of visit
types (by minutes). Counts are rounded cumulatively along each provider-day, so a type needing half a
slot per hour gets one every other hour rather than none or one every hour.
"""

from __future__ import annotations

from collections import defaultdict

from slotoptim.ml.optimize.template_problem import SlotKey, TemplateProblem, VisitType


def uniform_template_slots(problem: TemplateProblem, *, booked_minutes: float | None = None) -> dict[SlotKey, int]:
    demand_minutes: dict[str, float] = defaultdict(float)
    for (_, _, visit_name), requests in problem.demand.items():
        demand_minutes[visit_name] += requests * problem.visit(visit_name).mean_minutes
    if booked_minutes is None:
        booked_minutes = sum(demand_minutes.values())
    working = sum(problem.available_minutes.values())
    if working <= 0 or booked_minutes <= 0:
        return {}
    fraction = min(booked_minutes / working, problem.settings.max_booking_ratio)
    slots: dict[SlotKey, int] = {}
    for provider in problem.providers:
        offered = [v for v in problem.visit_types if problem.offers(provider, v.name)]
        weights = {v.name: demand_minutes.get(v.name, 0.0) for v in offered}
        if not any(weights.values()):
            weights = {v.name: 1.0 for v in offered}
        total_weight = sum(weights.values())
        for weekday in problem.weekdays:
            wanted = {v.name: 0.0 for v in offered}
            given = {v.name: 0 for v in offered}
            for hour in problem.hours:
                available = problem.minutes(provider, weekday, hour)
                if available <= 0:
                    continue
                counts: dict[str, int] = {}
                for visit in offered:
                    wanted[visit.name] += available * fraction * weights[visit.name] / total_weight / visit.mean_minutes
                    counts[visit.name] = max(0, round(wanted[visit.name]) - given[visit.name])
                _fit_capacity(problem, offered, counts, weekday, hour, available)
                for visit in offered:
                    given[visit.name] += counts[visit.name]
                    if counts[visit.name]:
                        slots[(provider, weekday, hour, visit.name)] = counts[visit.name]
    return slots


def _fit_capacity(
    problem: TemplateProblem,
    offered: list[VisitType],
    counts: dict[str, int],
    weekday: str,
    hour: int,
    available: float,
) -> None:
    """Drop the longest visits until the hour respects the same limits the optimiser obeys."""
    settings = problem.settings

    def booked() -> float:
        return sum(counts[v.name] * v.mean_minutes for v in offered)

    def attended() -> float:
        return sum(counts[v.name] * v.mean_minutes * (1 - problem.no_show_rate(v, weekday, hour)) for v in offered)

    while booked() > settings.max_booking_ratio * available + 1e-9 or (
        attended() > settings.max_utilisation * available + 1e-9
    ):
        longest = max((v for v in offered if counts[v.name] > 0), key=lambda v: v.mean_minutes)
        counts[longest.name] -= 1
