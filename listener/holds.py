"""Redis holds on a gap while one claimant confirms: polite and fast, never the arbiter.

`SET key value NX PX ttl` takes the hold; release is compare-and-delete in Lua so a claimant whose
hold expired cannot delete someone else's. If Redis is unreachable the hold is skipped and the
database alone decides, which stays correct (the exclusion constraint and the offer's
compare-and-set), only less polite.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass

import redis

RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def hold_key(gap_id: int) -> str:
    return f"slotoptim:hold:gap:{gap_id}"


@dataclass
class Hold:
    key: str
    token: str
    acquired: bool  # False: someone else holds it
    degraded: bool  # True: Redis was unreachable, no hold was taken


def acquire(client: redis.Redis | None, gap_id: int, ttl_ms: int) -> Hold:
    key, token = hold_key(gap_id), secrets.token_hex(16)
    if client is None:
        return Hold(key, token, acquired=True, degraded=True)
    try:
        taken = client.set(key, token, nx=True, px=ttl_ms)
    except redis.RedisError:
        return Hold(key, token, acquired=True, degraded=True)
    return Hold(key, token, acquired=bool(taken), degraded=False)


def release(client: redis.Redis | None, hold: Hold) -> None:
    if client is None or hold.degraded or not hold.acquired:
        return
    with contextlib.suppress(redis.RedisError):  # if it fails, the hold expires by itself
        client.eval(RELEASE, 1, hold.key, hold.token)


# Holds on an exact slot (FHIR $hold / $book). The value carries its holder's token and when the
# hold ends on the application's clock ("<token>:<expires ms>"), so a driven clock (tests,
# simulations) can end a hold before Redis' own PX expiry does; PX still cleans up for real.
def slot_key(provider_id: int, start_epoch: int) -> str:
    return f"slotoptim:hold:slot:{provider_id}:{start_epoch}"


def _expires_ms(value: bytes | str | None) -> int | None:
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else value
    _, _, expires = text.rpartition(":")
    return int(expires) if expires.isdigit() else None


def holder(client: redis.Redis | None, key: str, now_ms: int) -> str | None:
    """The token of whoever holds the key now (None: nobody, or Redis is unreachable)."""
    if client is None:
        return None
    try:
        value = client.get(key)
    except redis.RedisError:
        return None
    expires = _expires_ms(value)
    if value is None or expires is None or expires <= now_ms:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    return text.rpartition(":")[0]


def acquire_slot(client: redis.Redis | None, key: str, ttl_ms: int, now_ms: int) -> Hold:
    """Takes the hold unless someone holds it now; a hold past its end on our clock is taken over."""
    token = secrets.token_hex(16)
    value = f"{token}:{now_ms + ttl_ms}"
    if client is None:
        return Hold(key, value, acquired=True, degraded=True)
    try:
        if client.set(key, value, nx=True, px=ttl_ms):
            return Hold(key, value, acquired=True, degraded=False)
        current = client.get(key)
        expires = _expires_ms(current)
        # Ended on our clock: replace it only if it is still that same hold.
        ended = current is not None and (expires is None or expires <= now_ms)
        if ended and current is not None and client.eval(REPLACE, 1, key, current, value, ttl_ms):
            return Hold(key, value, acquired=True, degraded=False)
    except redis.RedisError:
        return Hold(key, value, acquired=True, degraded=True)
    return Hold(key, value, acquired=False, degraded=False)


def token_of(hold: Hold) -> str:
    return hold.token.rpartition(":")[0]


def release_token(client: redis.Redis | None, key: str, token: str) -> None:
    """Releases a slot hold its holder names by token (after booking with it)."""
    if client is None:
        return
    with contextlib.suppress(redis.RedisError):
        current = client.get(key)
        if current is not None:
            text = current.decode() if isinstance(current, bytes) else str(current)
            if text.rpartition(":")[0] == token:
                client.eval(RELEASE, 1, key, text)


REPLACE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return false
"""
