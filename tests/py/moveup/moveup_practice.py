"""A practice for move-up tests: one provider who works one half hour a day (10:00-10:30 local,
Monday to Friday), so each weekday is exactly one slot. The Tuesday appointment is cancelled to
start a chain; holders keep the slots of the following weekdays and enrol in move-up; ordinary
waitlisted customers (without an appointment) may compete for the same openings."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from slotoptim.listener.practice.importer import import_practice

TZ = ZoneInfo("America/New_York")
# Monday 2026-11-23 09:00: everything happens at this instant unless a test says otherwise.
AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
FIRST_DAY = dt.date(2026, 11, 24)  # the Tuesday whose appointment is cancelled
ACTIVE = ("booked", "confirmed", "arrived", "completed")


def weekday(n: int) -> dt.date:
    """The n-th weekday from FIRST_DAY (0 = FIRST_DAY)."""
    day = FIRST_DAY
    while n > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def slot(day: dt.date) -> tuple[str, str]:
    start = dt.datetime(day.year, day.month, day.day, 10, 0, tzinfo=TZ)
    return start.isoformat(), (start + dt.timedelta(minutes=30)).isoformat()


def practice(holders: int, waitlisted: int = 0) -> dict[str, Any]:
    """Customer z holds FIRST_DAY (cancelled by tests); h1..hN hold weekdays 1..N; w1..wM wait."""
    keys = ["z", *[f"h{i}" for i in range(1, holders + 1)], *[f"w{i}" for i in range(1, waitlisted + 1)]]
    appointments = []
    for n, key in enumerate(["z", *[f"h{i}" for i in range(1, holders + 1)]]):
        start, end = slot(weekday(n))
        appointments.append(
            {"key": f"a-{key}", "provider": "dr-up", "service": "visit", "customer": key, "start": start, "end": end}
        )
    return {
        "format": "slotoptim.practice/1",
        "organisation": {"key": "upco", "name": "Up Clinic", "timezone": "America/New_York"},
        "services": [{"key": "visit", "name": "Visit", "minutes": 30, "price": 100, "buffer_after_minutes": 0}],
        "providers": [
            {
                "key": "dr-up",
                "name": "Dr. Up",
                "timezone": "America/New_York",
                "services": ["visit"],
                "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "10:00", "end": "10:30"}],
            }
        ],
        "customers": [
            {
                "key": key,
                "name": f"Customer {key}",
                "phone": f"+1617555{i:04d}",
                "email": f"{key}@example.com",
                "consent": {"sms": True, "whatsapp": False, "email": True},
            }
            for i, key in enumerate(keys)
        ],
        "appointments": appointments,
        "waitlist": [
            {
                "key": f"wl-w{i}",
                "customer": f"w{i}",
                "services": ["visit"],
                "lead_time_minutes": 60,
                "added_at": (AT - dt.timedelta(days=i)).isoformat(),
            }
            for i in range(1, waitlisted + 1)
        ],
    }


def load(conn: psycopg.Connection[Any], holders: int, waitlisted: int = 0) -> None:
    import_practice(conn, practice(holders, waitlisted))
    conn.execute(
        "update slotoptim_private.organisation_settings set score_threshold = 0, max_offers_per_day = 50,"
        " max_offers_per_week = 50"
    )


def appointment_id(conn: psycopg.Connection[Any], key: str) -> int:
    row = conn.execute("select id from slotoptim_private.appointment where key = %s", (key,)).fetchone()
    assert row is not None, key
    return int(row["id"])


def enrol(conn: psycopg.Connection[Any], holder: str, **prefs: Any) -> int:
    days = prefs.get("preferred_days")
    row = conn.execute(
        "select slotoptim.enrol_moveup(%s, %s, preferred_days => %s::smallint[]) as id",
        (appointment_id(conn, f"a-{holder}"), AT, days),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def cancel_first(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "select * from slotoptim.cancel_appointment(%s, %s)", (appointment_id(conn, "a-z"), AT)
    ).fetchone()
    assert row is not None
    return int(row["cancel_appointment"])


def broadcast(conn: psycopg.Connection[Any], gap_id: int) -> list[dict[str, Any]]:
    """Offers the gap to everyone who qualifies at once; returns the open offers."""
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap_id, AT))
    return [
        dict(r)
        for r in conn.execute(
            "select o.id, o.customer_id, c.key as customer_key, w.moveup_appointment_id"
            "  from slotoptim_private.offer as o"
            "  join slotoptim_private.customer as c on c.id = o.customer_id"
            "  join slotoptim_private.waitlist_entry as w on w.id = o.waitlist_entry_id"
            " where o.gap_id = %s and o.status = 'open' order by o.id",
            (gap_id,),
        ).fetchall()
    ]


def freed_gap(conn: psycopg.Connection[Any], gap_id: int) -> int | None:
    """The open gap the move into ``gap_id`` freed, if a move-up claimed it."""
    row = conn.execute(
        "select g.id from slotoptim_private.moveup_move as m"
        "  join slotoptim_private.gap as g on g.source_appointment_id = m.from_appointment_id"
        " where m.gap_id = %s and g.status = 'open'",
        (gap_id,),
    ).fetchone()
    return None if row is None else int(row["id"])


def active_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Active appointments per customer key (customers without any count 0)."""
    rows = conn.execute(
        "select c.key, count(a.id) filter (where a.status = any(%s)) as n"
        "  from slotoptim_private.customer as c"
        "  left join slotoptim_private.appointment as a on a.customer_id = c.id"
        " group by c.key",
        (list(ACTIVE),),
    ).fetchall()
    return {str(r["key"]): int(r["n"]) for r in rows}
