"""/v1/queue: check in, call next, moves, forecast, measures; roles, tenants and bad input."""

from __future__ import annotations

from typing import Any

import psycopg
from api.conftest import PUBLIC_URL, Keys
from api.queue_helpers import add_location, appointment_id
from litestar.testing import TestClient


def test_a_visit_through_the_api(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    add_location(db)
    staff = keys.headers("staff")
    first = client.post("/v1/queue/check-ins", json={"appointment_id": appointment_id(db, "before")}, headers=staff)
    assert first.status_code == 201, first.text
    entry = first.json()
    assert entry["status"] == "waiting" and entry["ticket"] == "A001" and entry["first_name"] == "Customer"
    assert entry["location"] == "main" and entry["status_url"].startswith(f"{PUBLIC_URL}/q/")
    again = client.post("/v1/queue/check-ins", json={"appointment_id": appointment_id(db, "before")}, headers=staff)
    assert again.json()["id"] == entry["id"]  # idempotent

    called = client.post("/v1/queue/providers/dr-a/call-next", headers=staff)
    assert called.status_code == 200 and called.json()["entry"]["id"] == entry["id"]
    assert called.json()["entry"]["status"] == "called"

    walk = client.post("/v1/queue/walk-ins", json={"name": "Wanda Walker", "provider": "dr-a"}, headers=staff)
    assert walk.status_code == 201 and walk.json()["ticket"] == "W001" and walk.json()["first_name"] == "Wanda"
    queue = client.get("/v1/queue/providers/dr-a", headers=keys.headers("readonly"))
    assert queue.status_code == 200
    kinds = {r["entry_id"]: r for r in queue.json()["rows"] if r["entry_id"] is not None}
    assert kinds[entry["id"]]["kind"] == "called"
    waiting = kinds[walk.json()["id"]]
    assert waiting["kind"] == "waiting" and waiting["position"] == 1
    assert (
        waiting["low_minutes"] <= waiting["expected_minutes"] == 30.0 <= waiting["high_minutes"]
    )  # a short visit ahead

    for action, status in (("start", "in_service"), ("done", "done")):
        moved = client.post(f"/v1/queue/entries/{entry['id']}/moves", json={"action": action}, headers=staff)
        assert moved.status_code == 200 and moved.json()["status"] == status
    appointment = db.execute(
        "select status, actual_start, actual_end from slotoptim_private.appointment where id = %s",
        (appointment_id(db, "before"),),
    ).fetchone()
    assert appointment is not None and appointment["status"] == "completed" and appointment["actual_end"] is not None

    metrics = client.get("/v1/queue/metrics", params={"day": "2026-11-24"}, headers=keys.headers("readonly"))
    assert metrics.status_code == 200
    rows = metrics.json()
    assert sum(r["arrivals"] for r in rows) == 2 and sum(r["served"] for r in rows) == 1


def test_refusals_name_the_field(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    staff = keys.headers("staff")
    wrong = client.post("/v1/queue/entries/999/moves", json={"action": "done"}, headers=staff)
    assert wrong.status_code == 404 and "entry" in wrong.json()["detail"]
    bad = client.post("/v1/queue/check-ins", json={"appointment_id": 1, "flags": ["vip"]}, headers=staff)
    assert bad.status_code == 422 and "flags: unknown flag vip" in bad.json()["detail"]
    unknown = client.post("/v1/queue/providers/nobody/call-next", headers=staff)
    assert unknown.status_code == 404 and "provider" in unknown.json()["detail"]
    walk = client.post("/v1/queue/walk-ins", json={"name": "Ann"}, headers=staff)
    assert walk.status_code == 422 and "provider" in walk.json()["detail"]
    action = client.post("/v1/queue/entries/1/moves", json={"action": "fly"}, headers=staff)
    assert action.status_code == 400 and "action" in action.text
    empty = client.post("/v1/queue/providers/dr-a/call-next", headers=staff)
    assert empty.status_code == 200 and empty.json() == {"entry": None}


def test_roles_and_tenants(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    before = appointment_id(db, "before")
    refused = client.post("/v1/queue/check-ins", json={"appointment_id": before}, headers=keys.headers("readonly"))
    assert refused.status_code == 403
    other = client.post("/v1/queue/check-ins", json={"appointment_id": before}, headers=keys.headers("other_admin"))
    assert other.status_code == 404  # acme's appointment does not exist for bravo
    assert db.execute("select count(*) as n from slotoptim_private.queue_entry").fetchone() == {"n": 0}
