"""The outbox handler that charges, captures and releases at Stripe (write kind `stripe_payment`).

The worker (slotoptim.listener.integrations.outbox) claims a row written with the charge; this handler
builds the request from the charge's row alone (so a resend is byte-for-byte the same request)
and sends it with the row's idempotency key `slotoptim-charge-<id>`. A crash between Stripe
executing it and us recording it leaves the outbox row `sending`; when its lease ends it is sent
again and Stripe answers with the first response (idempotent replay): one charge, never two.

Outcomes: succeeded is recorded; a card error (declined, authentication_required) is recorded as
failed or requires_action, shown to staff (slotoptim.payment_attention) and not retried; 5xx and
network errors are retried with backoff by the worker; 429 backs the connection off; a refused
API key breaks the connection until it is relinked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import stripe

from slotoptim.listener.db import fetch_dict
from slotoptim.listener.integrations import connections
from slotoptim.listener.integrations.errors import ConnectionBroken, PermanentError, Throttled, TransientError
from slotoptim.listener.integrations.outbox import ClaimedWrite, WriteHandler, WriteResult
from slotoptim.listener.payments import stripe_account

KIND = "stripe_payment"
FEES = ("no_show_fee", "late_cancel_fee")
CAPTURES = ("deposit_capture", "prepayment_capture")


def _load(conn: psycopg.Connection[Any], charge_id: int) -> dict[str, Any]:
    row = fetch_dict(
        conn,
        "select c.*, k.payment_intent as hold_intent, pc.stripe_customer, pc.payment_method"
        " from slotoptim_private.payment_charge as c"
        " left join slotoptim_private.payment_checkout as k on k.id = c.checkout_id"
        " left join slotoptim_private.payment_card as pc on pc.customer_id = c.customer_id"
        " where c.id = %s",
        (charge_id,),
    )
    if row is None:
        raise PermanentError(f"charge {charge_id} is gone")
    return row


def _settle(
    conn: psycopg.Connection[Any],
    charge_id: int,
    status: str,
    intent: str | None,
    at: dt.datetime,
    error: stripe.StripeError | None = None,
) -> None:
    obj = error.error if error is not None else None
    conn.execute(
        "select slotoptim.payment_charge_settled(%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            charge_id,
            status,
            intent,
            getattr(obj, "type", None),
            getattr(obj, "code", None) or (error.code if error is not None else None),
            getattr(obj, "decline_code", None),
            getattr(obj, "message", None) or (str(error.user_message) if error is not None else None),
            at,
        ),
    )


def _intent_of(error: stripe.StripeError) -> dict[str, Any] | None:
    obj = error.error
    pi = getattr(obj, "payment_intent", None) if obj is not None else None
    if pi is None:
        return None
    if isinstance(pi, dict):
        return pi
    to_dict = getattr(pi, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else None


def send(client: stripe.StripeClient, charge: dict[str, Any], key: str) -> Any:
    """The one request a charge row stands for; always the same for the same row."""
    metadata = {"slotoptim_charge": str(charge["id"]), "slotoptim_org": str(charge["org_id"])}
    if charge["appointment_id"] is not None:
        metadata["slotoptim_appointment"] = str(charge["appointment_id"])
    options: Any = {"idempotency_key": key}
    kind = str(charge["kind"])
    if kind in FEES:
        if charge["payment_method"] is None:
            raise PermanentError("no card on file")
        params: Any = {
            "amount": int(charge["amount_minor"]),
            "currency": str(charge["currency"]).lower(),
            "customer": charge["stripe_customer"],
            "payment_method": charge["payment_method"],
            "off_session": True,
            "confirm": True,
            "description": "no-show fee" if kind == "no_show_fee" else "late cancellation fee",
            "metadata": metadata,
        }
        return client.v1.payment_intents.create(params=params, options=options)
    if charge["hold_intent"] is None:
        raise PermanentError("no held payment to capture or release")
    if kind in CAPTURES:
        capture: Any = {"amount_to_capture": int(charge["amount_minor"]), "metadata": metadata}
        return client.v1.payment_intents.capture(charge["hold_intent"], params=capture, options=options)
    # A release: cancelling a requires_capture PaymentIntent returns the held amount to the card.
    return client.v1.payment_intents.cancel(charge["hold_intent"], options=options)


def make_handler() -> WriteHandler:
    def handle(
        conn: psycopg.Connection[Any], write: ClaimedWrite, connection: connections.Connection, at: dt.datetime
    ) -> WriteResult:
        charge_id = int(write.payload["charge_id"])
        charge = _load(conn, charge_id)
        if charge["status"] != "queued":
            # Waived or settled meanwhile (a webhook got here first): nothing to send.
            return WriteResult(str(charge["payment_intent"] or f"charge-{charge_id}"))
        account = stripe_account.from_connection(connection)
        try:
            intent = send(account.client(), charge, write.idempotency_key)
        except stripe.CardError as exc:
            pi = _intent_of(exc)
            status = (
                "requires_action"
                if (pi or {}).get("status") == "requires_action" or exc.code == ("authentication_required")
                else "failed"
            )
            _settle(conn, charge_id, status, (pi or {}).get("id"), at, exc)
            raise PermanentError(f"card error: {exc.code}") from None
        except stripe.RateLimitError as exc:
            raise Throttled("Stripe rate limit", _retry_after(exc)) from None
        except (stripe.AuthenticationError, stripe.PermissionError) as exc:
            raise ConnectionBroken(f"Stripe refused the API key ({exc.http_status})") from None
        except (stripe.APIConnectionError, stripe.APIError) as exc:
            raise TransientError(f"Stripe unavailable ({type(exc).__name__})", _retry_after(exc)) from None
        except stripe.StripeError as exc:
            pi = _intent_of(exc)
            if charge["kind"] == "hold_release" and (pi or {}).get("status") == "canceled":
                _settle(conn, charge_id, "succeeded", pi.get("id") if pi else None, at)  # already released
                return WriteResult(str(charge["hold_intent"]))
            _settle(conn, charge_id, "failed", (pi or {}).get("id"), at, exc)
            raise PermanentError(f"Stripe refused the request: {exc.code or type(exc).__name__}") from None
        status = {"succeeded": "succeeded", "canceled": "succeeded", "processing": "sent"}.get(
            str(intent.status), "failed" if intent.status == "requires_payment_method" else "sent"
        )
        if status == "sent" and intent.status == "requires_action":
            status = "requires_action"
        _settle(conn, charge_id, status, str(intent.id), at)
        return WriteResult(str(intent.id))

    return handle


def _retry_after(exc: stripe.StripeError) -> float | None:
    headers = exc.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
