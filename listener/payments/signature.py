"""Stripe-Signature verification, as stripe-python's `stripe/_webhook.py` does it, on our clock.

Header: `t=<unix>,v1=<hex>[,v1=<hex>...]`. Signed payload: `<t>.<raw body>`; expected:
HMAC-SHA256 keyed with the endpoint secret (whsec_...), hex. Valid when any v1 matches any of
the endpoint's current secrets (Stripe signs with every active secret while one rotates), with a
constant-time comparison, and when the timestamp is no older than the tolerance (300 s by
default, like Stripe's). The time is a parameter (tests drive it), which is why this is not
`stripe.Webhook.construct_event` (it reads the wall clock); tests check both agree.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

DEFAULT_TOLERANCE = 300
MAX_HEADER = 4096


class SignatureError(Exception):
    """The request is not from Stripe (or too old to trust); the message says which check failed."""


def parse(header: str) -> tuple[int, list[str]]:
    if not header or len(header) > MAX_HEADER:
        raise SignatureError("missing or oversized Stripe-Signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            if not value.isdigit():
                raise SignatureError("Stripe-Signature timestamp is not a number")
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("Stripe-Signature has no timestamp")
    if not signatures:
        raise SignatureError("Stripe-Signature has no v1 signature")
    return timestamp, signatures


def expected(payload: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()


def verify(payload: bytes, header: str, secrets: Sequence[str], now: float, tolerance: int = DEFAULT_TOLERANCE) -> str:
    """Returns the secret that signed the payload; raises SignatureError otherwise."""
    timestamp, signatures = parse(header)
    for secret in secrets:
        mac = expected(payload, secret, timestamp)
        if any(hmac.compare_digest(mac, given) for given in signatures):
            if tolerance > 0 and timestamp < now - tolerance:
                raise SignatureError("Stripe-Signature timestamp is outside the tolerance zone")
            return secret
    raise SignatureError("no signature matches the payload for the endpoint's secrets")
