"""The practice a fill-strategy comparison runs on, and the cancellations it suffers.

The demo practice (slotoptim.listener.practice.demo, Harbourview Health) for ``weeks`` weeks from a Monday:
its customers, providers, services and buffer rules; appointments for every fortnight (built with a
seed per fortnight, so weeks differ) all booked as of the start; a waitlist of ``waitlist`` entries
(the demo's own, then those of another seed of the demo when more are asked for), each wanting
dates anywhere in the simulated weeks.

Cancellations are drawn once and replayed for every strategy: each appointment is cancelled with
probability ``cancel_rate``; a share ``same_day_share`` of them on the day itself (1 to 10 hours
ahead, not before 06:00 local), the others 1 to 7 days ahead at a time of day between 07:00 and
22:00 local. A cancellation that would fall before the simulation starts is moved to a uniform
time between the start and two hours before the appointment. Draws are keyed by the appointment,
so the same appointment gets the same cancellation whatever else changes.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from slotoptim.listener.practice.demo import TIMEZONE, build_demo_practice

ORG_KEY = "harbourview"


@dataclass(frozen=True)
class Cancellation:
    appointment_key: str
    at: dt.datetime
    starts: dt.datetime
    lead: dt.timedelta


@dataclass(frozen=True)
class FillScenario:
    document: dict[str, Any]
    cancellations: tuple[Cancellation, ...]
    start: dt.datetime
    end: dt.datetime


def fill_scenario(
    monday: dt.date,
    *,
    weeks: int,
    waitlist: int,
    cancel_rate: float,
    same_day_share: float,
    seed: int,
) -> FillScenario:
    if weeks < 1:
        raise ValueError(f"weeks must be >= 1, got {weeks}")
    if waitlist < 0:
        raise ValueError(f"waitlist must be >= 0, got {waitlist}")
    if not 0 <= cancel_rate <= 1 or not 0 <= same_day_share <= 1:
        raise ValueError("cancel_rate and same_day_share are shares in [0, 1]")
    tz = ZoneInfo(TIMEZONE)
    monday -= dt.timedelta(days=monday.weekday())
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(monday + dt.timedelta(weeks=weeks), dt.time(0), tzinfo=tz)
    document = _practice(monday, weeks, waitlist, seed, start, end)
    cancellations = _cancellations(document, start, end, cancel_rate, same_day_share, seed, tz)
    return FillScenario(document, cancellations, start, end)


def _practice(
    monday: dt.date, weeks: int, waitlist: int, seed: int, start: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    document = build_demo_practice(monday, seed=seed, now=start)
    appointments: list[dict[str, Any]] = []
    closures: list[dict[str, Any]] = []
    for fortnight in range((weeks + 1) // 2):
        first = monday + dt.timedelta(weeks=2 * fortnight)
        # Customer keys (c-0001 ...) are the same whatever the seed, so another seed's calendar fits.
        part = document if fortnight == 0 else build_demo_practice(first, seed=seed + fortnight, now=start)
        for item in part["appointments"]:
            if dt.datetime.fromisoformat(item["start"]) < end:
                appointments.append({**item, "key": f"f{fortnight}-{item['key']}"})
        for provider in part["providers"]:
            closures += [{"provider": provider["key"], **c} for c in provider["closures"]]
    entries = list(document["waitlist"])
    extra_seed = seed + 1000
    while len(entries) < waitlist:
        more = build_demo_practice(monday, seed=extra_seed, now=start)["waitlist"]
        entries += [{**w, "key": f"x{extra_seed}-{w['key']}"} for w in more]
        extra_seed += 1
    last_day = (end - dt.timedelta(days=1)).date().isoformat()
    document["waitlist"] = [{**w, "dates": {"from": monday.isoformat(), "to": last_day}} for w in entries[:waitlist]]
    document["appointments"] = appointments
    for provider in document["providers"]:
        provider["closures"] = [
            {k: v for k, v in c.items() if k != "provider"}
            for c in closures
            if c["provider"] == provider["key"] and dt.date.fromisoformat(c["date"]) < end.date()
        ]
    document["organisation"] = {**document["organisation"], "name": "Harbourview Health (fill simulation)"}
    return document


def _cancellations(
    document: dict[str, Any],
    start: dt.datetime,
    end: dt.datetime,
    cancel_rate: float,
    same_day_share: float,
    seed: int,
    tz: ZoneInfo,
) -> tuple[Cancellation, ...]:
    chosen: list[Cancellation] = []
    for item in document["appointments"]:
        starts = dt.datetime.fromisoformat(item["start"])
        if not start <= starts < end:
            continue
        rng = random.Random(f"{seed}/cancel/{item['key']}")
        if rng.random() >= cancel_rate:
            continue
        local = starts.astimezone(tz)
        if rng.random() < same_day_share:
            at = local - dt.timedelta(minutes=rng.uniform(60, 600))
            at = max(at, local.replace(hour=6, minute=0, second=0, microsecond=0))
        else:
            day = local.date() - dt.timedelta(days=rng.randint(1, 7))
            at = dt.datetime.combine(day, dt.time(7), tzinfo=tz) + dt.timedelta(minutes=rng.uniform(0, 15 * 60))
        latest = starts - dt.timedelta(hours=2)
        if at < start:
            if latest <= start:
                continue
            at = start + (latest - start) * rng.random()
        at = at.replace(second=0, microsecond=0)
        if at >= starts:
            continue
        chosen.append(Cancellation(item["key"], at.astimezone(dt.UTC), starts.astimezone(dt.UTC), starts - at))
    return tuple(sorted(chosen, key=lambda c: (c.at, c.appointment_key)))
