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
    # Linked calendars whose grant was revoked or credentials refused (reconnect them); they do
    # not make the service unready, but nobody should learn of them from a missed booking.
    calendars_broken: int | None = None
