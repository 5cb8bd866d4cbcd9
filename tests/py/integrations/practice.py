"""A small practice with one provider linked to an external calendar, for the integration tests."""

from __future__ import annotations

import base64
import datetime as dt
import os
from typing import Any

import psycopg

from slotoptim.listener.integrations import connections

TEST_KEY = base64.b64encode(b"k" * 32).decode()


def use_test_key(monkeypatch: Any) -> None:
    monkeypatch.setenv("SLOTOPTIM_SECRET_KEY", TEST_KEY)
    monkeypatch.delenv("SLOTOPTIM_SECRET_KEYS_OLD", raising=False)


def make_practice(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """Returns (org_id, provider_id) of organisation 'acme', provider 'dr-a' (tests.make_practice)."""
    row = conn.execute("select tests.make_practice() as provider_id").fetchone()
    assert row is not None
    provider_id = int(row["provider_id"] if isinstance(row, dict) else row[0])
    org = conn.execute("select org_id from slotoptim_private.provider where id = %s", (provider_id,)).fetchone()
    assert org is not None
    return int(org["org_id"] if isinstance(org, dict) else org[0]), provider_id


def link_calendar(
    conn: psycopg.Connection[Any],
    org_id: int,
    provider_id: int,
    kind: str = "google",
    config: dict[str, Any] | None = None,
    secret_values: dict[str, str] | None = None,
) -> int:
    assert os.environ.get("SLOTOPTIM_SECRET_KEY") or not secret_values
    return connections.link(
        conn,
        org_id=org_id,
        provider_id=provider_id,
        purpose="calendar",
        kind=kind,
        config=config or {"calendar_id": "dr-a@example.com"},
        secret_values=secret_values or {},
        at=dt.datetime.now(dt.UTC),
    )
