"""Offers to claim in the claim-page and dashboard tests: cancel the 14:00 appointment and offer
its gap to everyone (broadcast), then sign links the way the sender does."""

from __future__ import annotations

from typing import Any

import psycopg
from api.conftest import Keys
from litestar.testing import TestClient

from slotoptim.listener.tokens import make_token, signing_key


def offered(
    client: TestClient[Any],
    keys: Keys,
    db: psycopg.Connection[dict[str, Any]],
    org: str = "acme",
    appointment_key: str = "to-cancel",
) -> list[dict[str, Any]]:
    admin = keys.headers("admin" if org == "acme" else "other_admin")
    staff = keys.headers("staff") if org == "acme" else admin
    assert client.patch("/v1/settings", headers=admin, json={"score_threshold": 0}).status_code == 200
    appointment = db.execute(
        "select a.id from slotoptim_private.appointment as a join slotoptim_private.organisation as o"
        " on o.id = a.org_id where a.key = %s and o.key = %s",
        (appointment_key, org),
    ).fetchone()
    assert appointment is not None
    cancelled = client.post(f"/v1/appointments/{appointment['id']}/cancel", headers=staff).json()
    started = client.post(
        "/v1/waitlist/offer", headers=staff, json={"gap_id": cancelled["gap_ids"][0], "strategy": "broadcast"}
    )
    assert started.status_code == 201, started.text
    return list(started.json()["offers"])


def token(db: psycopg.Connection[dict[str, Any]], offer: dict[str, Any], expires: int | None = None) -> str:
    row = db.execute(
        "select extract(epoch from expires_at)::bigint as e from slotoptim_private.offer where id = %s", (offer["id"],)
    ).fetchone()
    assert row is not None
    return make_token(signing_key(db), offer["id"], offer["customer_id"], expires or int(row["e"]))
