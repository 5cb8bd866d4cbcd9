"""The claim flow both the claim page and an SMS "YES" use.

1. Verify the signed token (or, for SMS, find the latest open offer of that number).
2. Take a Redis hold on the gap: a second claimant hears at once that someone is confirming.
3. When the provider has a linked calendar, pull it now: busy time added there seconds ago
   becomes blocking before the booking is tried.
4. One PostgreSQL transaction (slotoptim.claim_offer) books it: the exclusion constraint and the
   offer's compare-and-set make it correct whatever Redis said.
5. Release the hold. A late claimant gets up to three other open gaps that match their entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import psycopg
import redis

from slotoptim.listener import holds
from slotoptim.listener.db import fetch_dict, fetch_dicts
from slotoptim.listener.retry import retrying
from slotoptim.listener.tokens import TokenError, read_token, signing_key, verify_token


@dataclass
class ClaimResult:
    outcome: str  # booked, awaiting_approval, already_yours, being_confirmed, filled, expired, not_yours, invalid
    message: str
    appointment_id: int | None = None
    gap_id: int | None = None
    alternatives: list[dict[str, Any]] = field(default_factory=list)


MESSAGES = {
    "booked": "You're booked.",
    "awaiting_approval": "Thanks! The practice will confirm your booking shortly.",
    "already_yours": "This appointment is already yours.",
    "being_confirmed": "Someone is confirming this slot right now. If they don't, it may open again.",
    "filled": "Sorry, this opening has been filled.",
    "expired": "Sorry, this offer has expired.",
    "not_yours": "This link belongs to someone else.",
    "unknown": "This link is not valid.",
    "payment_required": "The practice asks for a card or a deposit for this booking: open your link to finish.",
}


def claim(
    conn: psycopg.Connection[Any],
    redis_client: redis.Redis | None,
    offer_id: int,
    customer_id: int,
    at: dt.datetime,
    hold_ms: int = 300_000,
    check_calendar: bool = True,
    paid: bool = False,
) -> ClaimResult:
    """Claims an offer. `conn` must be in autocommit mode: the booking is its own transaction.
    With a linked calendar, it is pulled first (check_calendar) to narrow the double-booking window.
    `paid`: the Stripe webhook confirmed this offer's card or deposit (slotoptim.listener.payments), so the
    payment gate is passed; otherwise a booking the policy protects is not made here."""
    row = fetch_dict(conn, "select gap_id from slotoptim_private.offer where id = %s", (offer_id,))
    if row is None:
        return ClaimResult("unknown", MESSAGES["unknown"])
    gap_id = int(row["gap_id"])
    if not paid:
        # Payments hook (issue 13): a pending checkout holds the gap; a protected booking pays first.
        gate = fetch_dict(conn, "select slotoptim.offer_payment_gate(%s, %s) as gate", (offer_id, at))
        if gate is not None and gate["gate"] is not None:
            return ClaimResult(str(gate["gate"]), MESSAGES[str(gate["gate"])], gap_id=gap_id)
    hold = holds.acquire(redis_client, gap_id, hold_ms)
    if not hold.acquired:
        return ClaimResult("being_confirmed", MESSAGES["being_confirmed"], gap_id=gap_id)

    def attempt() -> dict[str, Any] | None:
        with conn.transaction():
            return fetch_dict(
                conn,
                "select outcome, appointment_id, gap_id from slotoptim.claim_offer(%s, %s, %s)",
                (offer_id, customer_id, at),
            )

    try:
        if check_calendar:
            from slotoptim.listener.calendar.sync import check_before_claim

            check_before_claim(conn, gap_id, dt.datetime.now(dt.UTC))
        # Retried whole if PostgreSQL aborts it to break a tie (a deadlock with a staff booking).
        record = retrying(attempt)
    finally:
        holds.release(redis_client, hold)
    assert record is not None
    outcome = str(record["outcome"])
    claimed = ClaimResult(outcome, MESSAGES.get(outcome, outcome), record["appointment_id"], gap_id)
    if outcome in ("filled", "expired"):
        claimed.alternatives = alternatives(conn, offer_id, at)
    return claimed


def claim_with_token(
    conn: psycopg.Connection[Any], redis_client: redis.Redis | None, token: str, at: dt.datetime, hold_ms: int = 300_000
) -> ClaimResult:
    try:
        parsed = read_token(token)
        row = fetch_dict(conn, "select customer_id from slotoptim_private.offer where id = %s", (parsed.offer_id,))
        if row is None:
            raise TokenError("this link is not valid")
        customer_id = int(row["customer_id"])
        verify_token(signing_key(conn), token, customer_id, at.timestamp())
    except TokenError as exc:
        outcome = "expired" if "expired" in str(exc) else "invalid"
        return ClaimResult(outcome, str(exc).capitalize() + ".")
    return claim(conn, redis_client, parsed.offer_id, customer_id, at, hold_ms)


def alternatives(conn: psycopg.Connection[Any], offer_id: int, at: dt.datetime) -> list[dict[str, Any]]:
    return fetch_dicts(
        conn,
        "select gap_id, provider_key, lower(slot) as starts, service_key from slotoptim.alternatives(%s, %s)",
        (offer_id, at),
    )
