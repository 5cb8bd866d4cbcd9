"""A same-day cancellation: the 16:00 appointment cancelled at 12:30 merges with the free time
since now, and its candidates' slots respect their lead time, window and the slot grid."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from slotoptim.listener.practice.importer import import_practice

TZ = ZoneInfo("America/New_York")
DAY = dt.date(2026, 11, 24)  # a Tuesday


def local(hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute, second, micro), TZ)


# The clock when the 16:00 appointment is cancelled: not on any grid.
CANCELLED_AT = local(12, 31, 1, 826949)


def practice() -> dict[str, Any]:
    appointment = {"provider": "dr-day", "service": "visit", "customer": "c0"}
    return {
        "format": "slotoptim.practice/1",
        "organisation": {"key": "dayco", "name": "Day Clinic", "timezone": "America/New_York"},
        "services": [{"key": "visit", "name": "Visit", "minutes": 30, "price": 90, "buffer_after_minutes": 0}],
        "providers": [
            {
                "key": "dr-day",
                "name": "Dr. Day",
                "timezone": "America/New_York",
                "services": ["visit"],
                "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}],
            }
        ],
        "customers": [
            {"key": f"c{i}", "name": f"Customer {i}", "phone": f"+1617555{i:04d}", "consent": {"sms": True}}
            for i in range(4)
        ],
        "appointments": [
            {**appointment, "key": "morning", "start": local(8).isoformat(), "end": local(12).isoformat()},
            {**appointment, "key": "at-four", "start": local(16).isoformat(), "end": local(16, 30).isoformat()},
            {**appointment, "key": "late", "start": local(16, 30).isoformat(), "end": local(18).isoformat()},
        ],
        "waitlist": [
            # No window, the default two hours' notice: the slot starts at 14:35 (grid after 14:31:01).
            {"key": "w1", "customer": "c1", "services": ["visit"]},
            # A window from 15:00 and an hour's notice: 15:00.
            {
                "key": "w2",
                "customer": "c2",
                "services": ["visit"],
                "window": {"start": "15:00", "end": "17:00"},
                "lead_time_minutes": 60,
            },
            # No notice needed: the first grid instant after now, flush with the free time before.
            {"key": "w3", "customer": "c3", "services": ["visit"], "lead_time_minutes": 0},
        ],
    }


def test_gap_opened_now_gets_candidates_and_offers(conn: psycopg.Connection[Any]) -> None:
    import_practice(conn, practice())
    gap = conn.execute(
        "select * from slotoptim.cancel_appointment("
        "(select id from slotoptim_private.appointment where key = 'at-four'), %s)",
        (CANCELLED_AT,),
    ).fetchone()
    assert gap is not None
    gap_id = int(gap["cancel_appointment"])
    during = conn.execute("select during from slotoptim_private.gap where id = %s", (gap_id,)).fetchone()
    assert during is not None
    assert (during["during"].lower, during["during"].upper) == (CANCELLED_AT, local(16, 30)), "merged since now"

    rows = conn.execute("select * from slotoptim.candidates(%s, %s)", (gap_id, CANCELLED_AT)).fetchall()
    slots = {r["entry_key"]: (r["slot"].lower, r["slot"].upper) for r in rows}
    assert slots == {
        "w1": (local(14, 35), local(15, 5)),
        "w2": (local(15), local(15, 30)),
        "w3": (local(12, 35), local(13, 5)),
    }

    conn.execute("select * from slotoptim.tick(%s)", (CANCELLED_AT,))
    offered = conn.execute(
        "select o.slot, w.key from slotoptim_private.offer as o"
        " join slotoptim_private.waitlist_entry as w on w.id = o.waitlist_entry_id order by w.key"
    ).fetchall()
    assert offered, "the same-day gap is offered, not released"
    campaign = conn.execute("select status from slotoptim_private.offer_campaign").fetchone()
    assert campaign is not None and campaign["status"] == "running"
