"""Stripe's webhook events, each once, in any order.

Routing: the event's signature names the account (each organisation's connection holds its
endpoint secrets; the one that verifies is the sender). Processing is idempotent step by step
and the event id is recorded last, so a crash midway is repaired by Stripe's retry, and a
repeat delivery of a recorded id changes nothing.

Order: Stripe does not guarantee it. Events only say "look again": the Checkout session is
re-fetched from Stripe (with expand[]) and booked once it is complete and its card or hold is
confirmed, whichever of checkout.session.completed, setup_intent.succeeded or
payment_intent.amount_capturable_updated lands first; charge outcomes only move forward
(slotoptim.payment_charge_settled), so a late payment_failed never undoes a success.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import psycopg
import redis

from slotoptim.listener import claims
from slotoptim.listener.db import fetch_dict
from slotoptim.listener.payments import checkout as checkouts
from slotoptim.listener.payments import signature
from slotoptim.listener.payments.stripe_account import StripeAccount

HANDLED = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.expired",
        "setup_intent.succeeded",
        "payment_intent.amount_capturable_updated",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "charge.refunded",
        "charge.dispute.created",
    }
)
MAX_BODY = 512 * 1024


class BadEvent(ValueError):
    """Signed, but not an event we can read (the message names what is wrong)."""


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    created: dt.datetime
    obj: dict[str, Any]


def identify(accounts: list[StripeAccount], payload: bytes, header: str, now: dt.datetime) -> StripeAccount:
    """The account whose endpoint secret signed the payload; SignatureError if none."""
    for account in accounts:
        try:
            signature.verify(payload, header, account.webhook_secrets, now.timestamp())
        except signature.SignatureError as exc:
            if "tolerance" in str(exc):
                raise
            continue
        return account
    raise signature.SignatureError("no signature matches the payload for any endpoint secret")


def parse(payload: bytes) -> Event:
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise BadEvent("body: not JSON") from None
    if not isinstance(body, dict) or body.get("object") != "event":
        raise BadEvent("body: not a Stripe event")
    event_id, type_, created = body.get("id"), body.get("type"), body.get("created")
    obj = (body.get("data") or {}).get("object") if isinstance(body.get("data"), dict) else None
    if not isinstance(event_id, str) or not event_id.startswith("evt_") or len(event_id) > 255:
        raise BadEvent("id: not a Stripe event id")
    if not isinstance(type_, str) or not type_ or len(type_) > 100:
        raise BadEvent("type: missing")
    if not isinstance(created, int):
        raise BadEvent("created: not a Unix time")
    if not isinstance(obj, dict):
        raise BadEvent("data.object: missing")
    return Event(event_id, type_, dt.datetime.fromtimestamp(created, dt.UTC), obj)


def seen(conn: psycopg.Connection[Any], event_id: str) -> bool:
    return (
        fetch_dict(conn, "select 1 as x from slotoptim_private.stripe_event where event_id = %s", (event_id,))
        is not None
    )


def process(
    conn: psycopg.Connection[Any],
    cache: redis.Redis | None,
    account: StripeAccount,
    event: Event,
    at: dt.datetime,
    hold_ms: int = 300_000,
) -> str:
    """Acts on one event (`conn`: autocommit, acting for the account's organisation); returns
    what it did. Recorded last: a repeat is 'duplicate'."""
    if seen(conn, event.id):
        return "duplicate"
    outcome = _act(conn, cache, account, event, at, hold_ms) if event.type in HANDLED else "ignored"
    object_id = event.obj.get("id") if isinstance(event.obj.get("id"), str) else None
    with conn.transaction():
        first = fetch_dict(
            conn,
            "select slotoptim.stripe_event_received(%s, %s, %s, %s, %s, %s) as first",
            (account.org_id, event.id, event.type, object_id, event.created, at),
        )
        if first is not None and first["first"]:
            conn.execute(
                "update slotoptim_private.stripe_event set outcome = %s where event_id = %s", (outcome, event.id)
            )
    return outcome


def _act(
    conn: psycopg.Connection[Any],
    cache: redis.Redis | None,
    account: StripeAccount,
    event: Event,
    at: dt.datetime,
    hold_ms: int,
) -> str:
    obj = event.obj
    if event.type in (
        "checkout.session.completed",
        "setup_intent.succeeded",
        "payment_intent.amount_capturable_updated",
    ):
        checkout_id = _checkout_id(conn, account, obj)
        return "unknown checkout" if checkout_id is None else confirm(conn, cache, account, checkout_id, at, hold_ms)
    if event.type == "checkout.session.expired":
        row = fetch_dict(
            conn,
            "select k.id, slotoptim.payment_checkout_expired(%s, %s) as gap_id from slotoptim_private.payment_checkout"
            " as k where k.stripe_session = %s",
            (obj.get("id"), at, obj.get("id")),
        )
        if row is not None and row["gap_id"] is not None:
            checkouts.release_hold(cache, int(row["gap_id"]), int(row["id"]))
            return "expired"
        return "unchanged"
    if event.type.startswith("payment_intent."):
        status = {
            "payment_intent.succeeded": "succeeded",
            "payment_intent.payment_failed": "failed",
            "payment_intent.canceled": None,
        }[event.type]
        if event.type == "payment_intent.canceled":
            conn.execute(
                "update slotoptim_private.payment_checkout set hold_status = 'released'"
                " where payment_intent = %s and hold_status in ('authorised', 'lapsed')",
                (obj.get("id"),),
            )
            return "released"
        error = obj.get("last_payment_error") or {}
        if status == "failed" and obj.get("status") == "requires_action":
            status = "requires_action"
        row = fetch_dict(
            conn,
            "select slotoptim.payment_intent_event(%s, %s, %s, %s, %s, %s) as n",
            (obj.get("id"), status, error.get("code"), error.get("decline_code"), error.get("message"), at),
        )
        return f"{row['n'] if row else 0} charge(s) {status}"
    if event.type == "charge.refunded":
        row = fetch_dict(
            conn,
            "select slotoptim.payment_charge_event(%s, %s, false) as n",
            (obj.get("payment_intent"), int(obj.get("amount_refunded") or 0)),
        )
        return f"{row['n'] if row else 0} charge(s) refunded"
    if event.type == "charge.dispute.created":
        row = fetch_dict(
            conn, "select slotoptim.payment_charge_event(%s, null, true) as n", (obj.get("payment_intent"),)
        )
        return f"{row['n'] if row else 0} charge(s) disputed"
    return "ignored"


def _checkout_id(conn: psycopg.Connection[Any], account: StripeAccount, obj: dict[str, Any]) -> int | None:
    metadata = obj.get("metadata") or {}
    raw = metadata.get("slotoptim_checkout") if isinstance(metadata, dict) else None
    if isinstance(raw, str) and raw.isdigit():
        row = fetch_dict(
            conn,
            "select id from slotoptim_private.payment_checkout where id = %s and org_id = %s",
            (int(raw), account.org_id),
        )
        return int(row["id"]) if row else None
    if obj.get("object") == "checkout.session":
        row = fetch_dict(
            conn, "select id from slotoptim_private.payment_checkout where stripe_session = %s", (obj.get("id"),)
        )
        return int(row["id"]) if row else None
    return None


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def confirm(
    conn: psycopg.Connection[Any],
    cache: redis.Redis | None,
    account: StripeAccount,
    checkout_id: int,
    at: dt.datetime,
    hold_ms: int = 300_000,
) -> str:
    """Books a checkout whose card or hold Stripe confirms (fetched now, not taken from the
    event), or releases it when the slot is gone. Safe to call any number of times."""
    k = fetch_dict(conn, "select * from slotoptim_private.payment_checkout where id = %s", (checkout_id,))
    if k is None:
        return "unknown checkout"
    if k["status"] in ("booked", "lost"):
        return f"already {k['status']}"
    if k["stripe_session"] is None:
        return "no session yet"
    expand: Any = {
        "expand": ["setup_intent.payment_method", "payment_intent.payment_method", "payment_intent.latest_charge"]
    }
    session = account.client().v1.checkout.sessions.retrieve(str(k["stripe_session"]), params=expand)
    setup_intent, payment_intent = session.setup_intent, session.payment_intent
    if session.status != "complete":
        return f"session {session.status}"
    if k["mode"] == "setup":
        confirmed = _field(setup_intent, "status") == "succeeded"
        method = _field(setup_intent, "payment_method")
    else:
        confirmed = _field(payment_intent, "status") in ("requires_capture", "succeeded")
        method = _field(payment_intent, "payment_method")
    if not confirmed:
        return "awaiting confirmation"
    card = _field(method, "card")
    charge = _field(payment_intent, "latest_charge")
    details = _field(_field(charge, "payment_method_details"), "card")
    capture_before = _field(details, "capture_before")
    pi_id = _field(payment_intent, "id")
    checkouts.release_hold(cache, int(k["gap_id"]), checkout_id)
    # The customer said yes when the checkout began: the claim is made as of then (the offer may
    # have reached its end while they paid); the database still decides whether the slot is free.
    result = claims.claim(conn, cache, int(k["offer_id"]), int(k["customer_id"]), k["created_at"], hold_ms, paid=True)
    if result.outcome in ("booked", "already_yours") and result.appointment_id is not None:
        with conn.transaction():
            conn.execute(
                "select slotoptim.payment_checkout_booked(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    checkout_id,
                    result.appointment_id,
                    _field(session, "customer"),
                    _field(setup_intent, "id"),
                    pi_id,
                    _field(method, "id"),
                    _field(card, "brand"),
                    _field(card, "last4"),
                    dt.datetime.fromtimestamp(int(capture_before), dt.UTC) if capture_before else None,
                    at,
                ),
            )
        return "booked"
    # Not booked: the slot was gone, or (staff_approval strategy) the claim now waits for staff.
    # Either way no money stays held for a booking we cannot link: the hold is released (a card
    # saved in setup mode stays on file).
    with conn.transaction():
        conn.execute("select slotoptim.payment_checkout_lost(%s, %s, %s, %s)", (checkout_id, pi_id, result.outcome, at))
    return f"lost: {result.outcome}"
