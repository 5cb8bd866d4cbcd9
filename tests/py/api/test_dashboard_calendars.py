"""The dashboard shows each linked calendar, broken ones first with what to do."""

from __future__ import annotations

from typing import Any

import psycopg
from api.conftest import Keys
from litestar.testing import TestClient


def test_broken_calendar_is_shown(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    assert "No calendars linked" in client.get("/dashboard", headers=keys.headers("readonly")).text
    provider = db.execute(
        "select p.id, p.org_id, p.key from slotoptim_private.provider p"
        " join slotoptim_private.organisation o on o.id = p.org_id where o.key = 'acme' order by p.key limit 1"
    ).fetchone()
    assert provider is not None
    cid = db.execute(
        "select slotoptim.connect_external(%s, %s, 'calendar', 'google', '{\"calendar_id\": \"x@example.com\"}',"
        " null, null) as id",
        (provider["org_id"], provider["id"]),
    ).fetchone()
    assert cid is not None
    db.execute(
        "select slotoptim.external_connection_broken(%s, 'google token refresh refused: invalid_grant')", (cid["id"],)
    )
    html = client.get("/dashboard", headers=keys.headers("readonly")).text
    assert "Linked calendars" in html and "<strong>Broken</strong>" in html
    assert "Reconnect: google token refresh refused: invalid_grant" in html and provider["key"] in html
    assert "Linked calendars" in client.get("/dashboard", headers=keys.headers("other_admin")).text
    assert "Broken" not in client.get("/dashboard", headers=keys.headers("other_admin")).text
