"""Queue test helpers on the API practices: a location "main" for acme's providers."""

from __future__ import annotations

from typing import Any

import psycopg


def add_location(db: psycopg.Connection[dict[str, Any]], org: str = "acme") -> int:
    row = db.execute(
        "insert into slotoptim_private.location (org_id, key, name, timezone)"
        " select id, 'main', 'Main street', 'America/New_York' from slotoptim_private.organisation where key = %s"
        " returning id, org_id",
        (org,),
    ).fetchone()
    assert row is not None
    db.execute("update slotoptim_private.provider set location_id = %s where org_id = %s", (row["id"], row["org_id"]))
    return int(row["id"])


def appointment_id(db: psycopg.Connection[dict[str, Any]], key: str, org: str = "acme") -> int:
    row = db.execute(
        "select a.id from slotoptim_private.appointment a join slotoptim_private.organisation o on o.id = a.org_id"
        " where o.key = %s and a.key = %s",
        (org, key),
    ).fetchone()
    assert row is not None
    return int(row["id"])
