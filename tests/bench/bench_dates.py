"""Benchmark dates relative to the clock: a fixed date falls in the past one day, and a slot in the
past silently drops out of what the engine offers (a benchmark then measures timeouts)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")


def monday_ahead(weeks: int = 2, today: dt.date | None = None) -> dt.date:
    """The Monday at least `weeks` weeks after today (a whole working week lies ahead of it)."""
    base = (today or dt.date.today()) + dt.timedelta(weeks=weeks)
    return base + dt.timedelta(days=(7 - base.weekday()) % 7)


def slot_start(weeks: int = 2) -> dt.datetime:
    """14:00 New York on the Tuesday after monday_ahead(weeks): the fill practice's appointment."""
    return dt.datetime.combine(monday_ahead(weeks) + dt.timedelta(days=1), dt.time(14), tzinfo=NEW_YORK)
