"""Dashboard card "Demand by weekday and hour": per ISO weekday and local hour, the booked share of
the providers' working time and the number of cancellations, over the four weeks before today and
the two weeks after (what is on the books). One query.

The colour scale fits the data shown: its bands divide the range between the lowest and the highest
share on the map (not a fixed 0-100 %), so a practice booked between 60 % and 90 % still sees where
it is busiest; the legend prints the bands' bounds.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slotoptim.api.db import Conn
from slotoptim.api.queries.dashboard import Context

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HEATMAP_DAYS_BEFORE = 28
HEATMAP_DAYS_AFTER = 14
MAX_BANDS = 4  # colour steps l1..l4 in api/static/dashboard.css (l0: no working time)

_HEATMAP = """
with days as (
  select d::date as day from generate_series(%(start)s::date, %(end)s::date - 1, interval '1 day') as d
), capacity as (
  select extract(isodow from d.day)::int as weekday, h.hour,
         sum(greatest(0, least(extract(epoch from wh.ends_at), (h.hour + 1) * 3600)
                         - greatest(extract(epoch from wh.starts_at), h.hour * 3600)) / 60) as minutes
    from slotoptim_private.working_hours as wh
    join days as d on extract(isodow from d.day) = wh.weekday
    cross join generate_series(0, 23) as h(hour)
   where wh.org_id = slotoptim_private.current_org()
   group by 1, 2
), local_appointments as (
  select a.status, lower(a.period) at time zone p.timezone as starts, upper(a.period) at time zone p.timezone as ends
    from slotoptim_private.appointment as a
    join slotoptim_private.provider as p on p.id = a.provider_id
   where a.org_id = slotoptim_private.current_org()
     and a.period && tstzrange(%(start_at)s, %(end_at)s)
), booked as (
  select extract(isodow from b.hour_start)::int as weekday, extract(hour from b.hour_start)::int as hour,
         sum(extract(epoch from least(la.ends, b.hour_start + interval '1 hour') - greatest(la.starts, b.hour_start))
             / 60) as minutes
    from local_appointments as la
    cross join lateral generate_series(date_trunc('hour', la.starts), la.ends - interval '1 microsecond',
                                       interval '1 hour') as b(hour_start)
   where la.status <> 'cancelled'
   group by 1, 2
), cancelled as (
  select extract(isodow from la.starts)::int as weekday, extract(hour from la.starts)::int as hour,
         count(*)::int as n
    from local_appointments as la
   where la.status = 'cancelled'
   group by 1, 2
)
select k.weekday, k.hour, coalesce(c.minutes, 0)::float8 as capacity, coalesce(b.minutes, 0)::float8 as booked,
       coalesce(x.n, 0) as cancellations
  from (select weekday, hour from capacity where minutes > 0
        union select weekday, hour from booked union select weekday, hour from cancelled) as k
  left join capacity as c using (weekday, hour)
  left join booked as b using (weekday, hour)
  left join cancelled as x using (weekday, hour)
 order by 1, 2
"""


@dataclass(frozen=True)
class Cell:
    share: float | None  # booked share of working time; None: no working time
    cancellations: int
    text: str
    level: int  # 0 (no working time) or 1..4, the colour step


@dataclass(frozen=True)
class Band:
    level: int
    text: str  # "12% to 31%"


@dataclass(frozen=True)
class Scale:
    """Bands of equal width between the lowest and highest whole percent shown."""

    low: int
    high: int
    count: int

    @staticmethod
    def fitting(shares: list[float]) -> Scale:
        if not shares:
            return Scale(0, 0, 1)
        low, high = math.floor(min(shares) * 100), math.ceil(max(shares) * 100)
        return Scale(low, high, max(1, min(MAX_BANDS, high - low)))

    def level_of_band(self, band: int) -> int:
        # Spread the bands over the colour steps so a two-band map still shows light and dark.
        return 2 if self.count == 1 else 1 + round(band * (MAX_BANDS - 1) / (self.count - 1))

    def band(self, share: float) -> int:
        if self.high == self.low:
            return 0
        width = (self.high - self.low) / self.count
        return max(0, min(self.count - 1, int((share * 100 - self.low) / width)))

    def level(self, share: float | None) -> int:
        return 0 if share is None else self.level_of_band(self.band(share))

    def bands(self) -> list[Band]:
        if self.high == self.low:
            return [Band(self.level_of_band(0), f"{self.low}% (every hour shown)")]
        width = (self.high - self.low) / self.count
        bounds = [round(self.low + i * width) for i in range(self.count + 1)]
        return [Band(self.level_of_band(i), f"{bounds[i]}% to {bounds[i + 1]}%") for i in range(self.count)]


@dataclass(frozen=True)
class Heatmap:
    hours: list[int]
    rows: list[tuple[str, list[Cell]]]
    legend: list[Band]
    first: str
    last: str


def grid(
    conn: Conn, start: dt.date, end: dt.date, tz: ZoneInfo
) -> tuple[list[int], list[tuple[str, list[Cell]]], list[Band]]:
    rows = conn.execute(
        _HEATMAP,
        {
            "start": start,
            "end": end,
            "start_at": dt.datetime.combine(start, dt.time(), tz),
            "end_at": dt.datetime.combine(end, dt.time(), tz),
        },
    ).fetchall()
    if not rows:
        return [], [], []
    values = {(int(r["weekday"]), int(r["hour"])): r for r in rows}
    hours = list(range(min(h for _, h in values), max(h for _, h in values) + 1))
    shares: dict[tuple[int, int], float] = {
        k: min(1.0, float(r["booked"]) / float(r["capacity"])) for k, r in values.items() if float(r["capacity"]) > 0
    }
    scale = Scale.fitting(list(shares.values()))
    table: list[tuple[str, list[Cell]]] = []
    for weekday in range(1, 8):
        cells = []
        for hour in hours:
            share = shares.get((weekday, hour))
            r = values.get((weekday, hour))
            cancellations = 0 if r is None else int(r["cancellations"])
            text = "–" if share is None else f"{round(share * 100)}%"
            if cancellations:
                text += f" · {cancellations}✕"
            cells.append(Cell(share, cancellations, text, scale.level(share)))
        table.append((WEEKDAYS[weekday - 1], cells))
    return hours, table, scale.bands()


def load(conn: Conn, ctx: Context) -> Heatmap:
    start = ctx.today - dt.timedelta(days=HEATMAP_DAYS_BEFORE)
    end = ctx.today + dt.timedelta(days=HEATMAP_DAYS_AFTER)
    hours, rows, legend = grid(conn, start, end, ctx.tz)
    last = end - dt.timedelta(days=1)
    return Heatmap(hours, rows, legend, f"{start:%b} {start.day}", f"{last:%b} {last.day}")
