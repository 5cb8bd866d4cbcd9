"""Starting offers for a gap, and claiming one with its link's token."""

from __future__ import annotations

import datetime as dt

import redis

from slotoptim.api.db import Conn
from slotoptim.api.errors import Conflict
from slotoptim.api.queries.gaps import get as get_gap
from slotoptim.api.queries.gaps import offers_of_campaign
from slotoptim.api.schemas.offers import Alternative, Campaign, ClaimOutcome, InstantClaim, OfferRequest
from slotoptim.listener import claims
from slotoptim.listener.tokens import TokenError, read_token, signing_key, verify_token


def start(conn: Conn, data: OfferRequest, at: dt.datetime) -> Campaign:
    gap = get_gap(conn, data.gap_id)  # 404 for an unknown gap, or another organisation's
    if gap.status not in ("open", "offering"):
        raise Conflict(detail=f"gap {gap.id} is {gap.status} and cannot be offered")
    if gap.kind != "bookable":
        raise Conflict(detail=f"gap {gap.id} is a fragment: no service fits in it")
    row = conn.execute("select slotoptim.start_offers(%s, %s, %s) as id", (data.gap_id, data.strategy, at)).fetchone()
    assert row is not None
    campaign = conn.execute(
        "select id, gap_id, strategy, status, wave, next_action_at from slotoptim_private.offer_campaign"
        " where org_id = slotoptim_private.current_org() and id = %s",
        (row["id"],),
    ).fetchone()
    assert campaign is not None
    return Campaign(
        campaign_id=int(campaign["id"]),
        gap_id=int(campaign["gap_id"]),
        strategy=campaign["strategy"],
        status=campaign["status"],
        wave=int(campaign["wave"]),
        next_action_at=campaign["next_action_at"],
        offers=offers_of_campaign(conn, int(campaign["id"])),
    )


def claim_signing_key(conn: Conn) -> bytes:
    """The claim-link key (instance-wide, not a tenant's row): read as the owner."""
    return signing_key(conn)


def _genuine_offer(signing: bytes, token: str, customer_id: int) -> tuple[int, int] | None:
    """(offer id, expiry) of a token signed for this customer, expired or not."""
    try:
        parsed = read_token(token)
        verify_token(signing, token, customer_id, 0.0)
    except TokenError:
        return None
    return parsed.offer_id, parsed.expires


def instant_claim(
    conn: Conn, cache: redis.Redis | None, data: InstantClaim, signing: bytes, at: dt.datetime, hold_ms: int
) -> ClaimOutcome:
    """`conn` is an autocommit session acting for the caller's organisation: the booking commits
    before the Redis hold is released (slotoptim.listener.claims.claim). A token of another organisation's
    offer is "unknown", expired or not: its existence is not revealed."""
    genuine = _genuine_offer(signing, data.slot_token, data.customer_id)
    visible = genuine is not None and (
        conn.execute(
            "select 1 from slotoptim_private.offer where org_id = slotoptim_private.current_org() and id = %s",
            (genuine[0],),
        ).fetchone()
        is not None
    )
    if genuine is None or not visible:
        return ClaimOutcome(outcome="unknown", message=claims.MESSAGES["unknown"])
    offer_id, expires = genuine
    if at.timestamp() >= expires:
        return ClaimOutcome(outcome="expired", message=claims.MESSAGES["expired"])
    result = claims.claim(conn, cache, offer_id, data.customer_id, at, hold_ms)
    return ClaimOutcome(
        outcome=result.outcome,  # type: ignore[arg-type]
        message=result.message,
        appointment_id=result.appointment_id,
        gap_id=result.gap_id,
        alternatives=[
            Alternative(
                gap_id=int(a["gap_id"]),
                provider=str(a["provider_key"]),
                start=a["starts"],
                service=str(a["service_key"]),
            )
            for a in result.alternatives
        ],
    )


def hold_ms(conn: Conn) -> int:
    row = conn.execute(
        "select claim_hold_seconds from slotoptim_private.organisation_settings"
        " where org_id = slotoptim_private.current_org()"
    ).fetchone()
    return 300_000 if row is None else int(row["claim_hold_seconds"]) * 1000
