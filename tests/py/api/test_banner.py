"""The banner `make run` ends with: URLs on the address the service listens on, a live staff key
that re-running keeps (never revoked, never piled up), and a claim link that opens."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import psycopg
from api.claim_helpers import offered
from api.conftest import ApiDb, Keys
from litestar.testing import TestClient

from slotoptim.api.apikeys import find_key
from slotoptim.api.banner import build_banner
from slotoptim.listener.cli import listening_url
from slotoptim.listener.tokens import read_token


def test_banner_gives_a_working_staff_key_and_claim_link(
    api_db: ApiDb, client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], tmp_path: Path
) -> None:
    offers = offered(client, keys, db)
    base = listening_url("127.0.0.1", 8123)
    banner = build_banner(api_db.url, tmp_path, base, org_key="acme")
    assert banner.staff_key is not None and banner.claim_link is not None
    key = find_key(db, banner.staff_key)
    assert key is not None and key.role == "staff" and key.org_id == api_db.orgs["acme"]
    assert stat.S_IMODE(os.stat(tmp_path / "demo-staff-key").st_mode) == 0o600

    text = banner.text()
    for line in ("http://127.0.0.1:8123/dashboard", "http://127.0.0.1:8123/schema", banner.staff_key, "Next:"):
        assert line in text
    assert banner.claim_link.startswith("http://127.0.0.1:8123/c/")
    link_token = banner.claim_link.rsplit("/", 1)[1]
    assert read_token(link_token).offer_id == max(o["id"] for o in offers)
    page = client.get(f"/c/{link_token}")
    assert page.status_code == 200 and "Confirm" in page.text

    count = "select count(*) as n from slotoptim_private.api_key where revoked_at is null"
    before = db.execute(count).fetchone()
    assert build_banner(api_db.url, tmp_path, base, org_key="acme").staff_key == banner.staff_key
    assert db.execute(count).fetchone() == before


def test_listening_url_names_the_real_address() -> None:
    assert listening_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert listening_url("::1", 9000) == "http://[::1]:9000"
    assert not listening_url("0.0.0.0", 8000).startswith("http://0.0.0.0")
