"""Dashboard card "Weekly trend": fill rate (slotoptim.fill_kpis) and revenue recovered
(slotoptim.revenue_recovered) per ISO week, the last TREND_WEEKS weeks up to this one. One query.

Bars are CSS widths in steps of 5 % (classes w0..w20 in api/static/dashboard.css): the page's
strict CSP allows no style attributes, and a table with numbers stays the accessible reading.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from slotoptim.api.db import Conn
from slotoptim.api.queries.claim_page import money
from slotoptim.api.queries.dashboard import ORG_KEY, Context

TREND_WEEKS = 8
BAR_STEPS = 20

_QUERY = (
    """
with weeks as (
  select w::date as week from generate_series(%(first)s::date, %(last)s::date, interval '7 days') as w
), fill as (
  select k.day - (extract(isodow from k.day)::int - 1) as week,
         sum(k.gaps_opened)::int as opened, sum(k.gaps_filled)::int as filled
    from slotoptim.fill_kpis as k
   where k.org_key = """
    + ORG_KEY
    + """ and k.day >= %(first)s and k.day < %(end)s
   group by 1
), revenue as (
  select r.day - (extract(isodow from r.day)::int - 1) as week, sum(r.revenue) as revenue
    from slotoptim.revenue_recovered as r
   where r.org_key = """
    + ORG_KEY
    + """ and r.day >= %(first)s and r.day < %(end)s
   group by 1
)
select w.week, coalesce(f.opened, 0) as opened, coalesce(f.filled, 0) as filled,
       coalesce(r.revenue, 0) as revenue
  from weeks as w left join fill as f using (week) left join revenue as r using (week)
 order by w.week
"""
)


@dataclass(frozen=True)
class Week:
    label: str  # "Nov 16"
    current: bool  # this week, still running
    opened: int
    filled: int
    fill_rate: str
    fill_step: int  # 0..BAR_STEPS
    revenue: str
    revenue_step: int  # 0..BAR_STEPS, against the best week shown


@dataclass(frozen=True)
class Trend:
    weeks: list[Week]
    first: str
    last: str


def _step(share: float) -> int:
    return max(0, min(BAR_STEPS, round(share * BAR_STEPS)))


def load(conn: Conn, ctx: Context) -> Trend:
    this_week = ctx.today - dt.timedelta(days=ctx.today.weekday())
    first = this_week - dt.timedelta(weeks=TREND_WEEKS - 1)
    rows = conn.execute(_QUERY, {"first": first, "last": this_week, "end": this_week + dt.timedelta(days=7)}).fetchall()
    best = max([Decimal(r["revenue"]) for r in rows] + [Decimal(0)])
    weeks = []
    for r in rows:
        opened, filled, revenue = int(r["opened"]), int(r["filled"]), Decimal(r["revenue"])
        week: dt.date = r["week"]
        weeks.append(
            Week(
                label=f"{week:%b} {week.day}",
                current=week == this_week,
                opened=opened,
                filled=filled,
                fill_rate="–" if opened == 0 else f"{round(100 * filled / opened)}%",
                fill_step=0 if opened == 0 else _step(filled / opened),
                revenue=money(revenue, ctx.currency),
                revenue_step=0 if best == 0 else _step(float(revenue / best)),
            )
        )
    return Trend(weeks=weeks, first=f"{first:%b} {first.day}", last=f"{this_week:%b} {this_week.day}")
