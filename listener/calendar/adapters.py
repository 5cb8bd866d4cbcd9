"""Opens the adapter for a connection's kind with its unsealed secrets."""

from __future__ import annotations

from typing import Any

import psycopg

from slotoptim.listener.calendar.model import CalendarAdapter
from slotoptim.listener.db import fetch_dict
from slotoptim.listener.integrations.connections import Connection

KINDS = ("google", "microsoft", "caldav", "ics")


def provider_timezone(conn: psycopg.Connection[Any], connection: Connection) -> str:
    row = fetch_dict(conn, "select timezone from slotoptim_private.provider where id = %s", (connection.provider_id,))
    return str(row["timezone"]) if row else "UTC"


def open_adapter(conn: psycopg.Connection[Any], connection: Connection) -> CalendarAdapter:
    timezone = provider_timezone(conn, connection)
    secret_values = connection.secrets()
    if connection.kind == "google":
        from slotoptim.listener.calendar.google import GoogleCalendar

        return GoogleCalendar(str(connection.config["calendar_id"]), secret_values, timezone)
    if connection.kind == "caldav":
        from slotoptim.listener.calendar.caldav import CalDavCalendar

        return CalDavCalendar(
            str(connection.config["url"]),
            str(connection.config.get("username") or ""),
            secret_values,
            timezone,
            mode=str(connection.config.get("sync") or "sync-collection"),
        )
    if connection.kind == "microsoft":
        from slotoptim.listener.calendar.microsoft import GraphCalendar

        return GraphCalendar(str(connection.config.get("user") or "me"), secret_values, timezone)
    if connection.kind == "ics":
        from slotoptim.listener.calendar.ics import IcsFeed

        return IcsFeed(str(connection.config["url"]), timezone)
    raise ValueError(f"no calendar adapter for kind {connection.kind!r}")
