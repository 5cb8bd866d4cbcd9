"""No-show protection prices a booking at what the customer was offered: with last-minute pricing
(issue 16) the offer fixes a price, and the requirement's rules, the deposit the claim page shows
and Checkout holds, and the fees all use it; a booking without an offer uses the service price."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from api.api_practice import NOW
from api.claim_helpers import offered, token
from api.conftest import ApiDb, Keys
from litestar.testing import TestClient
from payments.flow import charges, pay, running_standin, set_status
from payments.helpers import SECRET_KEY, link_standin, org_id, set_policy
from payments.stripe_standin import StandIn

AFTER = NOW + dt.timedelta(hours=7)


@pytest.fixture
def standin(api_db: ApiDb, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    monkeypatch.setenv("SLOTOPTIM_SECRET_KEY", SECRET_KEY)
    with running_standin() as s, psycopg.connect(api_db.url, autocommit=True) as conn:
        link_standin(conn, api_db.orgs["acme"], s, NOW)  # type: ignore[arg-type]
        yield s


def discounted_offers(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> list[Any]:
    """Offers of the $100.00 visit at 25 % off (the whole simulated day is "last minute")."""
    db.execute(
        "select slotoptim.set_pricing_policy(id, last_minute_hours => 10000, last_minute_discount_pct => 25)"
        "  from slotoptim_private.organisation where key = 'acme'"
    )
    offers = offered(client, keys, db)
    row = db.execute("select price_cents from slotoptim_private.offer where id = %s", (offers[0]["id"],)).fetchone()
    assert row == {"price_cents": 7500}
    return offers


def requirement(db: psycopg.Connection[dict[str, Any]], offer: dict[str, Any], by_offer: bool) -> dict[str, Any]:
    row = db.execute(
        "select r.* from slotoptim_private.offer as o,"
        " slotoptim.payment_requirement(o.customer_id, o.service_id, o.slot, %s, null,"
        "                               case when %s then o.id end) as r where o.id = %s",
        (NOW, by_offer, offer["id"]),
    ).fetchone()
    assert row is not None
    return dict(row)


def test_the_deposit_is_a_share_of_the_offered_price(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], standin: StandIn
) -> None:
    set_policy(db, org_id(db), {"deposit_min_price": 0})  # a deposit of 50 %
    offer = discounted_offers(client, keys, db)[0]
    t = token(db, offer)
    assert "holds a deposit of $37.50" in client.get(f"/c/{t}").text
    by_offer = requirement(db, offer, by_offer=True)
    assert (by_offer["requirement"], by_offer["amount_minor"], by_offer["price"]) == ("deposit", 3750, 75)
    # Without an offer: the service's list price.
    assert requirement(db, offer, by_offer=False)["amount_minor"] == 5000
    # Checkout holds what the page said.
    k = pay(client, standin, db, offer, t)
    assert (k.status, k.amount_minor, k.hold_status) == ("booked", 3750, "authorised")


def test_the_price_rule_compares_the_offered_price(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    set_policy(db, org_id(db), {"card_min_price": 80})
    offer = discounted_offers(client, keys, db)[0]
    assert requirement(db, offer, by_offer=False)["requirement"] == "card"
    assert requirement(db, offer, by_offer=True)["requirement"] == "none"  # $75.00 is under $80.00
    gate = db.execute("select slotoptim.offer_payment_gate(%s, %s) as g", (offer["id"], NOW)).fetchone()
    assert gate == {"g": None}


def test_an_offer_of_another_customer_is_refused_by_name(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    offers = discounted_offers(client, keys, db)
    other = next(o for o in offers if o["customer_id"] != offers[0]["customer_id"])
    with pytest.raises(psycopg.errors.NoDataFound, match="offer_id: unknown offer"):
        db.execute(
            "select r.* from slotoptim_private.offer as o,"
            " slotoptim.payment_requirement(%s, o.service_id, o.slot, %s, null, %s) as r where o.id = %s",
            (offers[0]["customer_id"], NOW, other["id"], other["id"]),
        )


def test_a_no_show_fee_is_a_share_of_the_offered_price(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], standin: StandIn
) -> None:
    set_policy(db, org_id(db), {"card_min_price": 0})  # a card on file; a no-show costs 100 %
    offer = discounted_offers(client, keys, db)[0]
    k = pay(client, standin, db, offer, token(db, offer))
    assert k.status == "booked"
    set_status(db, k.appointment_id, "no_show", AFTER)
    fee = db.execute("select * from slotoptim.payment_fee(%s, %s)", (k.appointment_id, AFTER)).fetchone()
    assert fee is not None and fee["fee_minor"] == 7500
    [charge] = [c for c in charges(db, k.appointment_id) if c["kind"] == "no_show_fee"]
    assert (charge["amount_minor"], charge["currency"]) == (7500, "USD")
