"""Sliding-window rate limits in Redis, per client address and per key (a claim token, the API key
a sign-in tries, a phone number), for the doors people can knock on without an account: dashboard
sign-in, claim links, the booking page, Twilio webhooks.

Each limit is a sorted set of request times (ZREMRANGEBYSCORE drops those older than the window,
ZADD records this one, ZCARD counts): a true sliding window, shared by every replica. Over the
limit: 429 with Retry-After (seconds until the oldest request in the window leaves it). Without
Redis there are no limits (the database still decides every claim).
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class Limit:
    name: str
    requests: int
    window_seconds: int


LOGIN = Limit("login", 10, 60)  # wrong keys cannot be tried at hundreds a second
# Per key tried (an API key's public prefix, else a digest of the token): guesses at one key's
# secret spread over many addresses. Checked by the sign-in handler, which has read the form; only
# failed attempts count, so a front desk sharing one key can all sign in at eight.
LOGIN_KEY = Limit("login-key", 5, 300)
# Any secret after a key's prefix counts against that prefix, even one that could not be right.
_KEY_PREFIX = re.compile(r"^so_([A-Za-z0-9]{8})_")
CLAIM_PAGE = Limit("claim", 60, 60)  # guessing tokens from one address
CLAIM_POST = Limit("claim-post", 10, 60)  # per token: one customer does not need more
WEBHOOK = Limit("webhook", 600, 60)  # a flood, not Twilio's normal rate
BOOK_PAGE = Limit("book", 120, 60)  # the public booking page, per address
BOOK_POST = Limit("book-post", 10, 60)  # bookings and sign-ups, per address
BOOK_CONTACT = Limit("book-contact", 5, 3600)  # per phone number or email address (checked by the page)


def rules(method: str, path: str) -> list[tuple[Limit, str | None]]:
    """The limits a request counts against, each with its extra key (None: per address only)."""
    if method == "POST" and path == "/dashboard/login":
        return [(LOGIN, None)]
    if path.startswith("/c/"):
        found: list[tuple[Limit, str | None]] = [(CLAIM_PAGE, None)]
        if method == "POST":
            found.append((CLAIM_POST, path[3:67]))
        return found
    if path.startswith("/book/"):
        return [(BOOK_PAGE, None), (BOOK_POST, None)] if method == "POST" else [(BOOK_PAGE, None)]
    if method == "POST" and path.startswith("/webhooks/"):
        return [(WEBHOOK, None)]
    return []


def login_subject(credential: str) -> str:
    """Whom a sign-in attempt is for: the API key's prefix (public, unique), or a digest of any
    other credential (an OIDC token), so the Redis key holds no secret."""
    match = _KEY_PREFIX.match(credential)
    if match is not None:
        return f"key:{match.group(1)}"
    return "token:" + hashlib.sha256(credential.encode()).hexdigest()[:32]


def retry_after(client: redis.Redis, limit: Limit, who: str, now: float | None = None) -> int | None:
    """Counts this request; seconds to wait when it is over the limit, else None."""
    now = time.time() if now is None else now
    key = f"slotoptim:rate:{limit.name}:{who}"
    member = f"{now:.6f}:{secrets.token_hex(4)}"
    pipe = client.pipeline()
    pipe.zremrangebyscore(key, 0, now - limit.window_seconds)
    pipe.zadd(key, {member: now})
    pipe.zcard(key)
    pipe.zrange(key, 0, 0, withscores=True)
    pipe.expire(key, limit.window_seconds)
    _, _, count, oldest, _ = pipe.execute()
    if int(count) <= limit.requests:
        return None
    first = float(oldest[0][1]) if oldest else now
    return max(1, math.ceil(first + limit.window_seconds - now))


def blocked_for(client: redis.Redis, limit: Limit, who: str, now: float | None = None) -> int | None:
    """Seconds to wait when the window is already full, else None; counts nothing itself (the
    caller records what should count with retry_after)."""
    now = time.time() if now is None else now
    key = f"slotoptim:rate:{limit.name}:{who}"
    pipe = client.pipeline()
    pipe.zremrangebyscore(key, 0, now - limit.window_seconds)
    pipe.zcard(key)
    pipe.zrange(key, 0, 0, withscores=True)
    _, count, oldest = pipe.execute()
    if int(count) < limit.requests:
        return None
    first = float(oldest[0][1]) if oldest else now
    return max(1, math.ceil(first + limit.window_seconds - now))
