"""Gaps: slotoptim.gaps() for a window, and the gap rows the fill engine works on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg.rows import DictRow

from slotoptim.api.db import Conn
from slotoptim.api.errors import not_found
from slotoptim.api.pagination import decode_cursor, encode_cursor
from slotoptim.api.queries.refs import resolve
from slotoptim.api.schemas.gaps import AnalysedGap, Gap, GapAnalysis, GapDetail, GapPage
from slotoptim.api.schemas.offers import Offer

SELECT_GAP = """
select g.id, p.key as provider, lower(g.during) as start, upper(g.during) as "end",
       (extract(epoch from upper(g.during) - lower(g.during)) / 60)::integer as minutes,
       g.kind, g.fits, g.status, g.opened_at, g.closed_at
  from slotoptim_private.gap as g
  join slotoptim_private.provider as p on p.id = g.provider_id
 where g.org_id = slotoptim_private.current_org()
"""

SELECT_OFFER = """
select f.id, c.key as customer, f.customer_id, s.key as service, lower(f.slot) as start, upper(f.slot) as "end",
       f.wave, f.score::float8 as score, f.channel, f.status, f.send_at, f.expires_at
  from slotoptim_private.offer as f
  join slotoptim_private.customer as c on c.id = f.customer_id
  join slotoptim_private.service as s on s.id = f.service_id
 where f.org_id = slotoptim_private.current_org()
"""


def analyse(
    conn: Conn, provider: str, start: dt.datetime, end: dt.datetime, customer: str | None = None
) -> GapAnalysis:
    resolve(conn, "provider", provider, "provider")
    if customer is not None:
        resolve(conn, "customer", customer, "customer")
    tz = conn.execute(
        "select timezone from slotoptim_private.provider where org_id = slotoptim_private.current_org() and key = %s",
        (provider,),
    ).fetchone()
    assert tz is not None
    rows = conn.execute(
        'select lower(g.during) as start, upper(g.during) as "end",'
        " (extract(epoch from upper(g.during) - lower(g.during)) / 60)::integer as minutes, g.kind, g.fits"
        " from slotoptim.gaps(%s, tstzrange(%s, %s, '[)'), %s) as g",
        (provider, start, end, customer),
    ).fetchall()
    return GapAnalysis(
        provider=provider,
        timezone=str(tz["timezone"]),
        start=start,
        end=end,
        gaps=[AnalysedGap(**r) for r in rows],
    )


def _gap(row: DictRow) -> Gap:
    return Gap(**{**row, "fits": list(row["fits"])})


def get(conn: Conn, gap_id: int) -> Gap:
    row = conn.execute(SELECT_GAP + " and g.id = %s", (gap_id,)).fetchone()
    if row is None:
        raise not_found(f"gap {gap_id}")
    return _gap(row)


def offers_of_gap(conn: Conn, gap_id: int) -> list[Offer]:
    return [Offer(**r) for r in conn.execute(SELECT_OFFER + " and f.gap_id = %s order by f.id", (gap_id,))]


def offers_of_campaign(conn: Conn, campaign_id: int) -> list[Offer]:
    return [Offer(**r) for r in conn.execute(SELECT_OFFER + " and f.campaign_id = %s order by f.id", (campaign_id,))]


def detail(conn: Conn, gap_id: int) -> GapDetail:
    return GapDetail(gap=get(conn, gap_id), offers=offers_of_gap(conn, gap_id))


def listing(
    conn: Conn, *, provider: str | None, status: str | None, live: bool, limit: int, cursor: str | None
) -> GapPage:
    if provider is not None:
        resolve(conn, "provider", provider, "provider")
    after = decode_cursor(cursor, (int,))
    params: dict[str, Any] = {
        "provider": provider,
        "status": status,
        "live": live,
        "after": None if after is None else after[0],
        "limit": limit + 1,
    }
    rows = conn.execute(
        SELECT_GAP
        + """
   and (%(provider)s::text is null or p.key = %(provider)s)
   and (%(status)s::text is null or g.status = %(status)s)
   and (not %(live)s or g.status in ('open', 'offering'))
   and (%(after)s::bigint is null or g.id < %(after)s::bigint)
 order by g.id desc
 limit %(limit)s""",
        params,
    ).fetchall()
    items = [_gap(r) for r in rows[:limit]]
    return GapPage(items=items, next_cursor=encode_cursor([items[-1].id]) if len(rows) > limit else None)
