"""A small practice for the queue tests: one location ("main"), Dr. A (appointments every 20
minutes from 09:00) and Dr. B, both at main, on Tuesday 2026-11-24 in America/New_York.
Priority flags: urgent (100 points) and elderly (40)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from slotoptim.listener.practice.importer import import_practice

TZ = ZoneInfo("America/New_York")
DAY = dt.date(2026, 11, 24)
SLOT_MINUTES = 20
BOOKED = 8


def local(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def document(org_key: str = "acme", phone_block: int = 700) -> dict[str, Any]:
    customers = [
        {
            "key": f"c{i}",
            "name": f"Name{i} Family{i}",
            "phone": f"+1617{phone_block:03d}{i:04d}",
            "consent": {"sms": True},
        }
        for i in range(BOOKED)
    ]
    return {
        "format": "slotoptim.practice/1",
        "organisation": {"key": org_key, "name": f"{org_key.title()} Clinic", "timezone": "America/New_York"},
        "locations": [{"key": "main", "name": "Main street", "timezone": "America/New_York"}],
        "services": [
            {"key": "visit", "name": "Visit", "minutes": SLOT_MINUTES, "price": 100},
        ],
        "providers": [
            {
                "key": key,
                "name": name,
                "timezone": "America/New_York",
                "location": "main",
                "services": ["visit"],
                "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}],
            }
            for key, name in (("dr-a", "Dr. A"), ("dr-b", "Dr. B"))
        ],
        "customers": customers,
        "appointments": [
            {
                "key": f"a{i}",
                "provider": "dr-a",
                "service": "visit",
                "customer": f"c{i}",
                "start": (local(9) + dt.timedelta(minutes=SLOT_MINUTES * i)).isoformat(),
            }
            for i in range(BOOKED)
        ],
    }


def load(conn: psycopg.Connection[Any], org_key: str = "acme", phone_block: int = 700) -> int:
    import_practice(conn, document(org_key, phone_block))
    org_id = int(conn.execute("select id from slotoptim_private.organisation where key = %s", (org_key,)).fetchone()[0])
    conn.execute(
        "insert into slotoptim_private.queue_flag (org_id, key, label, points) values"
        " (%s, 'urgent', 'Urgent', 100), (%s, 'elderly', 'Elderly', 40)",
        (org_id, org_id),
    )
    return org_id


def ids(conn: psycopg.Connection[Any], org_id: int) -> dict[str, int]:
    """Provider, location, appointment and service ids by key."""
    found: dict[str, int] = {}
    for table in ("provider", "location", "appointment", "service"):
        for key, id_ in conn.execute(
            f"select key, id from slotoptim_private.{table} where org_id = %s",
            (org_id,),
        ).fetchall():
            found[str(key)] = int(id_)
    return found
