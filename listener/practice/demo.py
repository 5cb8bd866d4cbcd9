"""The demo practice: a four-provider clinic with two weeks of appointments and 200 waitlist entries.

Generated from a seed and a start date, so `make run` always shows the current fortnight while
tests get the same practice every time. Phone numbers use the fictional 555-01XX range.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

from slotoptim.listener.practice.timeparse import WEEKDAYS

TIMEZONE = "America/New_York"

SERVICES: list[dict[str, Any]] = [
    {
        "key": "checkup",
        "name": "Check-up",
        "minutes": 20,
        "price": 95.0,
        "buffer_after_minutes": 5,
        "category": "primary-care",
        "complexity": 1,
    },
    {
        "key": "consult",
        "name": "Consultation",
        "minutes": 30,
        "price": 140.0,
        "buffer_after_minutes": 5,
        "category": "primary-care",
        "complexity": 2,
    },
    {
        "key": "new-patient",
        "name": "New patient visit",
        "minutes": 45,
        "price": 210.0,
        "buffer_after_minutes": 10,
        "category": "primary-care",
        "complexity": 3,
    },
    {
        "key": "cleaning",
        "name": "Dental cleaning",
        "minutes": 45,
        "price": 120.0,
        "buffer_after_minutes": 10,
        "category": "dental",
        "complexity": 2,
    },
    {
        "key": "physio-initial",
        "name": "Physiotherapy assessment",
        "minutes": 60,
        "price": 150.0,
        "buffer_after_minutes": 10,
        "category": "physio",
        "complexity": 3,
    },
    {
        "key": "physio-follow",
        "name": "Physiotherapy follow-up",
        "minutes": 30,
        "price": 90.0,
        "buffer_after_minutes": 5,
        "category": "physio",
        "complexity": 1,
    },
]

PROVIDERS: list[dict[str, Any]] = [
    {
        "key": "dr-chen",
        "name": "Dr. Maya Chen",
        "services": ["checkup", "consult", "new-patient"],
        "hours": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:30", "end": "12:30"},
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "13:30", "end": "17:00"},
        ],
    },
    {
        "key": "dr-patel",
        "name": "Dr. Raj Patel",
        "services": ["checkup", "consult", "new-patient"],
        "hours": [
            {"days": ["mon", "wed", "fri"], "start": "09:00", "end": "17:00"},
            {"days": ["tue", "thu"], "start": "11:00", "end": "19:00"},
            {"days": ["sat"], "start": "09:00", "end": "13:00"},
        ],
    },
    {
        "key": "rivera-hyg",
        "name": "Sam Rivera, RDH",
        "services": ["cleaning", "checkup"],
        "hours": [{"days": ["mon", "tue", "wed", "thu"], "start": "08:00", "end": "16:00"}],
    },
    {
        "key": "okafor-pt",
        "name": "Ana Okafor, PT",
        "services": ["physio-initial", "physio-follow"],
        "hours": [
            {"days": ["mon", "tue", "thu", "fri"], "start": "09:00", "end": "13:00"},
            {"days": ["mon", "tue", "thu", "fri"], "start": "14:00", "end": "18:00"},
        ],
    },
]

FIRST_NAMES = [
    "Alex",
    "Jordan",
    "Sam",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Rowan",
    "Elena",
    "Marcus",
    "Priya",
    "Wei",
    "Fatima",
    "Diego",
    "Hannah",
    "Omar",
    "Grace",
    "Luca",
    "Nora",
]
LAST_NAMES = [
    "Smith",
    "Nguyen",
    "Garcia",
    "Brown",
    "Kim",
    "Lopez",
    "Martin",
    "Cohen",
    "Singh",
    "Okoye",
    "Rossi",
    "Walsh",
    "Haddad",
    "Silva",
    "Murphy",
    "Ito",
    "Novak",
    "Adams",
    "Baker",
    "Reyes",
]
AREA_CODES = ["617", "857", "781", "339", "508", "774", "978", "351", "413", "212"]


def today_in_demo_zone() -> dt.date:
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()


def _weekday_hours(provider: dict[str, Any], weekday: str) -> list[tuple[dt.time, dt.time]]:
    spans = []
    for block in provider["hours"]:
        if weekday in block["days"]:
            spans.append((dt.time.fromisoformat(block["start"]), dt.time.fromisoformat(block["end"])))
    return sorted(spans)


def build_demo_practice(start: dt.date, *, seed: int = 7, now: dt.datetime | None = None) -> dict[str, Any]:
    """The demo practice for the fortnight starting on `start` (moved back to its Monday).

    Appointments before `now` are completed (or no-shows); later ones are booked or confirmed.
    """
    rng = random.Random(seed)
    tz = ZoneInfo(TIMEZONE)
    monday = start - dt.timedelta(days=start.weekday())
    now = now or dt.datetime.combine(monday, dt.time(0), tzinfo=tz)
    services = {s["key"]: s for s in SERVICES}

    customers = _customers(rng, 420)
    appointments: list[dict[str, Any]] = []
    for provider in PROVIDERS:
        for offset in range(14):
            date = monday + dt.timedelta(days=offset)
            for span_start, span_end in _weekday_hours(provider, WEEKDAYS[date.weekday()]):
                cursor = dt.datetime.combine(date, span_start, tzinfo=tz)
                end_of_span = dt.datetime.combine(date, span_end, tzinfo=tz)
                while True:
                    # Leave realistic holes: mostly booked, sometimes a free stretch.
                    if rng.random() < 0.18:
                        cursor += dt.timedelta(minutes=rng.choice([15, 20, 30, 45]))
                    service = services[rng.choice(provider["services"])]
                    finish = cursor + dt.timedelta(minutes=service["minutes"])
                    blocked_until = finish + dt.timedelta(minutes=service["buffer_after_minutes"] + 15)
                    if blocked_until > end_of_span + dt.timedelta(minutes=service["buffer_after_minutes"] + 15):
                        break
                    customer = rng.choice(customers)
                    appointments.append(_appointment(rng, provider, service, customer, cursor, finish, now, tz))
                    # Spacing leaves room for the most a rule can add (new customer +10, complex +5).
                    cursor = blocked_until
    for i, appt in enumerate(appointments):
        appt["key"] = f"a-{i + 1:04d}"
    waitlist = _waitlist(rng, customers, monday, tz, 200)
    return {
        "format": "slotoptim.practice/1",
        "organisation": {"key": "harbourview", "name": "Harbourview Health", "timezone": TIMEZONE, "currency": "USD"},
        "settings": {"max_buffer_minutes": 45, "gap_merge_hours": 24},
        "locations": [
            {
                "key": "main",
                "name": "Harbourview Health, Main St",
                "timezone": TIMEZONE,
                "address": "100 Main St, Boston, MA",
            }
        ],
        "services": SERVICES,
        "buffer_rules": [
            {"name": "New customers need intake time", "when": {"new_customer": True}, "extra_minutes": 10},
            {"name": "Complex services run over", "when": {"min_complexity": 3}, "extra_minutes": 5},
        ],
        "providers": [
            {
                "key": p["key"],
                "name": p["name"],
                "timezone": TIMEZONE,
                "location": "main",
                "active": True,
                "services": p["services"],
                "hours": p["hours"],
                "closures": (
                    [{"date": (monday + dt.timedelta(days=10)).isoformat(), "reason": "Training day"}]
                    if p["key"] == "okafor-pt"
                    else []
                ),
            }
            for p in PROVIDERS
        ],
        "closures": [],
        "customers": customers,
        "appointments": [a for a in appointments if not _on_closure(a, monday)],
        "waitlist": waitlist,
    }


def _on_closure(appointment: dict[str, Any], monday: dt.date) -> bool:
    day = dt.datetime.fromisoformat(appointment["start"]).date()
    return appointment["provider"] == "okafor-pt" and day == monday + dt.timedelta(days=10)


def _customers(rng: random.Random, count: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        phone = f"+1{AREA_CODES[i // 100]}55501{i % 100:02d}"
        sms = rng.random() < 0.85
        out.append(
            {
                "key": f"c-{i + 1:04d}",
                "name": f"{first} {last}",
                "phone": phone,
                "email": f"{first.lower()}.{last.lower()}{i + 1}@example.com",
                "timezone": None,
                "birth_date": dt.date(rng.randint(1940, 2015), rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
                "consent": {"sms": sms, "whatsapp": rng.random() < 0.2, "email": rng.random() < 0.7},
                "opted_out_at": None,
            }
        )
    return out


def _appointment(
    rng: random.Random,
    provider: dict[str, Any],
    service: dict[str, Any],
    customer: dict[str, Any],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    tz: ZoneInfo,
) -> dict[str, Any]:
    lead_days = min(60, int(rng.expovariate(1 / 9)))
    booked_at = start - dt.timedelta(days=lead_days, hours=rng.randint(1, 8))
    item: dict[str, Any] = {
        "provider": provider["key"],
        "service": service["key"],
        "customer": customer["key"],
        "start": start.isoformat(),
        "end": end.isoformat(),
        "source": "import",
        "booked_at": booked_at.astimezone(tz).isoformat(),
        "sms_reminder": rng.random() < 0.6,
    }
    if start < now:
        if rng.random() < 0.12:
            item["status"] = "no_show"
        else:
            item["status"] = "completed"
            overrun = max(-5.0, rng.gauss(2.0, 6.0))
            actual_start = start + dt.timedelta(minutes=max(0, rng.gauss(4, 4)))
            item["actual_start"] = actual_start.isoformat()
            item["actual_end"] = (actual_start + dt.timedelta(minutes=service["minutes"] + overrun)).isoformat()
    else:
        item["status"] = "confirmed" if rng.random() < 0.4 else "booked"
    return item


def _waitlist(
    rng: random.Random, customers: list[dict[str, Any]], monday: dt.date, tz: ZoneInfo, count: int
) -> list[dict[str, Any]]:
    entries = []
    tiers = ["standard"] * 6 + ["silver"] * 2 + ["gold", "platinum"]
    for i in range(count):
        customer = customers[rng.randrange(len(customers))]
        provider = rng.choice(PROVIDERS)
        services = rng.sample(provider["services"], k=rng.randint(1, min(2, len(provider["services"]))))
        window_start = rng.choice(["08:00", "09:00", "10:00", "12:00", "13:00"])
        window_end = rng.choice(["12:00", "14:00", "17:00", "19:00"])
        if window_end <= window_start:
            window_start, window_end = "08:00", window_end
        received = rng.randint(0, 6)
        accepted = rng.randint(0, received)
        declined = rng.randint(0, received - accepted)
        ignored = received - accepted - declined
        preferred = None if rng.random() < 0.5 else [provider["key"]]
        entry_days = (
            None if rng.random() < 0.3 else sorted(rng.sample(WEEKDAYS[:6], k=rng.randint(2, 5)), key=WEEKDAYS.index)
        )
        entry_window = None if rng.random() < 0.25 else {"start": window_start, "end": window_end}
        dates_to = monday + dt.timedelta(days=rng.choice([13, 20, 27]))
        travel, max_travel = rng.randint(5, 45), rng.choice([30, 45, 60])
        entries.append(
            {
                "key": f"w-{i + 1:04d}",
                "customer": customer["key"],
                "status": "active",
                "services": services,
                "providers": preferred,
                "excluded_providers": [],
                "days": entry_days,
                "window": entry_window,
                "dates": {"from": monday.isoformat(), "to": dates_to.isoformat()},
                # Travel never above its maximum (an input rule); at the maximum it scores the
                # same 0 travel points. The draws stay in order, so the demo stays the same.
                "travel_minutes": min(travel, max_travel),
                "max_travel_minutes": max_travel,
                "lead_time_minutes": rng.choice([30, 60, 120, 240]),
                "tier": rng.choice(tiers),
                "history": {
                    "received": received,
                    "accepted": accepted,
                    "declined": declined,
                    "ignored": ignored,
                    "consecutive_ignored": min(ignored, rng.randint(0, 2)),
                },
                "added_at": dt.datetime.combine(
                    monday - dt.timedelta(days=rng.randint(1, 60)), dt.time(9), tzinfo=tz
                ).isoformat(),
            }
        )
    return entries
