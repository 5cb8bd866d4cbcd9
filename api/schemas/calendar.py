"""A provider's linked calendar, as the practice sees it (never a secret)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec


class CalendarConnection(msgspec.Struct, kw_only=True):
    provider: str
    kind: Literal["google", "microsoft", "caldav", "ics"]
    calendar_id: str | None
    state: Literal["ok", "broken", "disabled"]
    last_error: str | None
    last_error_at: dt.datetime | None
    last_sync_at: dt.datetime | None
    last_full_sync_at: dt.datetime | None
    backoff_until: dt.datetime | None
    events_imported: int
    events_released: int
    writes_done: int
    writes_pending: int
    writes_failed: int
    conflicts: int
    push_expires_at: dt.datetime | None


class CalendarConnected(msgspec.Struct, kw_only=True):
    provider: str
    kind: str
    calendar_id: str
    status: Literal["connected"]
