"""Signed queue links for this process: the signing key (read once) and the URLs built from it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar.datastructures import State

from slotoptim.api import queue_tokens
from slotoptim.api.db import Database
from slotoptim.listener.tokens import signing_key

STATUS_LIFETIME = dt.timedelta(hours=16)
CHECK_IN_GRACE = dt.timedelta(hours=2)


def key(state: State, db: Database) -> bytes:
    found: bytes | None = state.get("queue_link_key")
    if found is None:
        with db.owner() as conn:
            found = signing_key(conn)
        state["queue_link_key"] = found
    return found


def _base(state: State) -> str:
    settings: Any = state.settings
    return str(settings.public_url or "").rstrip("/")


def status_path(link_key: bytes, entry_id: int, arrived_at: dt.datetime) -> str:
    expires = int((arrived_at + STATUS_LIFETIME).timestamp())
    return f"/q/{queue_tokens.make(link_key, 'status', entry_id, expires)}"


def status_url(state: State, db: Database, entry_id: int, arrived_at: dt.datetime) -> str:
    return _base(state) + status_path(key(state, db), entry_id, arrived_at)


def check_in_url(state: State, db: Database, appointment_id: int, ends: dt.datetime) -> str:
    """The customer's own check-in link for an appointment (valid until two hours after it ends)."""
    expires = int((ends + CHECK_IN_GRACE).timestamp())
    return _base(state) + f"/here/{queue_tokens.make(key(state, db), 'check_in', appointment_id, expires)}"
