"""PUT/DELETE /v1/appointments/{id}/move-up and the move-up/reminder settings."""

from __future__ import annotations

from typing import Any

import psycopg
from api.conftest import Keys
from litestar.testing import TestClient

Db = psycopg.Connection[dict[str, Any]]


def _appointment(db: Db, org: str, key: str) -> int:
    row = db.execute(
        "select a.id from slotoptim_private.appointment a join slotoptim_private.organisation o on o.id = a.org_id"
        " where a.key = %s and o.key = %s",
        (key, org),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def test_enrol_replace_and_leave(client: TestClient[Any], keys: Keys, db: Db) -> None:
    appointment = _appointment(db, "acme", "to-cancel")
    path = f"/v1/appointments/{appointment}/move-up"
    first = client.put(path, headers=keys.headers("staff"), json={})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["appointment_id"] == appointment and body["enrolled"] is True
    again = client.put(
        path,
        headers=keys.headers("staff"),
        json={"days": ["tue", "wed"], "window": {"start": "09:00", "end": "12:00"}, "any_provider": True},
    )
    assert again.status_code == 200 and again.json()["waitlist_entry_id"] == body["waitlist_entry_id"]
    entry = db.execute(
        "select status, preferred_days, provider_ids, service_ids from slotoptim_private.waitlist_entry where id = %s",
        (body["waitlist_entry_id"],),
    ).fetchone()
    assert entry is not None and entry["status"] == "active"
    assert entry["preferred_days"] == [2, 3] and entry["provider_ids"] is None and len(entry["service_ids"]) == 1
    assert client.delete(path, headers=keys.headers("staff")).status_code == 204
    closed = db.execute(
        "select status from slotoptim_private.waitlist_entry where id = %s", (body["waitlist_entry_id"],)
    ).fetchone()
    assert closed == {"status": "cancelled"}


def test_bad_requests_name_the_problem(client: TestClient[Any], keys: Keys, db: Db) -> None:
    mine = _appointment(db, "acme", "to-cancel")
    theirs = _appointment(db, "bravo", "to-cancel")
    staff = keys.headers("staff")
    assert client.put(f"/v1/appointments/{theirs}/move-up", headers=staff, json={}).status_code == 404
    assert client.put("/v1/appointments/999999/move-up", headers=staff, json={}).status_code == 404
    wrong = client.put(
        f"/v1/appointments/{mine}/move-up", headers=staff, json={"window": {"start": "12:00", "end": "09:00"}}
    )
    assert wrong.status_code == 422 and "window" in wrong.text
    unknown = client.put(f"/v1/appointments/{mine}/move-up", headers=staff, json={"days": ["someday"]})
    assert unknown.status_code == 400 and "days" in unknown.text
    client.post(f"/v1/appointments/{mine}/cancel", headers=staff)
    gone = client.put(f"/v1/appointments/{mine}/move-up", headers=staff, json={})
    assert gone.status_code == 409 and "cannot move earlier" in gone.text
    left = db.execute(
        "select count(*) as n from slotoptim_private.waitlist_entry where moveup_appointment_id is not null"
    )
    assert left.fetchone() == {"n": 0}


def test_settings_carry_move_up_and_reminders(client: TestClient[Any], keys: Keys) -> None:
    admin = keys.headers("admin")
    before = client.get("/v1/settings", headers=admin).json()
    assert before["moveup_prefer"] == "furthest" and before["reminders_enabled"] is False
    changed = client.patch(
        "/v1/settings",
        headers=admin,
        json={"moveup_prefer": "closest", "reminders_enabled": True, "weight_earlier": 40},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["moveup_prefer"] == "closest" and changed.json()["weight_earlier"] == 40
    assert client.patch("/v1/settings", headers=admin, json={"moveup_prefer": "sideways"}).status_code == 400
