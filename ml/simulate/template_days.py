"""Turn a weekly slot template into concrete appointment times, one ProviderDay per provider and weekday.

Within an hour the booked visits are laid out back to back in a round-robin over visit types (so
long visits do not bunch), and the hour's spare minutes are spread evenly between them: an hour
with 40 booked minutes out of 60 gets a 20-minute buffer shared across its appointments rather
than all at the end. Working periods are read from the available minutes (TemplateProblem.window):
a part-time hour lies at the start of the hour, except one that leads into working hours the work
before it does not reach (a day starting at 08:30 works the last 30 minutes of hour 8). A visit
the template lets run past its hour (longer than the hour's working minutes, see
TemplateProblem.spread) starts the hour, and the next hour's visits are laid out after it.
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
            busy_until = 0.0
            for hour in sorted(problem.hours):
                laid = _hour_appointments(problem, slots, provider, weekday, hour, fill_rate, busy_until)
                appointments.extend(laid)
                if len(laid) == 1:
                    busy_until = laid[0].minute + problem.visit(laid[0].visit_type).mean_minutes
            days.append(ProviderDay(provider, weekday, tuple(appointments), working))
    return days


def _hour_appointments(
    problem: TemplateProblem,
    slots: Mapping[SlotKey, int],
    provider: str,
    weekday: str,
    hour: int,
    fill_rate: Callable[[str, int, str], float] | None,
    busy_until: float = 0.0,
) -> list[Appointment]:
    if problem.minutes(provider, weekday, hour) <= 0:
        return []
    begins, ends = problem.window(provider, weekday, hour)
    # A long visit from the hour before may still run: start after it (back to back if it took the hour).
    begins = max(begins, busy_until)
    available = ends - begins
    remaining = {v.name: slots.get((provider, weekday, hour, v.name), 0) for v in problem.visit_types}
    order: list[str] = []
    while any(remaining.values()):
        for visit in problem.visit_types:
            if remaining[visit.name]:
                order.append(visit.name)
                remaining[visit.name] -= 1
    if not order:
        return []
    booked_minutes = sum(problem.visit(name).mean_minutes for name in order)
    # Spread out when the hour has spare minutes, squeeze together when it is overbooked.
    stretch = available / booked_minutes if available > 0 else 1.0
    appointments = []
    offset = 0.0
    for name in order:
        visit = problem.visit(name)
        chance = 1.0 if fill_rate is None else fill_rate(weekday, hour, name)
        appointments.append(
            Appointment(begins + offset * stretch, name, problem.no_show_rate(visit, weekday, hour), chance)
        )
        offset += visit.mean_minutes
    return appointments


def _working_periods(problem: TemplateProblem, provider: str, weekday: str) -> tuple[tuple[float, float], ...]:
    periods: list[tuple[float, float]] = []
    for hour in sorted(problem.hours):
        minutes = problem.minutes(provider, weekday, hour)
        if minutes <= 0:
            continue
        start, end = problem.window(provider, weekday, hour)
        if periods and periods[-1][1] == start:
            periods[-1] = (periods[-1][0], end)
        else:
            periods.append((start, end))
    return tuple(periods)
