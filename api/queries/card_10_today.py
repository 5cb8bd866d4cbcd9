"""Dashboard card "Filling today": today's fill rate and minutes to fill (slotoptim.fill_kpis),
and what is open right now (gaps, offers), in one query. On a day with nothing freed yet it also
names the latest other day of this week or before that had freed gaps, and how it went (after
`make run` that is the demo's simulated Tuesday)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from slotoptim.api.db import Conn
from slotoptim.api.queries.dashboard import ORG_KEY, Context


@dataclass(frozen=True)
class Today:
    fill_rate: str
    gaps_filled: int
    gaps_opened: int
    minutes_to_fill: str
    open_gaps: int
    live_offers: int
    # When nothing was freed today: the latest other day (this week or before) that had some.
    last_day: str | None = None


def load(conn: Conn, ctx: Context) -> Today:
    row = conn.execute(
        "with days as ("
        "  select k.day, sum(k.gaps_opened)::int as opened, sum(k.gaps_filled)::int as filled,"
        "         sum(k.median_minutes_to_fill * k.gaps_filled)::float8 as weighted"
        "    from slotoptim.fill_kpis as k where k.org_key = " + ORG_KEY + " and k.day <= %(week_end)s"
        "   group by k.day)"
        " select"
        " (select coalesce(d.opened, 0) from days as d where d.day = %(today)s) as opened,"
        " (select coalesce(d.filled, 0) from days as d where d.day = %(today)s) as filled,"
        " (select d.weighted from days as d where d.day = %(today)s) as weighted,"
        " (select to_jsonb(d) from days as d where d.day <> %(today)s and d.opened > 0"
        "   order by d.day desc limit 1) as last_day,"
        " (select count(*)::int from slotoptim_private.gap as g where g.org_id = slotoptim_private.current_org()"
        "   and g.status in ('open', 'offering') and g.kind = 'bookable' and upper(g.during) > %(now)s) as open_gaps,"
        " (select count(*)::int from slotoptim_private.offer as o where o.org_id = slotoptim_private.current_org()"
        "   and o.status = 'open') as live_offers",
        {"today": ctx.today, "now": ctx.now, "week_end": ctx.today + dt.timedelta(days=6 - ctx.today.weekday())},
    ).fetchone()
    assert row is not None
    opened, filled = int(row["opened"] or 0), int(row["filled"] or 0)
    last_day = None
    if opened == 0 and row["last_day"] is not None:
        last = row["last_day"]
        day = dt.date.fromisoformat(str(last["day"]))
        minutes = (
            ""
            if not last["filled"] or last["weighted"] is None
            else f", {last['weighted'] / last['filled']:.0f} min to fill (median)"
        )
        last_day = (
            f"Nothing freed today yet. {day:%A, %B} {day.day}: {last['filled']} of {last['opened']} freed gaps"
            f" filled ({round(100 * last['filled'] / last['opened'])}%){minutes}."
        )
    return Today(
        fill_rate="–" if opened == 0 else f"{round(100 * filled / opened)}%",
        gaps_filled=filled,
        gaps_opened=opened,
        minutes_to_fill="–" if not filled or row["weighted"] is None else f"{row['weighted'] / filled:.0f}",
        open_gaps=int(row["open_gaps"]),
        live_offers=int(row["live_offers"]),
        last_day=last_day,
    )
