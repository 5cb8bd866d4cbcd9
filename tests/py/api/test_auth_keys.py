"""API keys: bearer or X-API-Key, hashed at rest, revocable; roles readonly < staff < admin."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from typing import Any

import psycopg
from api.conftest import ApiDb, Keys
from litestar.testing import TestClient


def test_missing_or_bad_credentials_are_401(client: TestClient[Any], keys: Keys) -> None:
    for headers in (
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer so_abcdefgh_" + "0" * 48},
        {"Authorization": "Bearer " + keys.admin[:-1] + ("0" if keys.admin[-1] != "0" else "1")},
        {"X-API-Key": "so_nope"},
        {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"},  # a JWT, and no OIDC configured
    ):
        answer = client.get("/v1/providers", headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/v1/providers", headers={"X-API-Key": keys.readonly}).status_code == 200
    both = {"X-API-Key": keys.readonly, "Authorization": f"Bearer {keys.admin}"}
    assert client.get("/v1/providers", headers=both).status_code == 401  # two different credentials
    same = {"X-API-Key": keys.readonly, "Authorization": f"Bearer {keys.readonly}"}
    assert client.get("/v1/providers", headers=same).status_code == 200


def test_roles(client: TestClient[Any], keys: Keys) -> None:
    booking = {"provider": "dr-a", "service": "short", "start": "2026-11-24T09:00:00-05:00"}
    assert client.post("/v1/appointments", headers=keys.headers("readonly"), json=booking).status_code == 403
    assert client.post("/v1/appointments", headers=keys.headers("staff"), json=booking).status_code == 201
    for role, status in (("readonly", 403), ("staff", 403), ("admin", 200)):
        answer = client.patch("/v1/services/short", headers=keys.headers(role), json={"name": "Short"})
        assert answer.status_code == status, (role, answer.text)
        assert client.get("/v1/api-keys", headers=keys.headers(role)).status_code == status
    forbidden = client.post("/v1/waitlist/offer", headers=keys.headers("readonly"), json={"gap_id": 1})
    assert forbidden.status_code == 403 and "staff" in forbidden.json()["detail"]


def test_keys_are_hashed_shown_once_and_revocable(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    h = keys.headers("admin")
    made = client.post("/v1/api-keys", headers=h, json={"name": "kiosk", "role": "readonly"})
    assert made.status_code == 201, made.text
    secret, info = made.json()["secret"], made.json()["key"]
    assert secret.startswith(f"so_{info['prefix']}_") and "secret" not in json.dumps(
        client.get("/v1/api-keys", headers=h).json()
    )
    row = db.execute("select * from slotoptim_private.api_key where id = %s", (info["id"],)).fetchone()
    assert row is not None
    stored = " ".join(str(v) for v in row.values())
    assert secret.split("_")[2] not in stored
    assert bytes(row["secret_sha256"]) == hashlib.sha256(secret.split("_")[2].encode()).digest()

    assert client.get("/v1/providers", headers={"X-API-Key": secret}).status_code == 200
    assert client.delete(f"/v1/api-keys/{info['id']}", headers=h).status_code == 204
    assert client.get("/v1/providers", headers={"X-API-Key": secret}).status_code == 401
    listed = {k["id"]: k for k in client.get("/v1/api-keys", headers=h).json()}
    assert listed[info["id"]]["revoked_at"] is not None
    assert client.post("/v1/api-keys", headers=h, json={"name": "", "role": "readonly"}).status_code == 400
    assert client.post("/v1/api-keys", headers=h, json={"name": "x", "role": "root"}).status_code == 400


def test_cli_creates_a_key(api_db: ApiDb, client: TestClient[Any]) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "slotoptim.listener.cli",
            "apikey",
            "create",
            "--org",
            "bravo",
            "--role",
            "staff",
            "--name",
            "cli",
        ],
        env={**os.environ, "DATABASE_URL": api_db.url},
        capture_output=True,
        text=True,
        check=True,
    )
    printed = json.loads(result.stdout)
    assert printed["org"] == "bravo" and printed["role"] == "staff" and printed["key"].startswith("so_")
    providers = client.get("/v1/providers", headers={"Authorization": f"Bearer {printed['key']}"})
    assert providers.status_code == 200
    unknown = subprocess.run(
        [
            sys.executable,
            "-m",
            "slotoptim.listener.cli",
            "apikey",
            "create",
            "--org",
            "nope",
            "--role",
            "staff",
            "--name",
            "x",
        ],
        env={**os.environ, "DATABASE_URL": api_db.url},
        capture_output=True,
        text=True,
    )
    assert unknown.returncode == 2 and "--org" in unknown.stderr
