"""Dashboard card "Live offers": the offers of running campaigns, and for one whose text waits for
the recipient's quiet hours to end, when it goes out. One query."""

from __future__ import annotations

from dataclasses import dataclass

from slotoptim.api.db import Conn
from slotoptim.api.queries.claim_page import clock_time
from slotoptim.api.queries.dashboard import Context, when

OFFERS_SHOWN = 100


@dataclass(frozen=True)
class OfferRow:
    gap_id: int
    slot: str
    provider: str
    customer: str
    channel: str
    wave: int
    strategy: str
    status: str
    expires: str
    # The offer's text waits for the recipient's quiet hours to end: when it goes out (local time).
    sends_at: str | None = None


def load(conn: Conn, ctx: Context) -> list[OfferRow]:
    rows = conn.execute(
        "select o.gap_id, lower(o.slot) as starts, p.name as provider, cu.name as customer, o.channel, o.wave,"
        " c.strategy, o.status, o.expires_at,"
        " (select min(m.not_before) from slotoptim_private.message as m where m.offer_id = o.id"
        "   and m.kind = 'offer' and m.status = 'queued' and m.not_before > %(now)s) as sends_at"
        " from slotoptim_private.offer as o"
        " join slotoptim_private.offer_campaign as c on c.id = o.campaign_id"
        " join slotoptim_private.gap as g on g.id = o.gap_id"
        " join slotoptim_private.provider as p on p.id = g.provider_id"
        " join slotoptim_private.customer as cu on cu.id = o.customer_id"
        " where o.org_id = slotoptim_private.current_org() and c.status in ('running', 'awaiting_approval')"
        " order by lower(o.slot), o.wave, o.id limit %(shown)s",
        {"now": ctx.now, "shown": OFFERS_SHOWN},
    ).fetchall()
    return [
        OfferRow(
            gap_id=int(r["gap_id"]),
            slot=when(r["starts"], ctx.tz),
            provider=str(r["provider"]),
            customer=str(r["customer"]),
            channel=str(r["channel"]),
            wave=int(r["wave"]),
            strategy=str(r["strategy"]),
            status=str(r["status"]),
            expires=when(r["expires_at"], ctx.tz),
            sends_at=None if r["sends_at"] is None else clock_time(r["sends_at"].astimezone(ctx.tz)),
        )
        for r in rows
    ]
