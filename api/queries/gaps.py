"""Gaps: slotoptim.gaps() for a window, and the gap rows the fill engine works on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg.rows import DictRow

from slotoptim.api.db import Conn
from slotoptim.api.errors import not_found
from slotoptim.api.pagination import decode_cursor, encode_cursor
from slotoptim.api.queries.refs import resolve, unknown
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


# One statement for the whole analysis (there were four: the provider, the customer, the time zone,
# the gaps). Without the provider there is no row; `customer_found` tells an unknown customer. An
# unknown customer is never handed to slotoptim.gaps (it would raise): the window is analysed
# without one and answered 404. `fits` comes back as text[].
ANALYSE = """
select p.timezone, c.found as customer_found, g.start, g."end", g.minutes, g.kind, g.fits
  from slotoptim_private.provider as p
 cross join lateral (
       select %(customer)s::text is null
              or exists (select from slotoptim_private.customer as c
                          where c.org_id = p.org_id and c.key = %(customer)s::text) as found
       ) as c
  left join lateral (
       select lower(x.during) as start, upper(x.during) as "end",
              (extract(epoch from upper(x.during) - lower(x.during)) / 60)::integer as minutes,
              x.kind, x.fits, x.ordinality
         from slotoptim.gaps(p.key, tstzrange(%(start)s, %(end)s, '[)'),
                             case when c.found then %(customer)s::text end)
              with ordinality as x
       ) as g on true
 where p.org_id = slotoptim_private.current_org()
   and p.key = %(provider)s::text
 order by g.ordinality
"""


def analyse_params(provider: str, start: dt.datetime, end: dt.datetime, customer: str | None) -> dict[str, Any]:
    return {"provider": provider, "start": start, "end": end, "customer": customer}


def analysis_of(
    rows: list[DictRow], provider: str, start: dt.datetime, end: dt.datetime, customer: str | None
) -> GapAnalysis:
    """The answer from the rows of ANALYSE (404 naming the field when a key is unknown)."""
    if not rows:
        raise unknown("provider", "provider", provider)
    if not rows[0]["customer_found"]:
        raise unknown("customer", "customer", customer)
    return GapAnalysis(
        provider=provider,
        timezone=str(rows[0]["timezone"]),
        start=start,
        end=end,
        gaps=[
            AnalysedGap(start=r["start"], end=r["end"], minutes=r["minutes"], kind=r["kind"], fits=r["fits"])
            for r in rows
            if r["start"] is not None
        ],
    )


def analyse(
    conn: Conn, provider: str, start: dt.datetime, end: dt.datetime, customer: str | None = None
) -> GapAnalysis:
    rows = conn.execute(ANALYSE, analyse_params(provider, start, end, customer)).fetchall()
    return analysis_of(rows, provider, start, end, customer)


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
