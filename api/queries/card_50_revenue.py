"""Dashboard card "Revenue recovered": this week's and this month's totals and a bar per day of the
month (slotoptim.revenue_recovered), in one query."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from slotoptim.api.db import Conn
from slotoptim.api.queries.claim_page import money
from slotoptim.api.queries.dashboard import ORG_KEY, Context


@dataclass(frozen=True)
class Bar:
    label: str
    amount: float
    text: str


@dataclass(frozen=True)
class Revenue:
    week: str
    month: str
    month_name: str
    days: list[Bar]
    most: float  # the tallest bar's amount (at least 1, so an empty month draws flat)


def load(conn: Conn, ctx: Context) -> Revenue:
    today = ctx.today
    week_start = today - dt.timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    month_end = month_start.replace(day=calendar.monthrange(today.year, today.month)[1])
    by_day: dict[dt.date, Decimal] = {
        r["day"]: r["revenue"] or Decimal(0)
        for r in conn.execute(
            "select day, sum(revenue) as revenue from slotoptim.revenue_recovered where org_key = " + ORG_KEY + ""
            " and day between %s and %s group by day",
            (min(week_start, month_start), month_end),
        ).fetchall()
    }
    week = sum((v for d, v in by_day.items() if week_start <= d <= week_start + dt.timedelta(days=6)), Decimal(0))
    month = sum((v for d, v in by_day.items() if month_start <= d <= month_end), Decimal(0))
    days = [month_start + dt.timedelta(days=i) for i in range(month_end.day)]
    bars = [Bar(str(d.day), float(by_day.get(d, 0)), money(by_day.get(d, Decimal(0)), ctx.currency)) for d in days]
    return Revenue(
        week=money(week, ctx.currency),
        month=money(month, ctx.currency),
        month_name=f"{today:%B %Y}",
        days=bars,
        most=max([b.amount for b in bars] + [1.0]),
    )
