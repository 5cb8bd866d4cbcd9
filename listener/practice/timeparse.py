"""Parsing the times and dates of a practice file, with errors that name the field."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slotoptim.listener.limits import EARLIEST_INSTANT, LATEST_INSTANT, instant_problem, zone_problem
from slotoptim.listener.practice.errors import PracticeError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def instant(value: str, where: str) -> dt.datetime:
    """An ISO 8601 date-time that must carry a UTC offset (a bare local time is ambiguous)."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise PracticeError(where, f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise PracticeError(where, f"{value!r} has no UTC offset (write e.g. 2026-11-24T09:00:00-05:00)")
    try:
        problem = instant_problem(parsed)
    except OverflowError:  # an offset pushed it past year 9999
        problem = "must lie between 1900-01-01 and 2200-01-01 (UTC)"
    if problem is not None:
        raise PracticeError(where, f"{value!r} {problem}")
    return parsed


def day(value: str, where: str) -> dt.date:
    try:
        parsed = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise PracticeError(where, f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not EARLIEST_INSTANT.date() <= parsed <= LATEST_INSTANT.date():
        raise PracticeError(where, f"{value!r} must lie between 1900-01-01 and 2200-01-01")
    return parsed


def clock(value: str, where: str) -> dt.time | str:
    """HH:MM; '24:00' (end of day) is returned as the string PostgreSQL's time type accepts."""
    if value == "24:00":
        return "24:00"
    try:
        return dt.time.fromisoformat(value)
    except (TypeError, ValueError):
        raise PracticeError(where, f"{value!r} is not a time of day (HH:MM)") from None


def minutes_of(value: dt.time | str) -> int:
    if isinstance(value, str):
        return 24 * 60
    return value.hour * 60 + value.minute


def zone(value: str, where: str) -> ZoneInfo:
    problem = zone_problem(value)
    if problem is not None:
        raise PracticeError(where, problem)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PracticeError(
            where, f"{value!r} is not a known time zone (use an IANA name such as America/New_York)"
        ) from None


def weekday_number(name: str) -> int:
    """ISO weekday: mon = 1 .. sun = 7."""
    return WEEKDAYS.index(name) + 1


def whole_day(date: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants bounding a local calendar day (23 or 25 hours long on DST days)."""
    start = dt.datetime.combine(date, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return start, end
