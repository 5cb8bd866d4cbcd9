"""`slotoptim gaps`: the gaps of one provider in a window, from slotoptim.gaps()."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from slotoptim.listener.db import fetch_dict, fetch_dicts


def provider_timezone(conn: psycopg.Connection[Any], provider_key: str) -> ZoneInfo:
    """The provider's time zone (raises the database's 'unknown provider' error for a bad key)."""
    tz_row = fetch_dict(
        conn,
        "select p.timezone from slotoptim_private.provider p where p.id = slotoptim_private.resolve_provider(%s)",
        (provider_key,),
    )
    assert tz_row is not None
    return ZoneInfo(str(tz_row["timezone"]))


def local_day(tz: ZoneInfo, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Midnight to midnight of a calendar day in the zone (23 or 25 hours on DST days)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return start, end


def provider_gaps(
    conn: psycopg.Connection[Any], provider_key: str, start: dt.datetime, end: dt.datetime, *, utc: bool = False
) -> list[dict[str, Any]]:
    """Each gap as {provider, start, end, minutes, kind, fits}, times in the provider's zone (what a
    person at the practice reads), or in UTC with `Z` like the API (``utc``)."""
    tz: dt.tzinfo = dt.UTC if utc else provider_timezone(conn, provider_key)
    # starts_at/ends_at rather than the range: nothing to take apart, and two instants are cheaper
    # to read than a tstzrange.
    rows = fetch_dicts(
        conn,
        "select provider_key, starts_at, ends_at, kind, fits from slotoptim.gaps(%s, tstzrange(%s, %s, '[)'))",
        (provider_key, start, end),
    )
    out = []
    for record in rows:
        starts: dt.datetime = record["starts_at"]
        ends: dt.datetime = record["ends_at"]
        out.append(
            {
                "provider": record["provider_key"],
                "start": _iso(starts.astimezone(tz)),
                "end": _iso(ends.astimezone(tz)),
                "minutes": int((ends - starts).total_seconds() // 60),
                "kind": record["kind"],
                "fits": list(record["fits"]),
            }
        )
    return out


def _iso(value: dt.datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") and value.tzinfo is dt.UTC else text
