"""SYNTHETIC: the demo practice with months of made-up history, for the learning jobs to learn from.

The demo practice (slotoptim.listener.practice.demo) holds a fortnight and, imported as `make run` does, no
past at all; a forecast needs weeks of history and a practice no-show model a few hundred marked
appointments. This builds the same practice (organisation, providers, services, customers,
waitlist) with `weeks` of past appointments before `today` and `future_days` of bookings made so
far. Everything in it is invented, with mechanisms chosen so the learning has something to find:
- demand: the share of each working span left free depends on the weekday (Mondays full, Fridays
  quieter), falls slowly over the history (a growing practice) and varies from day to day;
- no-shows: more likely with a long lead time (strong enough that lead time alone ranks them about
  as well as it does on the Kaggle data, ROC AUC ~0.7), rare for same-day bookings, and driven by a
  customer's own propensity (so earlier misses predict later ones), no SMS reminder, Mondays,
  late-afternoon slots, young adults, and per provider and service;
- overruns: per provider and service, so learned buffers differ by provider (Dr. Patel runs long);
- two organisation-wide holidays (one past, one upcoming) and about 5 % of bookings cancelled.
The organisation's name says "synthetic history". Keys match the demo practice, so importing it
with --replace swaps the demo for its longer twin.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from slotoptim.listener.practice.demo import PROVIDERS, SERVICES, TIMEZONE, build_demo_practice
from slotoptim.listener.practice.timeparse import WEEKDAYS

SYNTHETIC_NAME = "Harbourview Health (synthetic history)"
# Share of a working span left free, by weekday (Monday first), before trend and daily noise.
FREE_SHARE = (0.08, 0.15, 0.18, 0.15, 0.27, 0.2, 0.2)
# Added to the no-show log-odds.
PROVIDER_RISK = {"dr-chen": 0.0, "dr-patel": 0.2, "rivera-hyg": -0.2, "okafor-pt": 0.35}
SERVICE_RISK = {"new-patient": 0.3, "cleaning": -0.15, "physio-follow": 0.2}
# Mean overrun in minutes by provider, plus a per-service extra.
PROVIDER_OVERRUN = {"dr-chen": 1.0, "dr-patel": 6.0, "rivera-hyg": 2.0, "okafor-pt": 3.0}
SERVICE_OVERRUN = {"new-patient": 4.0, "physio-initial": 3.0}
OVERRUN_SD = 6.0
CANCEL_SHARE = 0.05


def build_demo_history(
    today: dt.date,
    *,
    weeks: int = 16,
    future_days: int = 14,
    seed: int = 7,
    providers: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The demo practice with `weeks` of synthetic past before `today` and bookings for `future_days`."""
    if weeks < 1 or future_days < 0:
        raise ValueError("weeks must be >= 1 and future_days >= 0")
    tz = ZoneInfo(TIMEZONE)
    now = dt.datetime.combine(today, dt.time(0), tzinfo=tz)
    document = build_demo_practice(today, seed=seed, now=now)
    chosen = [p for p in PROVIDERS if providers is None or p["key"] in providers]
    if not chosen:
        raise ValueError(f"no demo provider among {list(providers or [])}")
    keys = {p["key"] for p in chosen}
    offered = {s for p in chosen for s in p["services"]}

    first = today - dt.timedelta(days=7 * weeks)
    last = today + dt.timedelta(days=future_days)
    holidays = _holidays(first, today, last)
    rng = random.Random(seed)
    propensity = {c["key"]: rng.gauss(0.0, 1.0) for c in document["customers"]}
    births = {c["key"]: dt.date.fromisoformat(c["birth_date"]) for c in document["customers"]}
    customers = [c["key"] for c in document["customers"]]
    services = {s["key"]: s for s in SERVICES}
    closed = {(p["key"], dt.date.fromisoformat(c["date"])) for p in document["providers"] for c in p["closures"]}

    appointments: list[dict[str, Any]] = []
    span_days = max(1, (today - first).days)
    for provider in chosen:
        for offset in range((last - first).days):
            date = first + dt.timedelta(days=offset)
            if date in holidays or (provider["key"], date) in closed:
                continue
            # A growing practice: fewer free stretches as the history advances, plus daily noise.
            free = FREE_SHARE[date.weekday()] + 0.08 * (1 - min(1.0, offset / span_days)) + rng.gauss(0, 0.04)
            for start_time, end_time in _hours(provider, date):
                cursor = dt.datetime.combine(date, start_time, tzinfo=tz)
                end_of_span = dt.datetime.combine(date, end_time, tzinfo=tz)
                while True:
                    if rng.random() < max(0.0, free):
                        cursor += dt.timedelta(minutes=rng.choice([15, 20, 30, 45]))
                    service = services[rng.choice(provider["services"])]
                    finish = cursor + dt.timedelta(minutes=service["minutes"])
                    # The demo's spacing: room for the most the buffer rules add.
                    blocked_until = finish + dt.timedelta(minutes=service["buffer_after_minutes"] + 15)
                    if blocked_until > end_of_span + dt.timedelta(minutes=service["buffer_after_minutes"] + 15):
                        break
                    customer = rng.choice(customers)
                    item = _appointment(
                        rng, provider["key"], service, customer, propensity[customer], births[customer], cursor, now
                    )
                    if item is not None:
                        appointments.append(item)
                    cursor = blocked_until
    for i, item in enumerate(appointments):
        item["key"] = f"h-{i + 1:05d}"

    document["organisation"] = {**document["organisation"], "name": SYNTHETIC_NAME}
    document["providers"] = [p for p in document["providers"] if p["key"] in keys]
    document["closures"] = [{"date": d.isoformat(), "reason": "Public holiday (synthetic)"} for d in sorted(holidays)]
    document["appointments"] = appointments
    document["waitlist"] = [
        w
        for w in document["waitlist"]
        if set(w["services"]) <= offered and (w["providers"] is None or set(w["providers"]) <= keys)
    ]
    return document


