"""Dashboard card "Open gaps": every open gap (the soonest first), and for each without a live offer
why: its campaign's last reason (offer_campaign.status_reason, the engine's own word) and, while it
is cheap, the engine's account of the waitlist (slotoptim.candidate_exclusions: each active entry's
first excluding filter) counted per reason. One query for the whole card.

candidate_exclusions evaluates every active entry for a gap (about 14 ms an entry on a loaded
2-core machine: 2.5 s for the demo practice's 187 entries), so the card spends at most
EXPLAIN_BUDGET entry evaluations, soonest gaps first; the others link to the gap's own page
(/dashboard/gaps/{id}), which explains one gap in full.
"""

from __future__ import annotations

from dataclasses import dataclass

from slotoptim.api.db import Conn
from slotoptim.api.queries.dashboard import Context, when

GAPS_SHOWN = 50
# Entry evaluations the card may spend explaining (active entries x gaps explained).
EXPLAIN_BUDGET = 100
# The gap's page explains one gap; above this many active entries it points to SQL instead.
EXPLAINED_MAX_ENTRIES = 500
# How a reason of slotoptim.candidate_exclusions reads, counted: "3 need more notice".
REASONS = {
    "candidate": "could be offered it",
    "service": "want a service that does not fit",
    "provider": "exclude this provider",
    "day": "prefer other days",
    "dates": "want other dates",
    "window": "want other hours",
    "lead time": "need more notice",
    "consent": "have no channel with consent",
    "opt-out": "opted out",
    "booked then": "are booked at that time",
    "daily cap": "had enough offers today",
    "weekly cap": "had enough offers this week",
    "fatigue": "ignored their last offers",
    "already offered": "were offered it already",
    "same customer": "have another entry that is the candidate",
    "unexplained": "are not explained (a bug to report)",
}

_QUERY = """
with waiting as (
  select count(*)::int as n from slotoptim_private.waitlist_entry as w
   where w.org_id = slotoptim_private.current_org() and w.status = 'active'
), open_gaps as (
  select g.id, p.name as provider, lower(g.during) as starts, g.status,
         (extract(epoch from upper(g.during) - lower(g.during)) / 60)::int as minutes,
         count(*) over () as total
    from slotoptim_private.gap as g
    join slotoptim_private.provider as p on p.id = g.provider_id
   where g.org_id = slotoptim_private.current_org() and g.status in ('open', 'offering')
     and g.kind = 'bookable' and upper(g.during) > %(now)s
   order by lower(g.during), g.id
   limit %(shown)s
)
select g.*, w.n as waiting,
       (select count(*)::int from slotoptim_private.offer as o
         where o.gap_id = g.id and o.status = 'open') as open_offers,
       (select count(*)::int from slotoptim_private.offer as o where o.gap_id = g.id) as offers_made,
       (select c.status_reason from slotoptim_private.offer_campaign as c where c.gap_id = g.id
         order by c.id desc limit 1) as campaign_reason,
       case when w.n > 0 and g.unoffered is not null and g.unoffered * w.n <= %(budget)s
       then (select coalesce(jsonb_agg(jsonb_build_array(r.reason, r.n) order by r.n desc, r.reason), '[]')
               from (select coalesce(x.excluded_by, 'candidate') as reason, count(*)::int as n
                       from slotoptim.candidate_exclusions(g.id, %(now)s) as x
                      group by 1) as r)
       end as reasons
  from (select o.*,
               -- The soonest gaps without a live offer are explained first, within the budget.
               case when not exists (select from slotoptim_private.offer as f
                                      where f.gap_id = o.id and f.status = 'open')
                    then count(*) filter (where not exists (select from slotoptim_private.offer as f
                                                             where f.gap_id = o.id and f.status = 'open'))
                           over (order by o.starts, o.id)
               end as unoffered
          from open_gaps as o) as g
  cross join waiting as w
 order by g.starts, g.id
"""


@dataclass(frozen=True)
class Reason:
    code: str
    count: int
    text: str  # e.g. "3 need more notice"


@dataclass(frozen=True)
class GapLine:
    id: int
    when: str
    provider: str
    minutes: int
    status: str
    open_offers: int
    offers_made: int
    campaign: str  # the campaign's last reason, or that none has started
    reasons: list[Reason]  # the waitlist, counted by first excluding filter (empty: see `waitlist`)
    waitlist: str  # a sentence when there are no reasons to count


@dataclass(frozen=True)
class Gaps:
    rows: list[GapLine]
    total: int  # open gaps in all (the card shows GAPS_SHOWN at most)


def load(conn: Conn, ctx: Context) -> Gaps:
    rows = conn.execute(_QUERY, {"now": ctx.now, "shown": GAPS_SHOWN, "budget": EXPLAIN_BUDGET}).fetchall()
    lines = []
    for r in rows:
        waiting = int(r["waiting"])
        reasons = [
            Reason(str(code), int(n), f"{n} {REASONS.get(str(code), str(code))}") for code, n in r["reasons"] or []
        ]
        if r["open_offers"]:
            waitlist = ""
        elif waiting == 0:
            waitlist = "Nobody is on the waitlist."
        elif r["reasons"] is None:
            waitlist = f"{waiting} on the waitlist: the gap's page gives each entry's reason."
        else:
            waitlist = ""
        lines.append(
            GapLine(
                id=int(r["id"]),
                when=when(r["starts"], ctx.tz),
                provider=str(r["provider"]),
                minutes=int(r["minutes"]),
                status=str(r["status"]),
                open_offers=int(r["open_offers"]),
                offers_made=int(r["offers_made"]),
                campaign=str(r["campaign_reason"] or "not offered yet"),
                reasons=reasons,
                waitlist=waitlist,
            )
        )
    return Gaps(rows=lines, total=int(rows[0]["total"]) if rows else 0)
