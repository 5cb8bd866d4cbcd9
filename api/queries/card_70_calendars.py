"""Dashboard card "Linked calendars" (slotoptim.calendar_connections), broken ones first: a revoked
grant must not go unnoticed. One query."""

from __future__ import annotations

from dataclasses import dataclass

from slotoptim.api.db import Conn
from slotoptim.api.queries.dashboard import Context, when


@dataclass
class CalendarRow:
    provider: str
    kind: str
    state: str
    last_sync: str
    note: str  # the last error of a broken calendar, or what was synced


def load(conn: Conn, ctx: Context) -> list[CalendarRow]:
    rows = conn.execute(
        "select provider_key, kind, state, last_sync_at, last_error, items_imported, writes_done, writes_pending"
        " from slotoptim.calendar_connections order by state = 'ok', provider_key"
    ).fetchall()
    return [
        CalendarRow(
            provider=str(r["provider_key"]),
            kind=str(r["kind"]),
            state=str(r["state"]),
            last_sync="never" if r["last_sync_at"] is None else when(r["last_sync_at"], ctx.tz),
            note=(
                f"Reconnect: {r['last_error']}"
                if r["state"] == "broken"
                else f"{r['items_imported']} events imported, {r['writes_done']} bookings written,"
                f" {r['writes_pending']} waiting"
            ),
        )
        for r in rows
    ]
