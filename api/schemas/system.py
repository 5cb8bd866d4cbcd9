"""Health and readiness."""

from __future__ import annotations

from typing import Literal

import msgspec


class Health(msgspec.Struct, kw_only=True):
    status: Literal["ok"]


class Readiness(msgspec.Struct, kw_only=True):
    status: Literal["ready", "not_ready"]
    database: bool
    # None when the API runs without Redis (claims stay correct: the database decides).
    redis: bool | None
