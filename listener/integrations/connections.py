"""External connections: link one, read it back, open its secrets, record what happened to it.

The SQL functions in sql/46_fn_external_connections.sql own the state; this module seals and
unseals secrets around them, so the database only ever holds ciphertext.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import psycopg

from slotoptim.listener.db import fetch_dict
from slotoptim.listener.integrations import secrets


@dataclass(frozen=True)
class Connection:
    id: int
    org_id: int
    provider_id: int | None
    purpose: str
    kind: str
    config: dict[str, Any]
    state: str
    cursor: str | None
    sync_generation: int
    backoff_until: dt.datetime | None
    consecutive_failures: int
    sealed: bytes | None
    sealed_key_id: str | None

    @property
    def binding(self) -> bytes:
        return secrets.binding(self.org_id, self.provider_id, self.purpose)

    def secrets(self) -> dict[str, str]:
        if self.sealed is None:
            return {}
        return secrets.unseal(self.sealed, self.sealed_key_id, self.binding)


def link(
    conn: psycopg.Connection[Any],
    *,
    org_id: int,
    provider_id: int | None,
    purpose: str,
    kind: str,
    config: dict[str, Any],
    secret_values: dict[str, str],
    at: dt.datetime,
) -> int:
    """Links (or relinks) a provider or organisation; secrets are sealed before they are sent."""
    sealed = secrets.seal(secret_values, secrets.binding(org_id, provider_id, purpose)) if secret_values else None
    row = fetch_dict(
        conn,
        "select slotoptim.connect_external(%s, %s, %s, %s, %s::jsonb, %s, %s, %s) as id",
        (
            org_id,
            provider_id,
            purpose,
            kind,
            json.dumps(config),
            sealed.ciphertext if sealed else None,
            sealed.key_id if sealed else None,
            at,
        ),
    )
    assert row is not None
    return int(row["id"])


def load(conn: psycopg.Connection[Any], connection_id: int) -> Connection:
    row = fetch_dict(conn, "select * from slotoptim_private.external_connection where id = %s", (connection_id,))
    if row is None:
        raise LookupError(f"unknown external connection {connection_id}")
    return Connection(
        id=int(row["id"]),
        org_id=int(row["org_id"]),
        provider_id=row["provider_id"],
        purpose=row["purpose"],
        kind=row["kind"],
        config=dict(row["config"]),
        state=row["state"],
        cursor=row["cursor"],
        sync_generation=int(row["sync_generation"]),
        backoff_until=row["backoff_until"],
        consecutive_failures=int(row["consecutive_failures"]),
        sealed=bytes(row["secret"]) if row["secret"] is not None else None,
        sealed_key_id=row["secret_key_id"],
    )


def store_secrets(conn: psycopg.Connection[Any], connection: Connection, values: dict[str, str]) -> None:
    """Re-seals the connection's secrets (after a token refresh), with the current key."""
    sealed = secrets.seal(values, connection.binding)
    conn.execute(
        "select slotoptim.external_secret_rotated(%s, %s, %s)", (connection.id, sealed.ciphertext, sealed.key_id)
    )


def mark_broken(conn: psycopg.Connection[Any], connection_id: int, error: str, at: dt.datetime) -> None:
    conn.execute("select slotoptim.external_connection_broken(%s, %s, %s)", (connection_id, error, at))


def mark_throttled(
    conn: psycopg.Connection[Any], connection_id: int, error: str, retry_at: dt.datetime, at: dt.datetime
) -> int:
    row = fetch_dict(
        conn,
        "select slotoptim.external_connection_throttled(%s, %s, %s, %s) as failures",
        (connection_id, error, retry_at, at),
    )
    return int(row["failures"]) if row and row["failures"] is not None else 0
