"""Last-minute pricing: the price fixed on the offer is what the claim page shows (sql/56n_fn_pricing.sql)."""

from __future__ import annotations

from typing import Any

import psycopg
from api.claim_helpers import offered, token
from api.conftest import Keys
from litestar.testing import TestClient


def test_claim_page_shows_the_offer_price(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    # The whole simulated day is "last minute" (within 10 000 hours): 25 % off the $100.00 visit.
    db.execute(
        "select slotoptim.set_pricing_policy(id, last_minute_hours => 10000, last_minute_discount_pct => 25)"
        "  from slotoptim_private.organisation where key = 'acme'"
    )
    offers = offered(client, keys, db)
    row = db.execute(
        "select price_cents, list_price_cents, currency, price_rule from slotoptim_private.offer where id = %s",
        (offers[0]["id"],),
    ).fetchone()
    assert row is not None
    assert (row["price_cents"], row["list_price_cents"], row["currency"]) == (7500, 10000, "USD")
    assert row["price_rule"] == "list 10000, last-minute -25.00%"
    html = client.get(f"/c/{token(db, offers[0])}").text
    assert "$75.00 (usually $100.00)" in html
