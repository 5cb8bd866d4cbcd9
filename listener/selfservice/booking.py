"""Booking an opening and joining the waitlist from the public page, each in one transaction.

Booking follows the claim flow of claim links (slotoptim.listener.claims): a Redis hold first (on the exact
slot, and on the opening's live gap when there is one, so a claim link's claimant hears that
someone is confirming), a pull of the provider's linked calendar (for a gap or a free time alike),
then one PostgreSQL transaction: the customer, slotoptim.book_opening
(which makes an offer and claims it with slotoptim.claim_offer: the exclusion constraint
arbitrates) and the consent the form gave. Anything but booked, awaiting_approval or
payment_required rolls the whole transaction back: a lost race leaves no customer, entry or offer
behind. payment_required (issue 13): the policy protects this booking, so book_opening leaves the
offer open and unclaimed; `pay` (the page's Checkout step) runs while the holds are still taken,
and Stripe's webhook books later through the claim path of claim links.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import redis

from slotoptim.listener import holds
from slotoptim.listener.db import fetch_dict
from slotoptim.listener.payments.checkout import PaymentStep
from slotoptim.listener.retry import retrying
from slotoptim.listener.selfservice.consent import CONFIRM_TEXT, WORDING_VERSION, language_or_default

KEPT = frozenset({"booked", "awaiting_approval", "payment_required"})
SOURCE = "booking_page"


@dataclass(frozen=True)
class Contact:
    """Who fills in the form, and which messages they agreed to."""

    name: str
    phone: str | None
    email: str | None
    timezone: str | None
    language: str
    texts: bool  # asked for texts: a "Reply YES" request follows
    emails: bool


@dataclass(frozen=True)
class Opening:
    provider_key: str
    service_key: str
    starts: dt.datetime


@dataclass(frozen=True)
class WaitlistWish:
    service_key: str
    provider_key: str | None
    days: list[int] | None  # ISO weekdays
    window: tuple[dt.time, dt.time] | None
    earliest: dt.date | None
    latest: dt.date | None


@dataclass
class BookingResult:
    outcome: str  # booked, awaiting_approval, being_confirmed, filled, expired, already_yours
    # The offer made and claimed, whose claim link shows the booking (None unless kept).
    offer_id: int | None = None
    customer_id: int | None = None
    offer_expires: dt.datetime | None = None
    # payment_required: what the payment step answered (None when it was not needed).
    payment: PaymentStep | None = None


# The payment step of a protected booking: (offer id, customer id, offer expiry) -> the step.
Pay = Callable[[int, int, dt.datetime], PaymentStep]


class RolledBack(Exception):
    """The claim did not book: everything the transaction wrote is undone."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def _consent(conn: psycopg.Connection[Any], customer_id: int, contact: Contact, practice: str, at: dt.datetime) -> None:
    if contact.texts and contact.phone:
        from slotoptim.listener.message_catalogue import render, template_for

        language = language_or_default(contact.language)
        org = fetch_dict(conn, "select slotoptim_private.current_org() as id")
        assert org is not None
        template = template_for(conn, int(org["id"]), "consent_request", language, "sms") or CONFIRM_TEXT[language]
        body = render(template, language, {"practice": practice})
        conn.execute(
            "select slotoptim.request_text_consent(%s, %s, %s, %s, %s)",
            (customer_id, body, SOURCE, WORDING_VERSION, at),
        )
    if contact.emails and contact.email:
        conn.execute(
            "select slotoptim.grant_email_consent(%s, %s, %s, %s)"
            " from slotoptim_private.customer as c where c.id = %s and lower(c.email) = lower(%s)",
            (customer_id, SOURCE, WORDING_VERSION, at, customer_id, contact.email),
        )


def _customer(conn: psycopg.Connection[Any], contact: Contact, at: dt.datetime) -> int:
    row = fetch_dict(
        conn,
        "select slotoptim.self_service_customer(%s, %s, %s, %s, %s, %s) as id",
        (contact.name, contact.phone, contact.email, contact.timezone, contact.language, at),
    )
    assert row is not None
    return int(row["id"])


