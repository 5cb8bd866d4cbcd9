"""Links to a customer's own queue status (/q/{token}) and own check-in (/here/{token}).

base64url(kind, id, expiry) plus an HMAC-SHA256 tag truncated to 96 bits, under the instance's
claim-link key with a domain prefix ("queue|"), so a claim token can never pass for a queue token
or the other way round. A status link lasts the day; a check-in link until the appointment's day ends.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from typing import Literal

_LAYOUT = ">BQI"  # kind, id, expiry (unix seconds)
_TAG_BYTES = 12
KINDS = {"status": 1, "check_in": 2}
TokenKind = Literal["status", "check_in"]


@dataclass(frozen=True)
class QueueToken:
    kind: TokenKind
    id: int
    expires: int


def _tag(key: bytes, kind: int, id_: int, expires: int) -> bytes:
    return hmac.new(key, b"queue|" + struct.pack(_LAYOUT, kind, id_, expires), hashlib.sha256).digest()[:_TAG_BYTES]


def make(key: bytes, kind: TokenKind, id_: int, expires: int) -> str:
    code = KINDS[kind]
    raw = struct.pack(_LAYOUT, code, id_, expires) + _tag(key, code, id_, expires)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def verify(key: bytes, token: str, kind: TokenKind, now: float) -> QueueToken | None:
    """The token's claims, or None when it is malformed, forged, of another kind or expired."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    size = struct.calcsize(_LAYOUT)
    if len(raw) != size + _TAG_BYTES:
        return None
    code, id_, expires = struct.unpack(_LAYOUT, raw[:size])
    if code != KINDS[kind] or not hmac.compare_digest(raw[size:], _tag(key, code, id_, expires)) or now >= expires:
        return None
    return QueueToken(kind, id_, expires)
