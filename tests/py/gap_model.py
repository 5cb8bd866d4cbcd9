"""An independent Python model of slotoptim.gaps, written from the definition, not the SQL:
working time = weekly hours (local wall clock per date) minus closures; free = working minus
[start, end + buffer) of blocking appointments; gaps = maximal free intervals clipped to the window.

Local times that a DST change makes ambiguous are read with the later (standard-time) offset and
times that do not exist with the offset before the change, which is what PostgreSQL does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

Interval = tuple[dt.datetime, dt.datetime]
UTC = dt.UTC


@dataclass(frozen=True)
class Hours:
    weekday: int  # ISO 1..7
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class Service:
    key: str
    minutes: int
    buffer: int


def to_instant(local: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    early = local.replace(tzinfo=tz, fold=0)
    late = local.replace(tzinfo=tz, fold=1)
    if early.utcoffset() == late.utcoffset():
        return early.astimezone(UTC)

    def round_trips(x: dt.datetime) -> bool:
        return x.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local

    ambiguous = round_trips(early) and round_trips(late)
    return (late if ambiguous else early).astimezone(UTC)


def normalise(intervals: list[Interval]) -> list[Interval]:
    """Sorted, merged (touching intervals join), empty ones dropped."""
    out: list[Interval] = []
    for a, b in sorted(i for i in intervals if i[0] < i[1]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def subtract(base: list[Interval], cut: list[Interval]) -> list[Interval]:
    result: list[Interval] = []
    for a, b in base:
        pieces = [(a, b)]
        for c, d in cut:
            nxt: list[Interval] = []
            for x, y in pieces:
                if d <= x or c >= y:
                    nxt.append((x, y))
                    continue
                if x < c:
                    nxt.append((x, c))
                if d < y:
                    nxt.append((d, y))
            pieces = nxt
        result.extend(pieces)
    return normalise(result)


def working_time(hours: list[Hours], tz: ZoneInfo, window: Interval) -> list[Interval]:
    first = window[0].astimezone(tz).date() - dt.timedelta(days=1)
    last = window[1].astimezone(tz).date() + dt.timedelta(days=1)
    spans: list[Interval] = []
    day = first
    while day <= last:
        for h in hours:
            if h.weekday == day.isoweekday():
                a = to_instant(dt.datetime.combine(day, h.start), tz)
                b = to_instant(dt.datetime.combine(day, h.end), tz)
                spans.append((a, max(a, b)))
        day += dt.timedelta(days=1)
    clipped = [(max(a, window[0]), min(b, window[1])) for a, b in normalise(spans)]
    return normalise(clipped)


def gaps(
    hours: list[Hours],
    tz: ZoneInfo,
    window: Interval,
    closures: list[Interval],
    blocks: list[Interval],
    services: list[Service],
) -> list[tuple[Interval, str, list[str]]]:
    free = subtract(subtract(working_time(hours, tz, window), normalise(closures)), normalise(blocks))
    out = []
    for a, b in free:
        length = (b - a).total_seconds() / 60
        fits = sorted(s.key for s in services if s.minutes + s.buffer <= length)
        out.append(((a, b), "bookable" if fits else "fragment", fits))
    return out
