"""Dashboard card "Filling today": today's fill rate and minutes to fill (slotoptim.fill_kpis),
and what is open right now (gaps, offers), in one query."""

from __future__ import annotations

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


def load(conn: Conn, ctx: Context) -> Today:
    row = conn.execute(
        "select"
        " (select coalesce(sum(gaps_opened), 0)::int from slotoptim.fill_kpis as k"
        "   where k.org_key = " + ORG_KEY + " and k.day = %(today)s) as opened,"
        " (select coalesce(sum(gaps_filled), 0)::int from slotoptim.fill_kpis as k"
        "   where k.org_key = " + ORG_KEY + " and k.day = %(today)s) as filled,"
        " (select sum(median_minutes_to_fill * gaps_filled)::float8 from slotoptim.fill_kpis as k"
        "   where k.org_key = " + ORG_KEY + " and k.day = %(today)s) as weighted,"
        " (select count(*)::int from slotoptim_private.gap as g where g.org_id = slotoptim_private.current_org()"
        "   and g.status in ('open', 'offering') and g.kind = 'bookable' and upper(g.during) > %(now)s) as open_gaps,"
        " (select count(*)::int from slotoptim_private.offer as o where o.org_id = slotoptim_private.current_org()"
        "   and o.status = 'open') as live_offers",
        {"today": ctx.today, "now": ctx.now},
    ).fetchone()
    assert row is not None
    opened, filled = int(row["opened"]), int(row["filled"])
    return Today(
        fill_rate="–" if opened == 0 else f"{round(100 * filled / opened)}%",
        gaps_filled=filled,
        gaps_opened=opened,
        minutes_to_fill="–" if not filled or row["weighted"] is None else f"{row['weighted'] / filled:.0f}",
        open_gaps=int(row["open_gaps"]),
        live_offers=int(row["live_offers"]),
    )
