"""Weekly hours have one shape everywhere (practice files, the API, exports):
`{"days": ["mon", ...], "start": "HH:MM", "end": "HH:MM"}`, local wall-clock time of the provider.

Rows of working_hours (one weekday each) are grouped by their span, in weekday order of each span's
first day, so Monday to Friday 09:00-17:00 is one entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def group_hours(rows: Iterable[tuple[int, str, str]]) -> list[dict[str, Any]]:
    """(ISO weekday 1-7, start HH:MM, end HH:MM) rows -> entries of the one shape."""
    groups: dict[tuple[str, str], list[int]] = {}
    for weekday, start, end in sorted(rows, key=lambda r: (r[0], r[1])):
        groups.setdefault((start, end), []).append(weekday)
    entries = [
        {"days": [WEEKDAYS[d - 1] for d in days], "start": start, "end": end} for (start, end), days in groups.items()
    ]
    return sorted(entries, key=lambda e: (WEEKDAYS.index(e["days"][0]), e["start"]))
