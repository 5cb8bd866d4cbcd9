"""API keys: `so_<prefix>_<secret>`, shown once when created, stored as the secret's SHA-256.

The prefix (public, unique) finds the row; the secret's hash is compared in constant time. The
secrets are 192 random bits, so a fast hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

import psycopg

from slotoptim.api.identity import Role

TOKEN_PATTERN = re.compile(r"^so_([a-z0-9]{8})_([0-9a-f]{48})$")


@dataclass(frozen=True)
class ApiKey:
    id: int
    org_id: int
    org_key: str
    name: str
    prefix: str
    role: Role
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    token: str  # the only time the secret exists outside the caller's hands


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def new_token() -> tuple[str, str, str]:
    """(prefix, secret, token)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    prefix = "".join(secrets.choice(alphabet) for _ in range(8))
    secret = secrets.token_hex(24)
    return prefix, secret, f"so_{prefix}_{secret}"


def looks_like_key(token: str) -> bool:
    return token.startswith("so_")


_SELECT = (
    "select k.id, k.org_id, o.key as org_key, k.name, k.prefix, k.role, k.created_at, k.revoked_at, k.secret_sha256"
    " from slotoptim_private.api_key as k join slotoptim_private.organisation as o on o.id = k.org_id"
)


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=int(row["id"]),
        org_id=int(row["org_id"]),
        org_key=str(row["org_key"]),
        name=str(row["name"]),
        prefix=str(row["prefix"]),
        role=row["role"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def find_key(conn: psycopg.Connection[Any], token: str) -> ApiKey | None:
    """The live key this token proves, or None. Run as the owner: the organisation is not known yet."""
    match = TOKEN_PATTERN.match(token)
    if match is None:
        return None
    prefix, secret = match.groups()
    row = conn.execute(_SELECT + " where k.prefix = %s and k.revoked_at is null", (prefix,)).fetchone()
    if row is None or not hmac.compare_digest(bytes(row["secret_sha256"]), secret_hash(secret)):
        return None
    return _key(row)


def create_key(conn: psycopg.Connection[Any], org_id: int, name: str, role: Role) -> CreatedKey:
    prefix, secret, token = new_token()
    row = conn.execute(
        "insert into slotoptim_private.api_key (org_id, name, prefix, secret_sha256, role)"
        " values (%s, %s, %s, %s, %s) returning id",
        (org_id, name, prefix, secret_hash(secret), role),
    ).fetchone()
    assert row is not None
    key = get_key(conn, org_id, int(row["id"]))
    assert key is not None
    return CreatedKey(key, token)


def get_key(conn: psycopg.Connection[Any], org_id: int, key_id: int) -> ApiKey | None:
    row = conn.execute(_SELECT + " where k.org_id = %s and k.id = %s", (org_id, key_id)).fetchone()
    return None if row is None else _key(row)


def list_keys(conn: psycopg.Connection[Any], org_id: int) -> list[ApiKey]:
    rows = conn.execute(_SELECT + " where k.org_id = %s order by k.id", (org_id,)).fetchall()
    return [_key(r) for r in rows]


def revoke_key(conn: psycopg.Connection[Any], org_id: int, key_id: int, at: dt.datetime) -> ApiKey | None:
    conn.execute(
        "update slotoptim_private.api_key set revoked_at = coalesce(revoked_at, %s) where org_id = %s and id = %s",
        (at, org_id, key_id),
    )
    return get_key(conn, org_id, key_id)
