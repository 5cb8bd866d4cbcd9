"""Rules around a protected booking: a text YES cannot skip the payment, a prepayment is taken
once the booking commits, a hold that would lapse before the visit is released (fees then go to
the card on file), and the no-show rate of customers under a deposit rule is measured."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from api.api_practice import NOW
from api.claim_helpers import offered, token
from api.conftest import ApiDb, Keys
from api.test_webhooks import INBOUND, inbound, post_signed
from litestar.testing import TestClient
from payments.flow import charges, checkout_of, pay, run_payments, running_standin, set_status
from payments.helpers import SECRET_KEY, add_no_shows, link_standin, org_id, set_policy
from payments.stripe_standin import StandIn

AFTER = NOW + dt.timedelta(hours=7)


@pytest.fixture
def standin(api_db: ApiDb, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    monkeypatch.setenv("SLOTOPTIM_SECRET_KEY", SECRET_KEY)
    with running_standin() as s, psycopg.connect(api_db.url, autocommit=True) as conn:
        link_standin(conn, api_db.orgs["acme"], s, NOW)  # type: ignore[arg-type]
        yield s


def test_a_text_yes_does_not_book_a_protected_slot(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    set_policy(db, org_id(db), {"card_min_price": 0})
    offered(client, keys, db)
    answer = post_signed(client, INBOUND, inbound("YES", "+16175550001"))
    assert "needs a card or deposit" in answer.text
    booked = db.execute("select count(*) as n from slotoptim_private.appointment where source = 'waitlist'").fetchone()
    assert booked == {"n": 0}


def test_prepayment_is_captured_after_the_booking_commits(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], standin: StandIn, api_db: ApiDb
) -> None:
    set_policy(db, org_id(db), {})
    offer = offered(client, keys, db)[0]
    add_no_shows(db, int(offer["customer_id"]), [NOW - dt.timedelta(days=d) for d in (20, 40, 60)])
    t = token(db, offer)
    assert "asks you to pay $100.00" in client.get(f"/c/{t}").text
    k = pay(client, standin, db, offer, t)
    assert (k.status, k.amount_minor) == ("booked", 10000)
    [capture] = charges(db, k.appointment_id)
    assert (capture["kind"], capture["status"]) == ("prepayment_capture", "queued")  # queued in the booking's commit
    run_payments(api_db.url)
    [capture] = charges(db, k.appointment_id)
    assert capture["status"] == "succeeded"
    assert standin.objects[capture["payment_intent"]]["amount_received"] == 10000
    # A no-show later costs nothing more: it is paid.
    set_status(db, k.appointment_id, "no_show", AFTER)
    assert len(charges(db, k.appointment_id)) == 1


def test_a_hold_that_would_lapse_is_released_and_the_card_charged_instead(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], standin: StandIn, api_db: ApiDb
) -> None:
    set_policy(db, org_id(db), {"deposit_min_price": 0})
    offer = offered(client, keys, db)[0]
    k = pay(client, standin, db, offer, token(db, offer))
    # Pretend the authorisation ends before the appointment does (a visit more than ~7 days out).
    db.execute(
        "update slotoptim_private.payment_checkout set capture_before = %s where id = %s",
        (NOW + dt.timedelta(hours=3), k.id),
    )
    assert run_payments(api_db.url, NOW)["holds_released"] == 1
    assert checkout_of(db, offer["id"]).hold_status == "released"
    [release] = charges(db, k.appointment_id) or charges(db)
    assert (release["kind"], release["status"]) == ("hold_release", "succeeded")
    set_status(db, k.appointment_id, "no_show", AFTER)
    run_payments(api_db.url, AFTER)
    fee = [c for c in charges(db, k.appointment_id) if c["kind"] == "no_show_fee"]
    assert fee and fee[0]["status"] == "succeeded" and fee[0]["amount_minor"] == 10000
    sent = [r for r in standin.requests if r["path"] == "/v1/payment_intents"]
    assert dict(sent[-1]["params"])["off_session"] == "true"


def test_no_show_rate_under_a_deposit_rule(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], standin: StandIn, api_db: ApiDb
) -> None:
    set_policy(db, org_id(db), {})
    offer = offered(client, keys, db)[0]
    customer = int(offer["customer_id"])
    add_no_shows(db, customer, [NOW - dt.timedelta(days=d) for d in (30, 60)])
    db.execute(
        "insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period, status,"
        " source, booked_at) select org_id, provider_id, service_id, customer_id,"
        " tstzrange(lower(period) + interval '1 day', upper(period) + interval '1 day'), 'completed',"
        " source, booked_at from slotoptim_private.appointment where customer_id = %s and status = 'no_show' limit 1",
        (customer,),
    )
    k = pay(client, standin, db, offer, token(db, offer))
    set_status(db, k.appointment_id, "arrived", NOW + dt.timedelta(hours=5))
    row = db.execute("select * from slotoptim.deposit_rule_noshow where org_key = 'acme'").fetchone()
    assert row is not None
    assert (row["customers"], row["appointments_before"], row["no_shows_before"]) == (1, 3, 2)
    assert (row["appointments_after"], row["no_shows_after"], float(row["no_show_rate_after"])) == (1, 0, 0.0)


def test_without_stripe_the_customer_is_told_and_nothing_is_held(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    set_policy(db, org_id(db), {"card_min_price": 0})
    offers = offered(client, keys, db)
    t = token(db, offers[0])
    page = client.post(f"/c/{t}", data={"token": t})
    assert page.status_code == 200 and "Online payment is not available" in page.text
    # Linked, but Stripe does not answer (a closed port): the pending row is given back at once.
    monkeypatch.setenv("SLOTOPTIM_SECRET_KEY", SECRET_KEY)
    dead = StandIn(base="http://127.0.0.1:9")
    link_standin(db, org_id(db), dead, NOW)
    page = client.post(f"/c/{t}", data={"token": t})
    assert page.status_code == 200 and "Online payment is not available" in page.text
    assert checkout_of(db, offers[0]["id"]).status == "expired"
    t2 = token(db, offers[1])
    assert "Someone is confirming" not in client.post(f"/c/{t2}", data={"token": t2}).text
