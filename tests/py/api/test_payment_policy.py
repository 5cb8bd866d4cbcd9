"""slotoptim.payment_requirement and slotoptim.payment_fee: what the policy asks, and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from api.api_practice import NOW, SLOT
from api.conftest import ApiDb
from payments.helpers import add_no_shows, customer_id, org_id, service_id, set_policy

SLOT_RANGE = (SLOT, SLOT + dt.timedelta(minutes=30))


def requirement(
    db: psycopg.Connection[dict[str, Any]], customer: int, service: int, risk: float | None = None
) -> dict[str, Any]:
    row = db.execute(
        "select * from slotoptim.payment_requirement(%s::bigint, %s::bigint, tstzrange(%s, %s), %s, %s::real)",
        (customer, service, *SLOT_RANGE, NOW, risk),
    ).fetchone()
    assert row is not None
    return dict(row)


def test_no_policy_requires_nothing(api_db: ApiDb, db: psycopg.Connection[dict[str, Any]]) -> None:
    r = requirement(db, customer_id(db, "c1"), service_id(db, "short"))
    assert (r["requirement"], r["rule"]) == ("none", "no_policy")


def test_no_show_history_in_the_rolling_window(api_db: ApiDb, db: psycopg.Connection[dict[str, Any]]) -> None:
    org, c1, short = org_id(db), customer_id(db, "c1"), service_id(db, "short")
    set_policy(db, org, {})  # the defaults: card from 1, deposit from 2, prepayment from 3 in 183 days
    assert requirement(db, c1, short)["requirement"] == "none"
    add_no_shows(db, c1, [NOW - dt.timedelta(days=400)])  # outside the window: not counted
    assert requirement(db, c1, short)["no_shows"] == 0
    add_no_shows(db, c1, [NOW - dt.timedelta(days=100)])
    r = requirement(db, c1, short)
    assert (r["requirement"], r["rule"], r["amount_minor"]) == ("card", "no_show_history", 0)
    assert r["explanation"] == "1 no-show in the last 183 days (card on file from 1)"
    add_no_shows(db, c1, [NOW - dt.timedelta(days=50)])
    r = requirement(db, c1, short)
    # A deposit is 50 % of the price (100.00 USD): 5000 cents.
    assert (r["requirement"], r["amount_minor"], r["currency"]) == ("deposit", 5000, "USD")
    assert r["explanation"] == "2 no-shows in the last 183 days (deposit from 2)"
    add_no_shows(db, c1, [NOW - dt.timedelta(days=10)])
    r = requirement(db, c1, short)
    assert (r["requirement"], r["amount_minor"]) == ("prepayment", 10000)


def test_tier_price_and_risk_rules(api_db: ApiDb, db: psycopg.Connection[dict[str, Any]]) -> None:
    org, c2, short, long_ = org_id(db), customer_id(db, "c2"), service_id(db, "short"), service_id(db, "long")
    set_policy(
        db,
        org,
        {"card_min_price": 200, "deposit_min_price": 1000, "risk_threshold": 0.4, "risk_requirement": "deposit"},
    )
    assert requirement(db, c2, short)["requirement"] == "none"
    r = requirement(db, c2, long_)
    assert (r["requirement"], r["rule"]) == ("card", "price")
    assert r["explanation"] == "price 250.00 is at least 200.00 (card on file)"
    r = requirement(db, c2, short, risk=0.55)
    assert (r["requirement"], r["rule"], r["amount_minor"]) == ("deposit", "risk", 5000)
    assert "risk 0.55 is at or above 0.4" in r["explanation"]
    assert requirement(db, c2, short, risk=0.2)["requirement"] == "none"
    db.execute(
        "update slotoptim_private.waitlist_entry set tier = 'silver' where customer_id = %s and status = 'active'",
        (c2,),
    )
    set_policy(db, org, {"deposit_tiers": ["silver"]})
    r = requirement(db, c2, short)
    assert (r["requirement"], r["rule"], r["explanation"]) == ("deposit", "tier", "tier silver requires a deposit")


def test_a_service_policy_overrides_the_organisation(api_db: ApiDb, db: psycopg.Connection[dict[str, Any]]) -> None:
    org, c3, short, long_ = org_id(db), customer_id(db, "c3"), service_id(db, "short"), service_id(db, "long")
    set_policy(db, org, {"card_min_price": 0})
    set_policy(db, org, {"card_min_price": None, "deposit_min_price": 0, "deposit_percent": 20}, service="long")
    assert requirement(db, c3, short)["requirement"] == "card"
    r = requirement(db, c3, long_)
    assert (r["requirement"], r["amount_minor"]) == ("deposit", 5000)  # 20 % of 250.00


def test_unknown_policy_field_is_named(api_db: ApiDb, db: psycopg.Connection[dict[str, Any]]) -> None:
    try:
        set_policy(db, org_id(db), {"deposit_precent": 20})
    except psycopg.errors.InvalidParameterValue as exc:
        assert "deposit_precent: unknown policy field" in str(exc)
    else:
        raise AssertionError("an unknown field was accepted")
