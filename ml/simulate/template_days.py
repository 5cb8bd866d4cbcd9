"""Turn a weekly slot template into concrete appointment times, one ProviderDay per provider and weekday.

Within an hour the booked visits are laid out back to back in a round-robin over visit types (so
long visits do not bunch), and the hour's spare minutes are spread evenly between them: an hour
with 40 booked minutes out of 60 gets a 20-minute buffer shared across its appointments rather
than all at the end. Working periods are read from the available minutes, assumed to start on the hour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from slotoptim.ml.optimize.template_problem import SlotKey, TemplateProblem
from slotoptim.ml.simulate.clinic_model import Appointment, ProviderDay


def template_days(
    problem: TemplateProblem,
    slots: Mapping[SlotKey, int],
    fill_rate: Callable[[str, int, str], float] | None = None,
) -> list[ProviderDay]:
    """``fill_rate(weekday, hour, visit type)`` is the chance a slot is booked (all are, by default)."""
    days = []
    for provider in problem.providers:
        for weekday in problem.weekdays:
            working = _working_periods(problem, provider, weekday)
            if not working:
                continue
            appointments: list[Appointment] = []
            for hour in problem.hours:
                appointments.extend(_hour_appointments(problem, slots, provider, weekday, hour, fill_rate))
            days.append(ProviderDay(provider, weekday, tuple(appointments), working))
    return days


def _hour_appointments(
    problem: TemplateProblem,
    slots: Mapping[SlotKey, int],
    provider: str,
    weekday: str,
    hour: int,
    fill_rate: Callable[[str, int, str], float] | None,
) -> list[Appointment]:
    available = problem.minutes(provider, weekday, hour)
    remaining = {v.name: slots.get((provider, weekday, hour, v.name), 0) for v in problem.visit_types}
    order: list[str] = []
    while any(remaining.values()):
        for visit in problem.visit_types:
            if remaining[visit.name]:
                order.append(visit.name)
                remaining[visit.name] -= 1
    if not order or available <= 0:
        return []
    booked_minutes = sum(problem.visit(name).mean_minutes for name in order)
    # Spread out when the hour has spare minutes, squeeze together when it is overbooked.
    stretch = available / booked_minutes
    appointments = []
    offset = 0.0
    for name in order:
        visit = problem.visit(name)
        chance = 1.0 if fill_rate is None else fill_rate(weekday, hour, name)
        appointments.append(
            Appointment(hour * 60 + offset * stretch, name, problem.no_show_rate(visit, weekday, hour), chance)
        )
        offset += visit.mean_minutes
    return appointments


def _working_periods(problem: TemplateProblem, provider: str, weekday: str) -> tuple[tuple[float, float], ...]:
    periods: list[tuple[float, float]] = []
    for hour in sorted(problem.hours):
        minutes = problem.minutes(provider, weekday, hour)
        if minutes <= 0:
            continue
        start, end = hour * 60.0, hour * 60.0 + minutes
        if periods and periods[-1][1] == start:
            periods[-1] = (periods[-1][0], end)
        else:
            periods.append((start, end))
    return tuple(periods)
