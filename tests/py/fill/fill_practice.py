"""A small practice built for fill-engine tests: one provider, a booked appointment to cancel,
and as many waitlisted customers as a test needs, all of whom qualify for the gap."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from slotoptim.listener.practice.importer import import_practice

TZ = ZoneInfo("America/New_York")
# Tuesday 2026-11-24: the appointment we cancel runs 14:00-14:30 local.
SLOT_START = dt.datetime(2026, 11, 24, 14, 0, tzinfo=TZ)
MORNING = dt.datetime(2026, 11, 24, 9, 0, tzinfo=TZ)


def practice(
    customers: int,
    *,
    consent: dict[str, bool] | None = None,
    window: bool = True,
    slot_start: dt.datetime = SLOT_START,
) -> dict[str, Any]:
    """``slot_start``: when the appointment to cancel starts (14:00 local on a weekday); tests
    that run the real clock pass one in the future."""
    consent = consent or {"sms": True, "whatsapp": False, "email": True}
    morning = slot_start.replace(hour=9)
    return {
        "format": "slotoptim.practice/1",
        "organisation": {"key": "fillco", "name": "Fill Clinic", "timezone": "America/New_York"},
        "services": [
            {"key": "visit", "name": "Visit", "minutes": 30, "price": 100, "buffer_after_minutes": 0},
        ],
        "providers": [
            {
                "key": "dr-fill",
                "name": "Dr. Fill",
                "timezone": "America/New_York",
                "services": ["visit"],
                "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}],
            }
        ],
        "customers": [
            {
                "key": f"c{i:03d}",
                "name": f"Customer {i}",
                "phone": f"+1617555{i:04d}",
                "email": f"c{i}@example.com",
                "consent": consent,
            }
            for i in range(customers + 1)
        ],
        "appointments": [
            {
                "key": "to-cancel",
                "provider": "dr-fill",
                "service": "visit",
                "customer": "c000",
                "start": slot_start.isoformat(),
                "end": (slot_start + dt.timedelta(minutes=30)).isoformat(),
            },
            # Fill the rest of the afternoon so the gap is exactly the cancelled half hour.
            {
                "key": "before",
                "provider": "dr-fill",
                "service": "visit",
                "customer": "c000",
                "start": (slot_start - dt.timedelta(minutes=30)).isoformat(),
                "end": slot_start.isoformat(),
            },
            {
                "key": "after",
                "provider": "dr-fill",
                "service": "visit",
                "customer": "c000",
                "start": (slot_start + dt.timedelta(minutes=30)).isoformat(),
                "end": (slot_start + dt.timedelta(minutes=60)).isoformat(),
            },
        ],
        "waitlist": [
            {
                "key": f"w{i:03d}",
                "customer": f"c{i:03d}",
                "services": ["visit"],
                "window": {"start": "12:00", "end": "17:00"} if window else None,
                "lead_time_minutes": 60,
                "added_at": (morning - dt.timedelta(days=1 + i % 30)).isoformat(),
            }
            for i in range(1, customers + 1)
        ],
    }


def load(conn: psycopg.Connection[Any], customers: int, **kwargs: Any) -> None:
    import_practice(conn, practice(customers, **kwargs))


def settings(conn: psycopg.Connection[Any], **values: Any) -> None:
    for column, value in values.items():
        conn.execute(
            psycopg.sql.SQL("update slotoptim_private.organisation_settings set {} = %s").format(
                psycopg.sql.Identifier(column)
            ),
            (value,),
        )


def cancel(conn: psycopg.Connection[Any], at: dt.datetime = MORNING) -> int:
    """Cancels the 14:00 appointment at `at`; returns the gap it opened."""
    row = conn.execute(
        "select * from slotoptim.cancel_appointment("
        "(select id from slotoptim_private.appointment where key = 'to-cancel'), %s)",
        (at,),
    ).fetchone()
    assert row is not None
    return int(row["cancel_appointment"])


def offers(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute("select * from slotoptim_private.offer order by id").fetchall()]


def next_weekday_slot(now: dt.datetime | None = None) -> dt.datetime:
    """14:00 local on the first weekday at least a day after ``now``: for tests on the real clock."""
    day = (now or dt.datetime.now(TZ)).astimezone(TZ).date() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, 14, 0, tzinfo=TZ)
