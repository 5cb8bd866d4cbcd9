"""Claim-link tokens: signed, expiring, single-use (the offer can be claimed once).

A token is base64url(offer id, expiry) plus an HMAC-SHA256 tag over (offer id, customer id,
expiry), truncated to 96 bits: 32 characters, short enough for a one-segment SMS. The customer id
is not in the token but is bound by the tag, so a token works only for the offer's customer. The
key is shared by every replica through slotoptim_private.instance_secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
from dataclasses import dataclass
from typing import Any

import psycopg

from slotoptim.listener.db import fetch_dict

SECRET_NAME = "claim_link"
_LAYOUT = ">QI"  # offer id, expiry (unix seconds)
_TAG_BYTES = 12


class TokenError(Exception):
    """A token that is malformed, forged or expired; the message says which, for the user."""


@dataclass(frozen=True)
class TokenClaims:
    offer_id: int
    expires: int


def signing_key(conn: psycopg.Connection[Any]) -> bytes:
    """The shared signing key, created on first use."""
    conn.execute(
        "insert into slotoptim_private.instance_secret (name, value) values (%s, %s) on conflict (name) do nothing",
        (SECRET_NAME, secrets.token_bytes(32)),
    )
    row = fetch_dict(conn, "select value from slotoptim_private.instance_secret where name = %s", (SECRET_NAME,))
    assert row is not None
    return bytes(row["value"])


def _tag(key: bytes, offer_id: int, customer_id: int, expires: int) -> bytes:
    message = b"claim|" + struct.pack(">QQI", offer_id, customer_id, expires)
    return hmac.new(key, message, hashlib.sha256).digest()[:_TAG_BYTES]


def make_token(key: bytes, offer_id: int, customer_id: int, expires: int) -> str:
    body = struct.pack(_LAYOUT, offer_id, expires)
    return base64.urlsafe_b64encode(body + _tag(key, offer_id, customer_id, expires)).decode().rstrip("=")


_CANONICAL = re.compile(r"^[A-Za-z0-9_-]{32}$")


def read_token(token: str) -> TokenClaims:
    """Parses without checking the tag (that needs the offer's customer): see verify_token.

    Only the one canonical spelling is accepted: base64 decoders skip characters outside the
    alphabet (a `.` inserted anywhere still decoded), so the token must re-encode to itself."""
    if not _CANONICAL.match(token):
        raise TokenError("this link is not valid")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("this link is not valid") from None
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
        raise TokenError("this link is not valid")
    if len(raw) != struct.calcsize(_LAYOUT) + _TAG_BYTES:
        raise TokenError("this link is not valid")
    offer_id, expires = struct.unpack(_LAYOUT, raw[: struct.calcsize(_LAYOUT)])
    return TokenClaims(offer_id=offer_id, expires=expires)


def verify_token(key: bytes, token: str, customer_id: int, now: float) -> TokenClaims:
    claims = read_token(token)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    expected = _tag(key, claims.offer_id, customer_id, claims.expires)
    if not hmac.compare_digest(raw[-_TAG_BYTES:], expected):
        raise TokenError("this link is not valid")
    if now >= claims.expires:
        raise TokenError("this offer has expired")
    return claims
