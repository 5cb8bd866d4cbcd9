"""Discrete-event simulation (SimPy) of one provider's clinic day.

Scheduled patients arrive at their appointment time plus a punctuality offset, may have cancelled
ahead or not show, and are seen one at a time in appointment order among those present (not before
their appointment time unless ``see_early``). Walk-ins arrive as a Poisson stream during working
periods and are seen when no scheduled patient is waiting. Durations come from the DurationSampler.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from statistics import NormalDist
from typing import Any

from slotoptim.ml.simulate.clinic_model import DayOutcome, ProviderDay, Punctuality, SimulationSettings
from slotoptim.ml.simulate.durations import DurationSampler
from slotoptim.ml.simulate.random_streams import DayStreams

# Walk-ins queue behind every scheduled patient present: their priority starts above any minute of a day.
_WALK_IN_PRIORITY = 10_000.0


def simulate_day(
    day: ProviderDay, sampler: DurationSampler, settings: SimulationSettings, streams: DayStreams
) -> DayOutcome:
    import simpy

    env = simpy.Environment()
    provider = simpy.PriorityResource(env, capacity=1)
    log = _DayLog()
    visits_seen: dict[str, int] = {}
    cancellations = no_shows = empty = 0
    for appointment in sorted(day.appointments, key=lambda a: a.minute):
        # Draw every uniform for every appointment, whatever happens to it, so that the k-th patient of
        # a visit type gets the same numbers under any template (common random numbers).
        key = appointment.visit_type
        visits_seen[key] = visits_seen.get(key, 0) + 1
        booking_draw = streams.uniform("booked", key)
        cancel_draw = streams.uniform("cancel", key)
        show_draw = streams.uniform("no_show", key)
        offset = _punctuality(settings.punctuality, streams.uniform("punctuality", key))
        duration = sampler.draw(key, streams.uniform("duration", key))
        if booking_draw >= appointment.booking_probability:
            empty += 1
            continue
        if cancel_draw < settings.cancellation_rate:
            cancellations += 1
            continue
        risk = appointment.no_show_risk if settings.no_show_rate is None else settings.no_show_rate
        if show_draw < risk:
            no_shows += 1
            continue
        arrival = max(0.0, appointment.minute + offset)
        opens = _period_start(day, appointment.minute)
        ready = max(arrival, opens) if settings.see_early else max(arrival, appointment.minute)
        counted_from = max(arrival, appointment.minute)
        env.process(_visit(env, provider, ready, counted_from, duration, appointment.minute, log, walk_in=False))
    if settings.walk_ins_per_hour > 0:
        walk_in_type = settings.walk_in_visit_type or sampler.visit_types[0]
        for arrival in _walk_in_arrivals(day, settings.walk_ins_per_hour, streams):
            duration = sampler.draw(walk_in_type, streams.uniform("walk_in_duration", walk_in_type))
            env.process(
                _visit(env, provider, arrival, arrival, duration, _WALK_IN_PRIORITY + arrival, log, walk_in=True)
            )
    env.run()
    return DayOutcome(
        waits=tuple(log.waits),
        walk_in_waits=tuple(log.walk_in_waits),
        attended_minutes=log.attended,
        available_minutes=day.available_minutes,
        overtime_minutes=max(0.0, log.last_end - day.closes_at),
        no_shows=no_shows,
        cancellations=cancellations,
        empty_slots=empty,
    )


class _DayLog:
    def __init__(self) -> None:
        self.waits: list[float] = []
        self.walk_in_waits: list[float] = []
        self.attended = 0.0
        self.last_end = 0.0


def _visit(
    env: Any,
    provider: Any,
    ready: float,
    counted_from: float,
    duration: float,
    priority: float,
    log: _DayLog,
    *,
    walk_in: bool,
) -> Generator[Any, Any, None]:
    yield env.timeout(ready)
    with provider.request(priority=priority) as turn:
        yield turn
        wait = max(0.0, env.now - counted_from)
        (log.walk_in_waits if walk_in else log.waits).append(wait)
        yield env.timeout(duration)
        log.attended += duration
        log.last_end = max(log.last_end, env.now)


def _punctuality(punctuality: Punctuality, uniform: float) -> float:
    if punctuality.sd == 0:
        return punctuality.mean
    normal = NormalDist(punctuality.mean, punctuality.sd)
    low, high = normal.cdf(punctuality.earliest), normal.cdf(punctuality.latest)
    probability = low + uniform * (high - low)
    if probability <= 0.0 or probability >= 1.0:
        return punctuality.earliest if probability <= 0.0 else punctuality.latest
    return min(max(normal.inv_cdf(probability), punctuality.earliest), punctuality.latest)


def _period_start(day: ProviderDay, minute: float) -> float:
    starts = [start for start, end in day.working if start <= minute < end]
    return starts[0] if starts else minute


def _walk_in_arrivals(day: ProviderDay, per_hour: float, streams: DayStreams) -> list[float]:
    arrivals = []
    for start, end in day.working:
        clock = start
        while True:
            gap = -60.0 / per_hour * math.log1p(-streams.uniform("walk_in_arrival", f"{start:g}"))
            clock += gap
            if clock >= end:
                break
            arrivals.append(clock)
    return arrivals
