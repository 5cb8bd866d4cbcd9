"""POST /webhooks/stripe and the stand-in's wire format, checked with the real `stripe` library:
signatures as Stripe makes them (tolerance, several v1, a rotating secret), each event once,
idempotency-key replay and its 400, errors with type/code/decline_code, expand[]."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import stripe
from api.api_practice import NOW
from api.conftest import ApiDb
from litestar.testing import TestClient
from payments.flow import running_standin
from payments.helpers import SECRET_KEY, link_standin
from payments.stripe_standin import StandIn, sign

from slotoptim.listener.payments import signature


@pytest.fixture
def standin(api_db: ApiDb, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    monkeypatch.setenv("SLOTOPTIM_SECRET_KEY", SECRET_KEY)
    with (
        running_standin(webhook_secrets=["whsec_old", "whsec_new"]) as s,
        psycopg.connect(api_db.url, autocommit=True) as conn,
    ):
        link_standin(conn, api_db.orgs["acme"], s, NOW)  # type: ignore[arg-type]
        yield s


def event(type_: str = "customer.created", obj: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": f"evt_{time.monotonic_ns()}",
        "object": "event",
        "created": int(NOW.timestamp()),
        "type": type_,
        "data": {"object": obj or {"id": "cus_x", "object": "customer"}},
    }


def post(client: TestClient[Any], payload: bytes, header: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return client.post("/webhooks/stripe", content=payload, headers=headers)


def test_our_check_agrees_with_stripes_own() -> None:
    payload = json.dumps(event()).encode()
    now = int(time.time())
    header = sign(payload, ["whsec_a", "whsec_b"], now)
    for secret in ("whsec_a", "whsec_b"):
        assert stripe.Webhook.construct_event(payload.decode(), header, secret, tolerance=300).id.startswith("evt_")
        assert signature.verify(payload, header, [secret], now) == secret
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.decode(), header, "whsec_c")
    with pytest.raises(signature.SignatureError):
        signature.verify(payload, header, ["whsec_c"], now)
    # Stripe's own signer (the library's helper) verifies with ours.
    stripes = stripe.WebhookSignature._compute_signature(f"{now}.{payload.decode()}", "whsec_a")
    assert signature.verify(payload, f"t={now},v1={stripes}", ["whsec_a"], now) == "whsec_a"


def test_signatures_tolerance_rotation_and_each_event_once(client: TestClient[Any], standin: StandIn) -> None:
    e = event()
    payload = json.dumps(e).encode()
    t = int(NOW.timestamp())
    assert post(client, payload, None).status_code == 400
    assert post(client, payload, f"t={t},v1={'0' * 64}").status_code == 400
    assert "tolerance" in post(client, payload, sign(payload, ["whsec_new"], t - 301)).text
    assert post(client, payload + b" ", sign(payload, ["whsec_new"], t)).status_code == 400  # the raw body is signed
    # Several v1 (a stale one first), and the rotation: only the new secret signs.
    header = sign(payload, ["whsec_retired"], t) + "," + sign(payload, ["whsec_new"], t).split(",", 1)[1]
    first = post(client, payload, header)
    assert first.status_code == 200 and first.json()["outcome"] == "ignored"
    assert post(client, payload, sign(payload, ["whsec_old"], t)).json()["outcome"] == "duplicate"
    not_event = json.dumps({"object": "list"}).encode()
    bad = post(client, not_event, sign(not_event, ["whsec_new"], t))
    assert bad.status_code == 400 and "not a Stripe event" in bad.text


def test_unknown_session_and_orphan_intent_events_change_nothing(client: TestClient[Any], standin: StandIn) -> None:
    for e in (
        event("checkout.session.completed", {"id": "cs_test_unknown", "object": "checkout.session", "metadata": {}}),
        event("payment_intent.succeeded", {"id": "pi_unknown", "object": "payment_intent"}),
        event(
            "charge.refunded", {"id": "ch_x", "object": "charge", "payment_intent": "pi_unknown", "amount_refunded": 5}
        ),
        event("charge.dispute.created", {"id": "dp_x", "object": "dispute", "payment_intent": "pi_unknown"}),
    ):
        payload, headers = standin.signed(e)
        answer = client.post("/webhooks/stripe", content=payload, headers=headers)
        assert answer.status_code == 200, answer.text


def test_idempotency_replay_errors_and_expand(standin: StandIn) -> None:
    client = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.base}, max_network_retries=0)
    first = client.v1.customers.create(params={"metadata": {"n": "1"}}, options={"idempotency_key": "k-1"})
    again = client.v1.customers.create(params={"metadata": {"n": "1"}}, options={"idempotency_key": "k-1"})
    assert first.id == again.id
    assert sum(1 for o in standin.objects.values() if o["object"] == "customer") == 1
    with pytest.raises(stripe.IdempotencyError) as refused:
        client.v1.customers.create(params={"metadata": {"n": "2"}}, options={"idempotency_key": "k-1"})
    assert refused.value.http_status == 400
    # A card that declines: the error carries type, code and decline_code; replayed identically.
    pm = standin._payment_method("declines")
    params: Any = {
        "amount": 1500,
        "currency": "usd",
        "customer": first.id,
        "payment_method": pm["id"],
        "off_session": True,
        "confirm": True,
    }
    for _ in range(2):
        with pytest.raises(stripe.CardError) as declined:
            client.v1.payment_intents.create(params=params, options={"idempotency_key": "fee-1"})
        assert declined.value.code == "card_declined"
        assert declined.value.error is not None and declined.value.error.decline_code == "insufficient_funds"
    assert sum(1 for o in standin.objects.values() if o["object"] == "payment_intent") == 1
    ok = standin._payment_method("visa")
    paid = client.v1.payment_intents.create(
        params={**params, "payment_method": ok["id"]}, options={"idempotency_key": "fee-2"}
    )
    expanded = client.v1.payment_intents.retrieve(paid.id, params={"expand": ["payment_method", "latest_charge"]})
    assert expanded.payment_method.card.last4 == "4242"  # type: ignore[union-attr]
    assert expanded.latest_charge.captured is True  # type: ignore[union-attr]
    with pytest.raises(stripe.InvalidRequestError) as state:
        client.v1.payment_intents.capture(paid.id, options={"idempotency_key": "cap-1"})
    assert state.value.code == "payment_intent_unexpected_state"
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_test_wrong", base_addresses={"api": standin.base}).v1.customers.create()
