"""The payment step of a pending booking: decide, hold the slot, send the customer to Checkout.

`payment_step` is what the claim page (and the public booking page) call when the customer says
yes. It stores the policy's decision (audited); when the policy asks for a card or a deposit it
writes the pending checkout row that holds the gap (the database's pending state), takes the
Redis hold on the gap for the session's life (so other claimants hear "being confirmed" at
once), creates the Stripe Checkout session with an idempotency key derived from that row, and
returns the URL to redirect to. Nothing is booked here: the webhook books (webhook.py).

Every Stripe call is "row first, key from the row": a crash after Stripe created the session but
before we recorded it is repaired by the next press, which sends the same request with the same
key and gets the same session back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg
import redis
import stripe

from slotoptim.listener import holds
from slotoptim.listener.db import fetch_dict
from slotoptim.listener.payments import stripe_account

# Stripe: a Checkout session lives from 30 minutes to 24 hours. We hold the slot for the minimum.
SESSION_MINUTES = 30


@dataclass(frozen=True)
class PaymentStep:
    # not_needed: book as usual; redirect: send the customer to `url`; held: another customer's
    # checkout holds the slot; unavailable: payments are required but Stripe is not reachable/linked.
    state: str
    requirement: str
    explanation: str
    amount_minor: int
    currency: str
    url: str | None = None
    checkout_id: int | None = None


def hold_token(checkout_id: int) -> str:
    """The Redis hold of a checkout carries a token derived from its row, so the webhook (another
    process, maybe hours later) can release exactly that hold."""
    return f"checkout-{checkout_id}"


def take_hold(cache: redis.Redis | None, gap_id: int, checkout_id: int, until: dt.datetime, at: dt.datetime) -> None:
    if cache is None:
        return
    ttl_ms = max(1000, int((until - at).total_seconds() * 1000))
    # If Redis fails, the database's pending checkout still holds the slot.
    with contextlib.suppress(redis.RedisError):
        cache.set(holds.hold_key(gap_id), hold_token(checkout_id), px=ttl_ms)


def release_hold(cache: redis.Redis | None, gap_id: int, checkout_id: int) -> None:
    hold = holds.Hold(holds.hold_key(gap_id), hold_token(checkout_id), acquired=True, degraded=False)
    holds.release(cache, hold)


def decide(conn: psycopg.Connection[Any], offer_id: int, at: dt.datetime) -> dict[str, Any]:
    with conn.transaction():
        row = fetch_dict(conn, "select * from slotoptim.decide_payment_for_offer(%s, %s)", (offer_id, at))
    assert row is not None
    return row


def payment_step(
    conn: psycopg.Connection[Any],
    cache: redis.Redis | None,
    offer_id: int,
    at: dt.datetime,
    success_url: str,
    cancel_url: str,
    product: str,
) -> PaymentStep:
    """`conn`: an autocommit connection acting for the offer's organisation. `success_url` may
    contain {CHECKOUT_SESSION_ID}. `product`: what the customer reads on Checkout (the practice's
    name, never the service: no health details leave us)."""
    decision = decide(conn, offer_id, at)
    requirement = str(decision["requirement"])
    base = PaymentStep(
        "not_needed",
        requirement,
        str(decision["explanation"]),
        int(decision["amount_minor"]),
        str(decision["currency"]),
    )
    if requirement == "none":
        return base
    account = stripe_account.for_org(conn, int(decision["org_id"]))
    if account is None:
        return _with(base, state="unavailable")
    expires = at + dt.timedelta(minutes=SESSION_MINUTES)
    with conn.transaction():
        checkout = fetch_dict(
            conn,
            "select * from slotoptim.begin_payment_checkout(%s, %s, %s, %s)",
            (offer_id, decision["id"], expires, at),
        )
    if checkout is None or checkout["id"] is None:
        return _with(base, state="held")
    checkout_id, gap_id = int(checkout["id"]), int(checkout["gap_id"])
    take_hold(cache, gap_id, checkout_id, checkout["expires_at"], at)
    if checkout["status"] == "open" and checkout["url"]:
        return _with(base, state="redirect", url=str(checkout["url"]), checkout_id=checkout_id)
    try:
        client = account.client()
        customer = _stripe_customer(conn, client, checkout)
        session = client.v1.checkout.sessions.create(
            params=_session_params(checkout, customer, success_url, cancel_url, product),
            options={"idempotency_key": f"slotoptim-checkout-{checkout_id}"},
        )
    except stripe.StripeError:
        # Give the slot back at once: the customer can try again, or someone else can have it.
        conn.execute(
            "update slotoptim_private.payment_checkout set status = 'expired', closed_at = %s,"
            " closed_reason = 'Stripe refused or did not answer' where id = %s and status = 'creating'",
            (at, checkout_id),
        )
        release_hold(cache, gap_id, checkout_id)
        return _with(base, state="unavailable")
    conn.execute(
        "select slotoptim.payment_checkout_opened(%s, %s, %s, %s)", (checkout_id, session.id, session.url, customer)
    )
    return _with(base, state="redirect", url=str(session.url), checkout_id=checkout_id)


def _with(step: PaymentStep, **changes: Any) -> PaymentStep:
    return PaymentStep(**{**step.__dict__, **changes})


def _stripe_customer(conn: psycopg.Connection[Any], client: stripe.StripeClient, checkout: dict[str, Any]) -> str:
    """The customer's Stripe customer (kept from an earlier card), else a new one carrying only
    our ids: no name, phone or email is sent to Stripe."""
    row = fetch_dict(
        conn,
        "select stripe_customer from slotoptim_private.payment_card where customer_id = %s",
        (checkout["customer_id"],),
    )
    if row is not None:
        return str(row["stripe_customer"])
    params: Any = {
        "metadata": {"slotoptim_org": str(checkout["org_id"]), "slotoptim_customer": str(checkout["customer_id"])}
    }
    created = client.v1.customers.create(
        params=params,
        options={"idempotency_key": f"slotoptim-customer-{checkout['org_id']}-{checkout['customer_id']}"},
    )
    return str(created.id)


def _session_params(checkout: dict[str, Any], customer: str, success_url: str, cancel_url: str, product: str) -> Any:
    metadata = {
        "slotoptim_checkout": str(checkout["id"]),
        "slotoptim_org": str(checkout["org_id"]),
        "slotoptim_offer": str(checkout["offer_id"]),
    }
    params: dict[str, Any] = {
        "mode": checkout["mode"],
        "customer": customer,
        "client_reference_id": f"checkout-{checkout['id']}",
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(checkout["expires_at"].timestamp()),
        "metadata": metadata,
    }
    currency = str(checkout["currency"]).lower()
    if checkout["mode"] == "setup":
        params["currency"] = currency
        params["payment_method_types"] = ["card"]
        params["setup_intent_data"] = {"metadata": metadata}
    else:
        params["line_items"] = [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency,
                    "unit_amount": int(checkout["amount_minor"]),
                    "product_data": {"name": product},
                },
            }
        ]
        # Held, not taken: captured only by the rules, after the booking has committed. The card
        # is also saved for off-session use, in case the hold must be released before the visit.
        params["payment_intent_data"] = {
            "capture_method": "manual",
            "setup_future_usage": "off_session",
            "metadata": metadata,
        }
    return params
