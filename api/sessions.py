"""Dashboard sessions: a signed cookie naming the organisation, role, credential and expiry.

Browsers cannot easily send bearer headers, so /dashboard/login takes an API key (or an OIDC
token) once and sets an HttpOnly, SameSite=Strict cookie: base64url(JSON) + "." + HMAC-SHA256.
The HMAC key is instance-wide in slotoptim_private.instance_secret (owner-only), like the claim
links' key. For an API key the session is checked against the key on every request: revoking the
key ends its sessions.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

import psycopg

from slotoptim.api.identity import ROLES, ActorKind, Identity, Role

SECRET_NAME = "dashboard_session"
COOKIE = "slotoptim_session"
LIFETIME_SECONDS = 8 * 3600


@dataclass(frozen=True)
class Session:
    org_id: int
    org_key: str
    role: Role
    kind: ActorKind
    subject: str
    expires: int

    def identity(self) -> Identity:
        return Identity(self.org_id, self.org_key, self.role, self.kind, self.subject)


def session_key(conn: psycopg.Connection[Any]) -> bytes:
    """The shared signing key, created on first use (run as the owner)."""
    conn.execute(
        "insert into slotoptim_private.instance_secret (name, value) values (%s, %s) on conflict (name) do nothing",
        (SECRET_NAME, secrets.token_bytes(32)),
    )
    row = conn.execute("select value from slotoptim_private.instance_secret where name = %s", (SECRET_NAME,)).fetchone()
    assert row is not None
    value = row["value"] if isinstance(row, dict) else row[0]
    return bytes(value)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, b"session|" + body.encode(), hashlib.sha256).digest())


def sign(key: bytes, identity: Identity, now: float) -> str:
    payload = {
        "org": identity.org_id,
        "org_key": identity.org_key,
        "role": identity.role,
        "kind": identity.kind,
        "sub": identity.subject,
        "exp": int(now) + LIFETIME_SECONDS,
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_tag(key, body)}"


def verify(key: bytes, cookie: str, now: float) -> Session | None:
    """The session a cookie carries, or None when it is forged, malformed or expired."""
    body, _, tag = cookie.partition(".")
    if not body or not tag or not hmac.compare_digest(tag, _tag(key, body)):
        return None
    try:
        data = json.loads(_unb64(body))
        session = Session(
            org_id=int(data["org"]),
            org_key=str(data["org_key"]),
            role=data["role"],
            kind=data["kind"],
            subject=str(data["sub"]),
            expires=int(data["exp"]),
        )
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    if session.role not in ROLES or session.kind not in ("api_key", "user") or now >= session.expires:
        return None
    return session
