"""KPIs of a period from slotoptim.fill_kpis, revenue_recovered and offer_funnel_daily."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from psycopg import sql

from slotoptim.api.db import Conn
from slotoptim.api.schemas.kpis import Funnel, KpiDay, Kpis, Revenue

ORG_KEY = "(select o.key from slotoptim_private.organisation as o where o.id = slotoptim_private.current_org())"
FUNNEL_COLUMNS = tuple(Funnel.__struct_fields__)


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 3)


def local_today(conn: Conn, now: dt.datetime) -> dt.date:
    """Today in the organisation's time zone (a UTC date is tomorrow on an American evening)."""
    row = conn.execute(
        "select (%s::timestamptz at time zone o.timezone)::date as today"
        " from slotoptim_private.organisation as o where o.id = slotoptim_private.current_org()",
        (now,),
    ).fetchone()
    assert row is not None
    today: dt.date = row["today"]
    return today


def kpis(conn: Conn, start: dt.date, end: dt.date) -> Kpis:
    window = {"from": start, "to": end}
    # The four reads go out together (a pipeline inside the request's transaction): one round trip.
    with conn.pipeline():
        fill = conn.execute(
            "select day, gaps_opened, gaps_filled, median_minutes_to_fill::float8 as median"
            " from slotoptim.fill_kpis where org_key = " + ORG_KEY + " and day between %(from)s and %(to)s",
            window,
        )
        revenues = conn.execute(
            "select day, sum(revenue)::float8 as revenue, sum(appointments)::integer as appointments"
            " from slotoptim.revenue_recovered where org_key = " + ORG_KEY + " and day between %(from)s and %(to)s"
            " group by day",
            window,
        )
        funnel = conn.execute(
            sql.SQL(
                "select {} from slotoptim.offer_funnel_daily where org_key = {} and day between %(from)s and %(to)s"
            ).format(
                sql.SQL(", ").join(
                    sql.SQL("coalesce(sum({0}), 0)::integer as {0}").format(sql.Identifier(c)) for c in FUNNEL_COLUMNS
                ),
                sql.SQL(ORG_KEY),
            ),
            window,
        )
        currencies = conn.execute(
            "select currency from slotoptim_private.organisation where id = slotoptim_private.current_org()"
        )
    fill_rows, revenue_rows = fill.fetchall(), revenues.fetchall()
    funnel_row, currency = funnel.fetchone(), currencies.fetchone()
    assert funnel_row is not None and currency is not None

    opened: dict[dt.date, int] = defaultdict(int)
    filled: dict[dt.date, int] = defaultdict(int)
    weighted_minutes: dict[dt.date, float] = defaultdict(float)
    for r in fill_rows:
        opened[r["day"]] += r["gaps_opened"]
        filled[r["day"]] += r["gaps_filled"]
        if r["median"] is not None:
            weighted_minutes[r["day"]] += r["median"] * r["gaps_filled"]
    revenue = {r["day"]: r["revenue"] or 0.0 for r in revenue_rows}
    days = sorted(set(opened) | set(revenue))
    total_opened, total_filled = sum(opened.values()), sum(filled.values())
    return Kpis(
        from_=start,
        to=end,
        gaps_opened=total_opened,
        gaps_filled=total_filled,
        fill_rate=_ratio(total_filled, total_opened),
        minutes_to_fill=_ratio(sum(weighted_minutes.values()), total_filled),
        revenue_recovered=Revenue(
            amount=round(sum(revenue.values()), 2),
            currency=str(currency["currency"]),
            appointments=sum(int(r["appointments"]) for r in revenue_rows),
        ),
        funnel=Funnel(**funnel_row),
        days=[
            KpiDay(
                day=d,
                gaps_opened=opened[d],
                gaps_filled=filled[d],
                fill_rate=_ratio(filled[d], opened[d]),
                median_minutes_to_fill=_ratio(weighted_minutes[d], filled[d]),
                revenue_recovered=round(revenue.get(d, 0.0), 2),
            )
            for d in days
        ],
    )
