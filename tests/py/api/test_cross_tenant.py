"""With acme's credentials, bravo's ids and keys are 404 through every endpoint, and nothing of
bravo's changes. Row-level security is what stops it: a query without any organisation filter,
run through the API's transaction, sees acme's rows only."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from api.api_practice import local
from api.conftest import ApiDb, Keys
from litestar.testing import TestClient

from slotoptim.api.db import Database
from slotoptim.api.identity import Actor, DbContext
from slotoptim.listener.tokens import make_token, signing_key

TENANT_TABLES = (
    "appointment",
    "waitlist_entry",
    "provider",
    "provider_service",
    "service",
    "working_hours",
    "customer",
    "gap",
    "offer",
    "offer_campaign",
    "message",
    "organisation_settings",
    "api_key",
    "audit_event",
)


def snapshot(db: psycopg.Connection[dict[str, Any]], org_id: int) -> str:
    parts = {}
    for table in TENANT_TABLES:
        rows = db.execute(
            psycopg.sql.SQL("select * from {} where org_id = %s order by 1").format(
                psycopg.sql.Identifier("slotoptim_private", table)
            ),
            (org_id,),
        ).fetchall()
        parts[table] = rows
    return json.dumps(parts, default=str, sort_keys=True)


@pytest.fixture
def bravo(client: TestClient[Any], keys: Keys, api_db: ApiDb, db: psycopg.Connection[dict[str, Any]]) -> dict[str, Any]:
    """Bravo's ids: an appointment, a waitlist entry, a gap being offered with a token, an API key,
    and a provider, service and customer whose keys exist only at bravo."""
    theirs = {"Authorization": f"Bearer {keys.other_admin}"}
    org = api_db.orgs["bravo"]
    for statement in (
        "insert into slotoptim_private.provider (org_id, key, name, timezone) values (%s, 'dr-z', 'Dr. Z', 'UTC')",
        "insert into slotoptim_private.service (org_id, key, name, minutes) values (%s, 'zz', 'ZZ', 30)",
        "insert into slotoptim_private.customer (org_id, key, name) values (%s, 'cz', 'C Z')",
    ):
        db.execute(statement, (org,))
    assert client.patch("/v1/settings", headers=theirs, json={"score_threshold": 0}).status_code == 200
    appointments = client.get("/v1/appointments", headers=theirs).json()["items"]
    by_key = {a["key"]: a["id"] for a in appointments}
    gap = client.post(f"/v1/appointments/{by_key['to-cancel']}/cancel", headers=theirs).json()["gap_ids"][0]
    campaign = client.post("/v1/waitlist/offer", headers=theirs, json={"gap_id": gap, "strategy": "broadcast"}).json()
    offer = campaign["offers"][0]
    expires = db.execute(
        "select extract(epoch from expires_at)::bigint as e from slotoptim_private.offer where id = %s", (offer["id"],)
    ).fetchone()
    assert expires is not None
    return {
        "org": org,
        "appointment": by_key["before"],
        "entry": client.get("/v1/waitlist/entries", headers=theirs).json()["items"][0]["id"],
        "gap": gap,
        "token": make_token(signing_key(db), offer["id"], offer["customer_id"], int(expires["e"])),
        "customer_id": offer["customer_id"],
        "api_key": client.get("/v1/api-keys", headers=theirs).json()[0]["id"],
    }


def test_every_endpoint_refuses_another_organisations_ids(
    client: TestClient[Any], keys: Keys, bravo: dict[str, Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    before = snapshot(db, bravo["org"])
    h = keys.headers("admin")
    a, e, g = bravo["appointment"], bravo["entry"], bravo["gap"]
    start = local(9).isoformat()
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/v1/appointments/{a}", {}),
        ("POST", f"/v1/appointments/{a}/cancel", {}),
        ("POST", f"/v1/appointments/{a}/reschedule", {"json": {"start": start}}),
        ("POST", f"/v1/appointments/{a}/status", {"json": {"status": "no_show"}}),
        ("GET", f"/v1/waitlist/entries/{e}", {}),
        ("PATCH", f"/v1/waitlist/entries/{e}", {"json": {"tier": "gold"}}),
        ("DELETE", f"/v1/waitlist/entries/{e}", {}),
        ("GET", f"/v1/gaps/{g}", {}),
        ("POST", "/v1/waitlist/offer", {"json": {"gap_id": g}}),
        (
            "POST",
            "/v1/bookings/instant-claim",
            {"json": {"slot_token": bravo["token"], "customer_id": bravo["customer_id"]}},
        ),
        ("DELETE", f"/v1/api-keys/{bravo['api_key']}", {}),
        ("GET", "/v1/providers/dr-z", {}),
        ("PATCH", "/v1/providers/dr-z", {"json": {"active": False}}),
        ("GET", "/v1/providers/dr-z/hours", {}),
        ("PUT", "/v1/providers/dr-z/hours", {"json": [{"days": ["mon"], "start": "09:00", "end": "10:00"}]}),
        ("GET", "/v1/services/zz", {}),
        ("PATCH", "/v1/services/zz", {"json": {"price": 1}}),
        ("GET", "/v1/gaps/analyze", {"params": {"provider": "dr-z", "start": start, "end": local(17).isoformat()}}),
        ("GET", "/v1/gaps", {"params": {"provider": "dr-z"}}),
        ("GET", "/v1/appointments", {"params": {"provider": "dr-z"}}),
        ("POST", "/v1/appointments", {"json": {"provider": "dr-z", "service": "short", "start": start}}),
        ("POST", "/v1/appointments", {"json": {"provider": "dr-a", "service": "zz", "start": start}}),
        (
            "POST",
            "/v1/appointments",
            {"json": {"provider": "dr-a", "service": "short", "customer": "cz", "start": start}},
        ),
        ("POST", "/v1/waitlist/entries", {"json": {"customer": "cz", "services": ["short"]}}),
        ("POST", "/v1/waitlist/entries", {"json": {"customer": "c1", "services": ["zz"]}}),
        ("GET", "/v1/waitlist/entries", {"params": {"customer": "cz"}}),
    ]
    for method, path, kwargs in attempts:
        answer = client.request(method, path, headers=h, **kwargs)
        assert answer.status_code == 404, (method, path, answer.status_code, answer.text)
        assert "bravo" not in answer.text.lower()
    assert snapshot(db, bravo["org"]) == before


def test_lists_and_measures_hold_only_the_callers_rows(
    client: TestClient[Any], keys: Keys, bravo: dict[str, Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    h = keys.headers("readonly")
    theirs = {
        row["id"]
        for row in db.execute("select id from slotoptim_private.appointment where org_id = %s", (bravo["org"],))
    }
    ours = {a["id"] for a in client.get("/v1/appointments", params={"limit": 200}, headers=h).json()["items"]}
    assert ours and not ours & theirs
    entries = {x["id"] for x in client.get("/v1/waitlist/entries", params={"limit": 200}, headers=h).json()["items"]}
    assert bravo["entry"] not in entries
    assert bravo["gap"] not in {x["id"] for x in client.get("/v1/gaps", headers=h).json()["items"]}
    assert "dr-z" not in {p["key"] for p in client.get("/v1/providers", headers=h).json()}
    assert client.get("/v1/kpis", headers=h).json()["funnel"]["offers"] == 0  # bravo's offers are not ours


def test_tenant_isolation_is_enforced_by_the_database(api_db: ApiDb) -> None:
    """The API's transactions run as slotoptim_app: a query that forgets the organisation still
    sees one organisation, and cannot write into another."""
    db = Database(api_db.url, max_size=1)
    db.open()
    try:
        acme = DbContext(api_db.orgs["acme"], Actor("api_key", "test", None))
        with db.transaction(acme) as conn:
            role = conn.execute("select current_user as u").fetchone()
            assert role is not None and role["u"] == "slotoptim_app"
            orgs = conn.execute("select distinct org_id from slotoptim_private.appointment").fetchall()
            assert [r["org_id"] for r in orgs] == [api_db.orgs["acme"]]
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction(acme) as conn:
            conn.execute(
                "insert into slotoptim_private.customer (org_id, key, name) values (%s, 'intruder', 'X')",
                (api_db.orgs["bravo"],),
            )
    finally:
        db.close()
