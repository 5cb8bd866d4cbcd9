"""GET /v1/kpis after a gap is opened, offered and claimed."""

from __future__ import annotations

from typing import Any

import psycopg
from api.conftest import Keys
from api.test_gaps_offers import _offered, _token
from litestar.testing import TestClient

from slotoptim.listener.retraction import retract_claimed_gaps


def test_kpis_of_a_filled_gap(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    empty = client.get("/v1/kpis", params={"from": "2026-11-24", "to": "2026-11-24"}, headers=keys.headers("readonly"))
    assert empty.status_code == 200, empty.text
    assert empty.json()["gaps_opened"] == 0 and empty.json()["fill_rate"] is None

    offer = _offered(client, keys, db)["offers"][0]
    claimed = client.post(
        "/v1/bookings/instant-claim",
        headers=keys.headers("staff"),
        json={"slot_token": _token(db, offer), "customer_id": offer["customer_id"]},
    )
    assert claimed.json()["outcome"] == "booked"
    retract_claimed_gaps(db)  # the engine's work after the claim's commit: the other offers are retracted
    kpis = client.get("/v1/kpis", params={"from": "2026-11-24", "to": "2026-11-24"}, headers=keys.headers("readonly"))
    body = kpis.json()
    assert body["from"] == "2026-11-24" and body["to"] == "2026-11-24"
    assert (body["gaps_opened"], body["gaps_filled"], body["fill_rate"]) == (1, 1, 1.0)
    assert body["minutes_to_fill"] == 0.0
    assert body["revenue_recovered"] == {"amount": 100.0, "currency": "USD", "appointments": 1}
    assert body["funnel"]["offers"] == 6 and body["funnel"]["claimed"] == 1 and body["funnel"]["retracted"] == 5
    assert [d["day"] for d in body["days"]] == ["2026-11-24"]
    week = client.get("/v1/kpis", headers=keys.headers("readonly")).json()
    assert (week["from"], week["to"], week["gaps_filled"]) == ("2026-11-18", "2026-11-24", 1), "the last 7 days"
    since = client.get("/v1/kpis", params={"to": "2026-11-30"}, headers=keys.headers("readonly")).json()
    assert since["from"] == "2026-11-24", "a week ending on 'to'"


def test_kpi_period_is_validated(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("readonly")
    backwards = client.get("/v1/kpis", params={"from": "2026-11-25", "to": "2026-11-24"}, headers=h)
    assert backwards.status_code == 422 and "from" in backwards.text
    assert client.get("/v1/kpis", params={"from": "2024-01-01", "to": "2026-11-24"}, headers=h).status_code == 422
    assert client.get("/v1/kpis", params={"from": "yesterday"}, headers=h).status_code == 400
