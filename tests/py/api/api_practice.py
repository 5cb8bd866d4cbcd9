"""Two small practices for the API tests, with the same provider and service keys, so a key that
resolves in one organisation must never reach the other's rows.

Tuesday 2026-11-24, America/New_York. The API's clock stands at 08:00 local that day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/New_York")
DAY = dt.date(2026, 11, 24)
NOW = dt.datetime(2026, 11, 24, 8, 0, tzinfo=TZ)
SLOT = dt.datetime(2026, 11, 24, 14, 0, tzinfo=TZ)  # the appointment tests cancel
SHARED_PHONE = "+16175550999"  # a customer of both practices


def local(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def practice(org_key: str, phone_block: int, waitlisted: int = 6) -> dict[str, Any]:
    customers = [
        {
            "key": f"c{i}",
            "name": f"Customer {i}",
            "phone": f"+1617{phone_block:03d}{i:04d}",
            "email": f"c{i}@{org_key}.example",
            "consent": {"sms": True, "whatsapp": False, "email": True},
        }
        for i in range(waitlisted + 1)
    ]
    customers.append(
        {"key": "shared", "name": "Shared Phone", "phone": SHARED_PHONE, "consent": {"sms": True}},
    )
    return {
        "format": "slotoptim.practice/1",
        "organisation": {"key": org_key, "name": f"{org_key.title()} Clinic", "timezone": "America/New_York"},
        "services": [
            {"key": "short", "name": "Short visit", "minutes": 30, "price": 100, "buffer_after_minutes": 0},
            {"key": "long", "name": "Long visit", "minutes": 60, "price": 250, "buffer_after_minutes": 10},
        ],
        "providers": [
            {
                "key": "dr-a",
                "name": "Dr. A",
                "timezone": "America/New_York",
                "services": ["short", "long"],
                "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}],
            },
            {
                "key": "dr-b",
                "name": "Dr. B",
                "timezone": "America/New_York",
                "services": ["short"],
                "hours": [{"days": ["mon", "wed", "fri"], "start": "09:00", "end": "13:00"}],
            },
        ],
        "customers": customers,
        "appointments": [
            {
                "key": "to-cancel",
                "provider": "dr-a",
                "service": "short",
                "customer": "c0",
                "start": SLOT.isoformat(),
            },
            {
                "key": "before",
                "provider": "dr-a",
                "service": "short",
                "customer": "c0",
                "start": (SLOT - dt.timedelta(minutes=30)).isoformat(),
            },
            {
                "key": "after",
                "provider": "dr-a",
                "service": "short",
                "customer": "c0",
                "start": (SLOT + dt.timedelta(minutes=30)).isoformat(),
            },
        ],
        "waitlist": [
            {
                "key": f"w{i}",
                "customer": f"c{i}",
                "services": ["short"],
                "lead_time_minutes": 60,
                "added_at": (NOW - dt.timedelta(days=i)).isoformat(),
            }
            for i in range(1, waitlisted + 1)
        ],
    }
