"""The public booking page with a payment rule: the page sends the customer to Stripe Checkout and
nothing is booked until Stripe's webhook confirms (it books through the claim path of claim links).
The real `stripe` library against the stand-in, as test_payment_checkout.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from api.api_practice import NOW
from api.conftest import ApiDb
from api.test_booking_page import book, opening
from litestar.testing import TestClient
from payments.flow import checkout_of, events, post_event, running_standin
from payments.helpers import SECRET_KEY, link_standin, org_id, set_policy
from payments.stripe_standin import StandIn


@pytest.fixture
def standin(api_db: ApiDb, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    monkeypatch.setenv("SLOTOPTIM_SECRET_KEY", SECRET_KEY)
    with running_standin() as s, psycopg.connect(api_db.url, autocommit=True) as conn:
        link_standin(conn, api_db.orgs["acme"], s, NOW)  # type: ignore[arg-type]
        yield s


def booking_offer(db: psycopg.Connection[dict[str, Any]]) -> dict[str, Any]:
    row = db.execute(
        "select o.id, o.status, o.appointment_id from slotoptim_private.offer as o"
        " where o.score_detail ->> 'source' = 'booking_page' order by o.id desc limit 1"
    ).fetchone()
    assert row is not None
    return dict(row)


def test_a_deposit_rule_sends_the_booking_to_checkout_and_the_webhook_books(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]], standin: StandIn
) -> None:
    set_policy(db, org_id(db), {"deposit_min_price": 0, "deposit_percent": 50})
    appointments = db.execute("select count(*) as n from slotoptim_private.appointment").fetchone()
    answer = book(client, opening=opening("dr-a", 10))
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(standin.base + "/pay/cs_test_")
    offer = booking_offer(db)
    # Nothing booked before Stripe confirms: the offer is open, the checkout holds the time.
    assert (offer["status"], offer["appointment_id"]) == ("open", None)
    assert db.execute("select count(*) as n from slotoptim_private.appointment").fetchone() == appointments
    k = checkout_of(db, offer["id"])
    assert (k.status, k.mode, k.appointment_id) == ("open", "payment", None)
    assert standin.objects[k.session]["success_url"].startswith("http")
    assert "/c/" in standin.objects[k.session]["success_url"]
    # Someone else trying the same time hears it is being confirmed; nothing of theirs is kept.
    other = book(client, opening=opening("dr-a", 10), name="Bo Other", phone="+16175559999")
    assert other.status_code == 409 and "confirming that time" in other.text

    standin.complete_session(k.session, "visa")
    assert post_event(client, standin, events(standin, "checkout.session.completed")[-1])["outcome"] == "booked"
    offer = booking_offer(db)
    assert offer["status"] == "claimed" and offer["appointment_id"] is not None
    assert checkout_of(db, offer["id"]).appointment_id == offer["appointment_id"]


def test_without_a_rule_the_booking_page_books_at_once(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]], standin: StandIn
) -> None:
    answer = book(client, opening=opening("dr-a", 10))
    assert answer.status_code == 303 and answer.headers["location"].startswith("/c/")
    assert booking_offer(db)["status"] == "claimed"
    assert standin.objects == {} or not any(k.startswith("cs_") for k in standin.objects)


def booked_appointment(db: psycopg.Connection[dict[str, Any]], appointment_id: int) -> dict[str, Any]:
    row = db.execute(
        "select a.source, (select array_agg(w.status) from slotoptim_private.waitlist_entry as w"
        "  where w.moveup_appointment_id = a.id) as moveup"
        " from slotoptim_private.appointment as a where a.id = %s",
        (appointment_id,),
    ).fetchone()
    assert row is not None
    return dict(row)


def test_a_paid_booking_keeps_earlier_if_possible_and_the_booking_page_source(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]], standin: StandIn
) -> None:
    # Issue 12 with issue 13: what the customer ticked survives the trip through Checkout, and the
    # appointment says where it came from, as an unpaid booking from the page does.
    set_policy(db, org_id(db), {"deposit_min_price": 0, "deposit_percent": 50})
    answer = book(client, opening=opening("dr-a", 11), name="Eli Early", phone="+16175550177", earlier="yes")
    assert answer.status_code == 303 and answer.headers["location"].startswith(standin.base), answer.text
    k = checkout_of(db, booking_offer(db)["id"])
    standin.complete_session(k.session, "visa")
    assert post_event(client, standin, events(standin, "checkout.session.completed")[-1])["outcome"] == "booked"
    offer = booking_offer(db)
    assert booked_appointment(db, offer["appointment_id"]) == {"source": "booking_page", "moveup": ["active"]}


def test_a_paid_booking_without_earlier_is_not_enrolled(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]], standin: StandIn
) -> None:
    set_policy(db, org_id(db), {"deposit_min_price": 0, "deposit_percent": 50})
    answer = book(client, opening=opening("dr-a", 10))
    assert answer.status_code == 303 and answer.headers["location"].startswith(standin.base), answer.text
    k = checkout_of(db, booking_offer(db)["id"])
    standin.complete_session(k.session, "visa")
    assert post_event(client, standin, events(standin, "checkout.session.completed")[-1])["outcome"] == "booked"
    offer = booking_offer(db)
    assert booked_appointment(db, offer["appointment_id"]) == {"source": "booking_page", "moveup": None}