def _holidays(first: dt.date, today: dt.date, last: dt.date) -> set[dt.date]:
    """A Monday about five weeks back (if the history reaches it) and a weekday about nine days ahead."""
    days = set()
    past = today - dt.timedelta(days=35 + today.weekday())
    if past >= first:
        days.add(past)
    ahead = today + dt.timedelta(days=9)
    while ahead.weekday() >= 5:
        ahead += dt.timedelta(days=1)
    if ahead < last:
        days.add(ahead)
    return days


def _hours(provider: dict[str, Any], date: dt.date) -> list[tuple[dt.time, dt.time]]:
    weekday = WEEKDAYS[date.weekday()]
    return sorted(
        (dt.time.fromisoformat(block["start"]), dt.time.fromisoformat(block["end"]))
        for block in provider["hours"]
        if weekday in block["days"]
    )


def _appointment(
    rng: random.Random,
    provider: str,
    service: dict[str, Any],
    customer: str,
    propensity: float,
    birth: dt.date,
    start: dt.datetime,
    now: dt.datetime,
) -> dict[str, Any] | None:
    lead_days = min(60, int(rng.expovariate(1 / 9)))
    booked_at = start - dt.timedelta(days=lead_days, hours=rng.randint(1, 8))
    if booked_at > now:
        return None  # not booked yet
    sms = rng.random() < (0.75 if lead_days >= 2 else 0.3)
    end = start + dt.timedelta(minutes=service["minutes"])
    item: dict[str, Any] = {
        "provider": provider,
        "service": service["key"],
        "customer": customer,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "source": "import",
        "booked_at": booked_at.isoformat(),
        "sms_reminder": sms,
    }
    if start >= now:
        item["status"] = "confirmed" if rng.random() < 0.4 else "booked"
        return item
    if rng.random() < CANCEL_SHARE:
        item["status"] = "cancelled"
        item["cancelled_at"] = (booked_at + (start - booked_at) * rng.random()).isoformat()
        return item
    age = (start.date() - birth).days / 365.25
    logit = (
        -3.2
        + 0.12 * min(lead_days, 21)
        - 1.0 * (lead_days == 0)
        + 1.2 * propensity
        - 0.5 * sms
        + 0.35 * (start.weekday() == 0)
        + 0.3 * (start.hour >= 16)
        + 0.3 * (18 <= age < 30)
        - 0.3 * (age >= 60)
        + PROVIDER_RISK.get(provider, 0.0)
        + SERVICE_RISK.get(service["key"], 0.0)
    )
    if rng.random() < 1 / (1 + math.exp(-logit)):
        item["status"] = "no_show"
        return item
    overrun = max(
        -5.0, rng.gauss(PROVIDER_OVERRUN.get(provider, 2.0) + SERVICE_OVERRUN.get(service["key"], 0.0), OVERRUN_SD)
    )
    actual_start = start + dt.timedelta(minutes=max(0.0, rng.gauss(3, 3)))
    item["status"] = "completed"
    item["actual_start"] = actual_start.isoformat()
    item["actual_end"] = (actual_start + dt.timedelta(minutes=service["minutes"] + overrun)).isoformat()
    return item
