"""Opens the adapter for a connection's kind with its unsealed secrets."""

from __future__ import annotations

from typing import Any

import psycopg

from slotoptim.calendar.model import CalendarAdapter
from slotoptim.db import fetch_dict
from slotoptim.integrations.connections import Connection

KINDS = ("google",)


def provider_timezone(conn: psycopg.Connection[Any], connection: Connection) -> str:
    row = fetch_dict(conn, "select timezone from slotoptim_private.provider where id = %s", (connection.provider_id,))
    return str(row["timezone"]) if row else "UTC"


def open_adapter(conn: psycopg.Connection[Any], connection: Connection) -> CalendarAdapter:
    timezone = provider_timezone(conn, connection)
    secret_values = connection.secrets()
    if connection.kind == "google":
        from slotoptim.calendar.google import GoogleCalendar

        return GoogleCalendar(str(connection.config["calendar_id"]), secret_values, timezone)
    raise ValueError(f"no calendar adapter for kind {connection.kind!r}")