def _live_gap(conn: psycopg.Connection[Any], opening: Opening, need_minutes: int) -> tuple[int | None, int | None]:
    """The provider's id and the live gap overlapping the slot (None: no gap row yet)."""
    row = fetch_dict(
        conn,
        "select p.id as provider_id, (select g.id from slotoptim_private.gap as g"
        "  where g.provider_id = p.id and g.status in ('open', 'offering')"
        "    and g.during && tstzrange(%s, %s + make_interval(mins => %s), '[)')"
        "  order by lower(g.during) limit 1) as gap_id"
        " from slotoptim_private.provider as p"
        " where p.org_id = slotoptim_private.current_org() and p.key = %s",
        (opening.starts, opening.starts, need_minutes, opening.provider_key),
    )
    if row is None:
        return None, None
    return int(row["provider_id"]), row["gap_id"]


def book(
    conn: psycopg.Connection[Any],
    redis_client: redis.Redis | None,
    opening: Opening,
    contact: Contact,
    practice: str,
    at: dt.datetime,
    hold_ms: int,
    pay: Pay | None = None,
    earlier: bool = False,
) -> BookingResult:
    """Books `opening` for `contact`. `conn` is an autocommit session of the organisation: the
    booking is its own transaction, retried whole when PostgreSQL breaks a deadlock. `earlier`: the
    customer ticked "earlier if possible", so the booked appointment is enrolled in move-up (issue 12)
    in the same transaction, or, when the booking goes through Stripe Checkout, in the webhook's."""
    provider_id, gap_id = _live_gap(conn, opening, 1)
    if provider_id is None:
        return BookingResult("filled")
    now_ms = int(at.timestamp() * 1000)
    slot_hold = holds.acquire_slot(
        redis_client, holds.slot_key(provider_id, int(opening.starts.timestamp())), hold_ms, now_ms
    )
    if not slot_hold.acquired:
        return BookingResult("being_confirmed")
    gap_hold = holds.acquire(redis_client, gap_id, hold_ms) if gap_id is not None else None
    try:
        if gap_hold is not None and not gap_hold.acquired:
            return BookingResult("being_confirmed")
        # As a claim does: busy time added to a linked calendar seconds ago blocks first, for a
        # live gap and for a free time that is no gap yet alike (the page lists both).
        from slotoptim.listener.calendar.sync import check_before_booking

        check_before_booking(conn, provider_id, dt.datetime.now(dt.UTC))

        def attempt() -> dict[str, Any]:
            try:
                with conn.transaction():
                    customer_id = _customer(conn, contact, at)
                    row = fetch_dict(
                        conn,
                        "select outcome, appointment_id, offer_id, offer_expires_at"
                        " from slotoptim.book_opening(%s, %s, %s, %s, %s, %s)",
                        (opening.provider_key, opening.service_key, opening.starts, customer_id, at, earlier),
                    )
                    assert row is not None
                    if row["outcome"] not in KEPT:
                        raise RolledBack(str(row["outcome"]))
                    _consent(conn, customer_id, contact, practice, at)
                    return {**row, "customer_id": customer_id}
            except RolledBack as lost:
                return {"outcome": lost.outcome}

        record = retrying(attempt)
        if record["outcome"] == "payment_required" and pay is not None:
            # Before our holds go: the checkout's own hold (the same gap key) replaces them.
            step = pay(int(record["offer_id"]), int(record["customer_id"]), record["offer_expires_at"])
            record = {**record, "payment": step}
    finally:
        holds.release(redis_client, slot_hold)
        if gap_hold is not None:
            holds.release(redis_client, gap_hold)
    outcome = str(record["outcome"])
    if outcome not in KEPT or record.get("offer_id") is None:
        return BookingResult(outcome)
    return BookingResult(
        outcome, int(record["offer_id"]), int(record["customer_id"]), record["offer_expires_at"], record.get("payment")
    )


def join_waitlist(
    conn: psycopg.Connection[Any], wish: WaitlistWish, contact: Contact, practice: str, at: dt.datetime
) -> None:
    """Adds a waitlist entry for `contact` with the consent they gave, in one transaction."""

    def attempt() -> None:
        with conn.transaction():
            customer_id = _customer(conn, contact, at)
            conn.execute(
                "select slotoptim.join_waitlist_from_page(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    customer_id,
                    wish.service_key,
                    wish.provider_key,
                    wish.days,
                    wish.window[0] if wish.window else None,
                    wish.window[1] if wish.window else None,
                    wish.earliest,
                    wish.latest,
                    at,
                ),
            )
            _consent(conn, customer_id, contact, practice, at)

    retrying(attempt)
