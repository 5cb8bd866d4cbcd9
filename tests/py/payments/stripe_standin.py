"""A local HTTP stand-in for the parts of Stripe SlotOptim uses, following Stripe's wire format.

What it follows (docs.stripe.com/api, /idempotency, /webhooks; reference/integrations.md §4):
- form-encoded request bodies with bracketed keys (`metadata[offer_id]=1`, `expand[0]=...`);
- `Authorization: Bearer sk_...` (401 invalid_request_error otherwise);
- `expand[]`: ids of expandable fields replaced by the objects;
- idempotency: the first response to a key (per API key) is saved whatever its status; the same
  key with the same parameters replays it (with `Idempotent-Replayed: true`); the same key with
  other parameters is a 400 `idempotency_error`;
- errors as `{"error": {"type", "code", "decline_code", "message", "payment_intent"}}`;
- Checkout sessions (mode setup / payment with manual capture) with a hosted page at `url`, whose
  form completes the session, redirects to `success_url` and delivers signed webhook events
  (`Stripe-Signature: t=...,v1=...`, one v1 per active secret) to `webhook_url`;
- PaymentIntents: create (off_session + confirm), capture (amount_to_capture), cancel.

State lives in memory; `requests` records every request, `events` every event sent.
Test cards (the hosted form's `card` field): visa (works), declines (off-session charges are
declined: card_declined / insufficient_funds), authenticate (off-session charges need the
customer: authentication_required, PaymentIntent requires_action).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

CARDS = {
    "visa": ("visa", "4242"),
    "declines": ("visa", "0341"),
    "authenticate": ("mastercard", "3155"),
}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def sign(payload: bytes, secrets_: list[str], timestamp: int) -> str:
    """The Stripe-Signature header Stripe sends: t=<unix>, then one v1 per active secret."""
    signed = f"{timestamp}.".encode() + payload
    parts = [f"t={timestamp}"]
    for secret in secrets_:
        parts.append("v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest())
    return ",".join(parts)


class StripeError(Exception):
    def __init__(self, status: int, type_: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **{k: v for k, v in extra.items() if v is not None}}}


@dataclass
class StandIn:
    api_key: str = "sk_test_standin"
    webhook_secrets: list[str] = field(default_factory=lambda: ["whsec_standin"])
    webhook_url: str | None = None
    # Deliver webhooks from a thread of their own, after the hosted page has redirected (as Stripe
    # does: the customer may be back before the event lands).
    deliver_later: bool = False
    # The time events are signed with (Stripe's clock); tests set it to the app's clock.
    clock: Callable[[], float] = time.time
    # Hold back the response of the next matching call until `release` is set (a crash window).
    block_path: str | None = None
    blocked: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[tuple[str, str], tuple[str, list[tuple[str, str]], int, bytes]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    # ---- objects -------------------------------------------------------------------------------
    def _put(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    def _expand(self, obj: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        """Each dotted path is followed from the top, expanding every id on the way (as Stripe does)."""
        out: dict[str, Any] = json.loads(json.dumps(obj))
        for path in expand:
            target: Any = out
            for key in path.split("."):
                if not isinstance(target, dict):
                    break
                value = target.get(key)
                if isinstance(value, str) and value in self.objects:
                    value = json.loads(json.dumps(self.objects[value]))
                    target[key] = value
                target = value
        return out

    def _payment_method(self, card: str) -> dict[str, Any]:
        brand, last4 = CARDS[card]
        return self._put(
            {
                "id": new_id("pm"),
                "object": "payment_method",
                "type": "card",
                "card": {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2030},
                "metadata": {"standin_card": card},
            }
        )

    def _charge(self, pi: dict[str, Any], captured: bool) -> dict[str, Any]:
        pm = self.objects[pi["payment_method"]]
        return self._put(
            {
                "id": new_id("ch"),
                "object": "charge",
                "amount": pi["amount"],
                "amount_captured": pi["amount"] if captured else 0,
                "amount_refunded": 0,
                "captured": captured,
                "payment_intent": pi["id"],
                "payment_method_details": {
                    "type": "card",
                    "card": {
                        "brand": pm["card"]["brand"],
                        "last4": pm["card"]["last4"],
                        # Customer-initiated card-not-present authorisation: about 7 days.
                        "capture_before": int(self.clock()) + 7 * 86400 - 3600,
                    },
                },
            }
        )

    # ---- endpoints -----------------------------------------------------------------------------
    def create_customer(self, p: dict[str, str]) -> dict[str, Any]:
        return self._put({"id": new_id("cus"), "object": "customer", "email": p.get("email"), "metadata": _meta(p)})

    def create_session(self, p: dict[str, str]) -> dict[str, Any]:
        mode = p.get("mode")
        if mode not in ("setup", "payment"):
            raise StripeError(
                400, "invalid_request_error", "Invalid mode", param="mode", code="parameter_invalid_empty"
            )
        for required in ("success_url",):
            if required not in p:
                raise StripeError(
                    400,
                    "invalid_request_error",
                    f"Missing required param: {required}.",
                    param=required,
                    code="parameter_missing",
                )
        session_id = new_id("cs_test")
        session: dict[str, Any] = {
            "id": session_id,
            "object": "checkout.session",
            "mode": mode,
            "status": "open",
            "payment_status": "unpaid" if mode == "payment" else "no_payment_required",
            "customer": p.get("customer"),
            "client_reference_id": p.get("client_reference_id"),
            "success_url": p["success_url"],
            "cancel_url": p.get("cancel_url"),
            "expires_at": int(p.get("expires_at", int(self.clock()) + 86400)),
            "metadata": _meta(p),
            "payment_intent": None,
            "setup_intent": None,
            "url": f"{self.base}/pay/{session_id}",
        }
        if mode == "payment":
            amount = int(p["line_items[0][price_data][unit_amount]"])
            session["amount_total"] = amount * int(p.get("line_items[0][quantity]", "1"))
            session["currency"] = p["line_items[0][price_data][currency]"]
            session["_capture_method"] = p.get("payment_intent_data[capture_method]", "automatic")
            session["_setup_future_usage"] = p.get("payment_intent_data[setup_future_usage]")
        else:
            session["currency"] = p.get("currency")
        return self._put(session)

    def complete_session(self, session_id: str, card: str) -> dict[str, Any]:
        with self.lock:
            session = self.objects[session_id]
            if session["status"] != "open":
                return session
            pm = self._payment_method(card)
            events: list[tuple[str, dict[str, Any]]] = []
            if session["mode"] == "setup":
                si = self._put(
                    {
                        "id": new_id("seti"),
                        "object": "setup_intent",
                        "status": "succeeded",
                        "usage": "off_session",
                        "customer": session["customer"],
                        "payment_method": pm["id"],
                        "metadata": session["metadata"],
                    }
                )
                session["setup_intent"] = si["id"]
                events.append(("setup_intent.succeeded", si))
            else:
                manual = session["_capture_method"] == "manual"
                pi = self._put(
                    {
                        "id": new_id("pi"),
                        "object": "payment_intent",
                        "amount": session["amount_total"],
                        "amount_capturable": session["amount_total"] if manual else 0,
                        "amount_received": 0 if manual else session["amount_total"],
                        "currency": session["currency"],
                        "capture_method": "manual" if manual else "automatic",
                        "customer": session["customer"],
                        "payment_method": pm["id"],
                        "status": "requires_capture" if manual else "succeeded",
                        "metadata": session["metadata"],
                        "latest_charge": None,
                        "last_payment_error": None,
                    }
                )
                pi["latest_charge"] = self._charge(pi, captured=not manual)["id"]
                session["payment_intent"] = pi["id"]
                session["payment_status"] = "unpaid" if manual else "paid"
                events.append(
                    ("payment_intent.amount_capturable_updated" if manual else "payment_intent.succeeded", pi)
                )
            session["status"] = "complete"
            events.insert(0, ("checkout.session.completed", session))
        for type_, obj in events:
            self.send_event(type_, obj)
        return session

    def expire_session(self, session_id: str) -> dict[str, Any]:
        session = self.objects[session_id]
        if session["status"] == "open":
            session["status"] = "expired"
            self.send_event("checkout.session.expired", session)
        return session

    def create_payment_intent(self, p: dict[str, str]) -> dict[str, Any]:
        for required in ("amount", "currency"):
            if required not in p:
                raise StripeError(
                    400,
                    "invalid_request_error",
                    f"Missing required param: {required}.",
                    param=required,
                    code="parameter_missing",
                )
        pm = self.objects.get(p.get("payment_method", ""))
        if pm is None:
            raise StripeError(
                400, "invalid_request_error", "No such PaymentMethod", param="payment_method", code="resource_missing"
            )
        pi = self._put(
            {
                "id": new_id("pi"),
                "object": "payment_intent",
                "amount": int(p["amount"]),
                "amount_capturable": 0,
                "amount_received": 0,
                "currency": p["currency"],
                "capture_method": p.get("capture_method", "automatic"),
                "customer": p.get("customer"),
                "payment_method": pm["id"],
                "status": "requires_confirmation",
                "metadata": _meta(p),
                "latest_charge": None,
                "last_payment_error": None,
            }
        )
        if p.get("confirm") != "true":
            return pi
        card = pm["metadata"]["standin_card"]
        off_session = p.get("off_session") == "true"
        if card == "declines":
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
            }
            pi.update(status="requires_payment_method", last_payment_error=error)
            self.send_event("payment_intent.payment_failed", pi)
            raise StripeError(
                402,
                "card_error",
                error["message"],
                code="card_declined",
                decline_code="insufficient_funds",
                payment_intent=pi,
            )
        if card == "authenticate" and off_session:
            error = {
                "type": "card_error",
                "code": "authentication_required",
                "message": "Your card was declined. This transaction requires authentication.",
            }
            pi.update(status="requires_action", last_payment_error=error)
            self.send_event("payment_intent.payment_failed", pi)
            raise StripeError(
                402,
                "card_error",
                error["message"],
                code="authentication_required",
                decline_code="authentication_required",
                payment_intent=pi,
            )
        pi.update(status="succeeded", amount_received=pi["amount"])
        pi["latest_charge"] = self._charge(pi, captured=True)["id"]
        self.send_event("payment_intent.succeeded", pi)
        return pi

    def capture(self, pi_id: str, p: dict[str, str]) -> dict[str, Any]:
        pi = self._intent(pi_id)
        if pi["status"] != "requires_capture":
            raise StripeError(
                400,
                "invalid_request_error",
                f"This PaymentIntent could not be captured because it has a status of {pi['status']}.",
                code="payment_intent_unexpected_state",
                payment_intent=pi,
            )
        amount = int(p.get("amount_to_capture", pi["amount_capturable"]))
        if amount > pi["amount_capturable"]:
            raise StripeError(
                400,
                "invalid_request_error",
                "amount_to_capture is greater than amount_capturable",
                param="amount_to_capture",
                code="amount_too_large",
            )
        pi.update(status="succeeded", amount_received=amount, amount_capturable=0)
        charge = self.objects[pi["latest_charge"]]
        charge.update(captured=True, amount_captured=amount)
        self.send_event("payment_intent.succeeded", pi)
        return pi

    def cancel(self, pi_id: str, p: dict[str, str]) -> dict[str, Any]:
        pi = self._intent(pi_id)
        if pi["status"] in ("succeeded", "canceled"):
            raise StripeError(
                400,
                "invalid_request_error",
                f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}.",
                code="payment_intent_unexpected_state",
                payment_intent=pi,
            )
        pi.update(status="canceled", amount_capturable=0, cancellation_reason=p.get("cancellation_reason"))
        self.send_event("payment_intent.canceled", pi)
        return pi

    def _intent(self, pi_id: str) -> dict[str, Any]:
        pi = self.objects.get(pi_id)
        if pi is None or pi["object"] != "payment_intent":
            raise StripeError(
                404,
                "invalid_request_error",
                f"No such payment_intent: '{pi_id}'",
                code="resource_missing",
                param="intent",
            )
        return pi

    # ---- events --------------------------------------------------------------------------------
    def make_event(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        public = {k: v for k, v in obj.items() if not k.startswith("_")}
        return {
            "id": new_id("evt"),
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(self.clock()),
            "type": type_,
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": json.loads(json.dumps(public))},
        }

    def send_event(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = self.make_event(type_, obj)
        self.events.append(event)
        if self.webhook_url is not None:
            if self.deliver_later:
                threading.Thread(target=self.deliver, args=(event,), daemon=True).start()
            else:
                self.deliver(event)
        return event

    def signed(self, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        payload = json.dumps(event).encode()
        header = sign(payload, self.webhook_secrets, int(self.clock()))
        return payload, {"Stripe-Signature": header, "Content-Type": "application/json; charset=utf-8"}

    def deliver(self, event: dict[str, Any]) -> int:
        assert self.webhook_url is not None
        payload, headers = self.signed(event)
        request = urllib.request.Request(self.webhook_url, data=payload, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)


def _meta(p: dict[str, str]) -> dict[str, str]:
    return {k[9:-1]: v for k, v in p.items() if k.startswith("metadata[") and k.endswith("]")}


def _expand_list(pairs: list[tuple[str, str]]) -> list[str]:
    return [v for k, v in pairs if k == "expand[]" or (k.startswith("expand[") and k[7:-1].isdigit())]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(
        self, status: int, body: bytes, headers: dict[str, str] | None = None, content_type: str = "application/json"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", new_id("req"))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        s = self.server.standin
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else b""
        pairs = parse_qsl(raw.decode() if method == "POST" else url.query, keep_blank_values=True)
        if url.path.startswith("/pay/"):
            self._hosted_page(method, url.path[5:], dict(pairs))
            return
        if self.headers.get("Authorization") != f"Bearer {s.api_key}":
            body = {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
            self._send(401, json.dumps(body).encode())
            return
        s.requests.append(
            {
                "method": method,
                "path": url.path,
                "params": pairs,
                "idempotency_key": self.headers.get("Idempotency-Key"),
            }
        )
        key = self.headers.get("Idempotency-Key")
        compared = sorted(pairs)
        if method == "POST" and key:
            with s.lock:
                saved = s.idempotent.get((s.api_key, key))
            if saved is not None:
                path, params, status, body = saved
                if path != url.path or params != compared:
                    error = {
                        "error": {
                            "type": "idempotency_error",
                            "message": (
                                "Keys for idempotent requests can only be used with the same parameters they were "
                                f"first used with. Try using a key other than '{key}' if you meant to execute a "
                                "different request."
                            ),
                        }
                    }
                    self._send(400, json.dumps(error).encode())
                    return
                self._send(status, body, {"Idempotent-Replayed": "true", "Idempotency-Key": key})
                return
        try:
            status, obj = 200, self._route(method, url.path, dict(pairs))
            body = json.dumps(s._expand(obj, _expand_list(pairs))).encode()
        except StripeError as exc:
            status, body = exc.status, json.dumps(exc.body).encode()
        except KeyError as exc:
            status = 404
            body = json.dumps(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "message": f"No such object: {exc}",
                    }
                }
            ).encode()
        if method == "POST" and key:
            with s.lock:
                s.idempotent[(s.api_key, key)] = (url.path, compared, status, body)
        if s.block_path is not None and url.path.startswith(s.block_path):
            # Executed and saved, but the caller does not hear back until the test says so.
            s.blocked.set()
            s.release.wait(timeout=60)
        self._send(status, body, {"Idempotency-Key": key} if key else None)

    def _route(self, method: str, path: str, p: dict[str, str]) -> dict[str, Any]:
        s = self.server.standin
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v1/customers":
            return s.create_customer(p)
        if method == "POST" and path == "/v1/checkout/sessions":
            return s.create_session(p)
        if method == "POST" and path == "/v1/payment_intents":
            return s.create_payment_intent(p)
        if method == "POST" and len(parts) == 4 and parts[1] == "payment_intents" and parts[3] == "capture":
            return s.capture(parts[2], p)
        if method == "POST" and len(parts) == 4 and parts[1] == "payment_intents" and parts[3] == "cancel":
            return s.cancel(parts[2], p)
        if method == "POST" and len(parts) == 5 and parts[1:3] == ["checkout", "sessions"] and parts[4] == "expire":
            return s.expire_session(parts[3])
        if method == "GET" and len(parts) == 4 and parts[1:3] == ["checkout", "sessions"]:
            return s.objects[parts[3]]
        if method == "GET" and len(parts) == 3 and parts[1] in ("payment_intents", "setup_intents", "customers"):
            return s.objects[parts[2]]
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _hosted_page(self, method: str, session_id: str, form: dict[str, str]) -> None:
        s = self.server.standin
        session = s.objects.get(session_id)
        if session is None:
            self._send(404, b"no such session", content_type="text/plain")
            return
        if method == "POST":
            s.complete_session(session_id, form.get("card", "visa"))
            target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
            self._send(303, b"", {"Location": target}, content_type="text/plain")
            return
        amount = f"{session.get('amount_total', 0) / 100:.2f} {str(session.get('currency') or '').upper()}"
        what = "Save a card for this booking" if session["mode"] == "setup" else f"Hold {amount}"
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Stand-in Checkout</title></head>"
            f"<body><main><h1>Stand-in Checkout</h1><p id='what'>{what}</p>"
            f"<form method='post' action='/pay/{session_id}'>"
            "<label for='card'>Test card</label> <select id='card' name='card'>"
            "<option value='visa'>Visa 4242</option><option value='declines'>Visa 0341 (declines later)</option>"
            "<option value='authenticate'>Mastercard 3155 (needs authentication)</option></select>"
            "<button type='submit'>Pay</button></form></main></body></html>"
        )
        self._send(200, page.encode(), content_type="text/html; charset=utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: StandIn


def start(standin: StandIn) -> tuple[_Server, threading.Thread]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.standin = standin
    standin.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
