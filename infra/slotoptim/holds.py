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
