"""A gap's own page (/dashboard/gaps/{id}): the gap, its campaigns, their offers and the messages
that carried them, and the engine's account of the waitlist (slotoptim.candidate_exclusions).
Read inside the caller's tenant transaction: another organisation's gap is simply not found.
One query per panel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from slotoptim.api.db import Conn
from slotoptim.api.queries.card_20_gaps import EXPLAINED_MAX_ENTRIES, REASONS
from slotoptim.api.queries.dashboard import Context, when

EXCLUSIONS_SHOWN = 200


@dataclass(frozen=True)
class GapFacts:
    id: int
    provider: str
    when: str
    ends: str
    minutes: int
    kind: str
    status: str
    fits: str
    opened: str
    closed: str
    freed_by: str  # the appointment whose cancellation (or move) freed the time


@dataclass(frozen=True)
class CampaignRow:
    id: int
    strategy: str
    status: str
    reason: str
    wave: int
    started: str
    closed: str


@dataclass(frozen=True)
class OfferLine:
    id: int
    campaign_id: int
    customer: str
    wave: int
    score: str
    channel: str
    status: str
    sends: str
    expires: str
    responded: str


@dataclass(frozen=True)
class MessageLine:
    offer_id: int | None
    customer: str
    kind: str
    channel: str
    status: str
    attempts: int
    due: str
    sent: str
    error: str


@dataclass(frozen=True)
class Exclusion:
    customer: str
    entry: str
    reason: str
    detail: str


@dataclass(frozen=True)
class Waitlist:
    entries: list[Exclusion]
    total: int
    counts: list[str]  # "3 need more notice"
    note: str  # why the list is not shown, when it is not


@dataclass(frozen=True)
class GapPage:
    gap: GapFacts
    campaigns: list[CampaignRow]
    offers: list[OfferLine]
    messages: list[MessageLine]
    waitlist: Waitlist


def _at(value: object, ctx: Context) -> str:
    return when(value, ctx.tz) if isinstance(value, dt.datetime) else "–"


def gap_facts(conn: Conn, ctx: Context, gap_id: int) -> GapFacts | None:
    r = conn.execute(
        "select g.id, p.name as provider, lower(g.during) as starts, upper(g.during) as ends, g.kind, g.status,"
        " (extract(epoch from upper(g.during) - lower(g.during)) / 60)::int as minutes,"
        " array_to_string(g.fits, ', ') as fits, g.opened_at, g.closed_at,"
        " a.key as freed_key, a.status as freed_status, c.name as freed_customer"
        " from slotoptim_private.gap as g"
        " join slotoptim_private.provider as p on p.id = g.provider_id"
        " left join slotoptim_private.appointment as a on a.id = g.source_appointment_id"
        " left join slotoptim_private.customer as c on c.id = a.customer_id"
        " where g.org_id = slotoptim_private.current_org() and g.id = %s",
        (gap_id,),
    ).fetchone()
    if r is None:
        return None
    freed = "–"
    if r["freed_status"] is not None:
        name = f"appointment “{r['freed_key']}”" if r["freed_key"] else "an appointment"
        freed = f"{name} ({r['freed_customer'] or 'no customer'}, {r['freed_status']})"
    return GapFacts(
        id=int(r["id"]),
        provider=str(r["provider"]),
        when=when(r["starts"], ctx.tz),
        ends=when(r["ends"], ctx.tz),
        minutes=int(r["minutes"]),
        kind=str(r["kind"]),
        status=str(r["status"]),
        fits=str(r["fits"] or "–"),
        opened=_at(r["opened_at"], ctx),
        closed=_at(r["closed_at"], ctx),
        freed_by=freed,
    )


def campaigns(conn: Conn, ctx: Context, gap_id: int) -> list[CampaignRow]:
    rows = conn.execute(
        "select id, strategy, status, status_reason, wave, started_at, closed_at"
        " from slotoptim_private.offer_campaign where gap_id = %s order by id",
        (gap_id,),
    ).fetchall()
    return [
        CampaignRow(
            id=int(r["id"]),
            strategy=str(r["strategy"]),
            status=str(r["status"]),
            reason=str(r["status_reason"] or "–"),
            wave=int(r["wave"]),
            started=_at(r["started_at"], ctx),
            closed=_at(r["closed_at"], ctx),
        )
        for r in rows
    ]


def offers(conn: Conn, ctx: Context, gap_id: int) -> list[OfferLine]:
    rows = conn.execute(
        "select o.id, o.campaign_id, c.name as customer, o.wave, o.score, o.channel, o.status, o.send_at,"
        " o.expires_at, o.responded_at"
        " from slotoptim_private.offer as o join slotoptim_private.customer as c on c.id = o.customer_id"
        " where o.gap_id = %s order by o.campaign_id, o.wave, o.score desc, o.id",
        (gap_id,),
    ).fetchall()
    return [
        OfferLine(
            id=int(r["id"]),
            campaign_id=int(r["campaign_id"]),
            customer=str(r["customer"]),
            wave=int(r["wave"]),
            score=f"{r['score']:.1f}",
            channel=str(r["channel"]),
            status=str(r["status"]),
            sends=_at(r["send_at"], ctx),
            expires=_at(r["expires_at"], ctx),
            responded=_at(r["responded_at"], ctx),
        )
        for r in rows
    ]


def messages(conn: Conn, ctx: Context, gap_id: int) -> list[MessageLine]:
    """The texts and emails of this gap's offers (addresses left out: the customer's name is enough here)."""
    rows = conn.execute(
        "select m.offer_id, c.name as customer, m.kind, m.channel, m.status, m.attempts, m.not_before, m.sent_at,"
        " m.last_error"
        " from slotoptim_private.message as m"
        " join slotoptim_private.offer as o on o.id = m.offer_id"
        " join slotoptim_private.customer as c on c.id = m.customer_id"
        " where o.gap_id = %s order by m.created_at, m.id",
        (gap_id,),
    ).fetchall()
    return [
        MessageLine(
            offer_id=None if r["offer_id"] is None else int(r["offer_id"]),
            customer=str(r["customer"]),
            kind=str(r["kind"]),
            channel=str(r["channel"]),
            status=str(r["status"]),
            attempts=int(r["attempts"]),
            due=_at(r["not_before"], ctx),
            sent=_at(r["sent_at"], ctx),
            error=str(r["last_error"] or ""),
        )
        for r in rows
    ]


def waitlist(conn: Conn, ctx: Context, gap_id: int) -> Waitlist:
    """Every active entry with the first filter that keeps it from this gap, candidates first."""
    rows = conn.execute(
        "with waiting as (select count(*)::int as n from slotoptim_private.waitlist_entry"
        "   where org_id = slotoptim_private.current_org() and status = 'active')"
        " select w.n as waiting, x.* from waiting as w left join lateral ("
        "   select cu.name as customer, coalesce(e.entry_key, '') as entry, e.excluded_by as reason, e.detail,"
        "          count(*) over (partition by coalesce(e.excluded_by, 'candidate')) as same, count(*) over () as total"
        "     from slotoptim.candidate_exclusions(%(gap)s, %(now)s) as e"
        "     join slotoptim_private.customer as cu"
        "       on cu.org_id = slotoptim_private.current_org() and cu.key = e.customer_key"
        "    where w.n <= %(max)s"
        "    order by e.excluded_by nulls first, cu.name, e.entry_key"
        "    limit %(shown)s) as x on true",
        {"gap": gap_id, "now": ctx.now, "max": EXPLAINED_MAX_ENTRIES, "shown": EXCLUSIONS_SHOWN},
    ).fetchall()
    waiting = int(rows[0]["waiting"]) if rows else 0
    listed = [r for r in rows if r["customer"] is not None]
    if waiting > EXPLAINED_MAX_ENTRIES:
        note = f"{waiting} active entries: too many to explain on a page; slotoptim.candidate_exclusions lists them."
        return Waitlist([], waiting, [], note)
    if not listed:
        return Waitlist([], 0, [], "Nobody is on the waitlist.")
    counts: dict[str, int] = {}
    for r in listed:
        counts[str(r["reason"] or "candidate")] = int(r["same"])
    return Waitlist(
        entries=[
            Exclusion(str(r["customer"]), str(r["entry"]), str(r["reason"] or "candidate"), str(r["detail"] or ""))
            for r in listed
        ],
        total=int(listed[0]["total"]),
        counts=[f"{n} {REASONS.get(k, k)}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))],
        note="",
    )


def gap_page(conn: Conn, ctx: Context, gap_id: int) -> GapPage | None:
    facts = gap_facts(conn, ctx, gap_id)
    if facts is None:
        return None
    return GapPage(
        gap=facts,
        campaigns=campaigns(conn, ctx, gap_id),
        offers=offers(conn, ctx, gap_id),
        messages=messages(conn, ctx, gap_id),
        waitlist=waitlist(conn, ctx, gap_id),
    )
