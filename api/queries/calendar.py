"""Reading a provider's calendar connection, and linking one after an OAuth consent."""

from __future__ import annotations

from slotoptim.api.db import Conn
from slotoptim.api.errors import not_found
from slotoptim.api.schemas.calendar import CalendarConnection


def connection(conn: Conn, provider_key: str) -> CalendarConnection:
    provider_id(conn, provider_key)
    row = conn.execute(
        "select * from slotoptim.calendar_connections where provider_key = %s", (provider_key,)
    ).fetchone()
    if row is None:
        raise not_found(f"calendar of provider {provider_key!r}")
    return CalendarConnection(
        provider=row["provider_key"],
        kind=row["kind"],
        calendar_id=row["calendar_id"],
        state=row["state"],
        last_error=row["last_error"],
        last_error_at=row["last_error_at"],
        last_sync_at=row["last_sync_at"],
        last_full_sync_at=row["last_full_sync_at"],
        backoff_until=row["backoff_until"],
        events_imported=int(row["items_imported"]),
        events_released=int(row["items_released"]),
        writes_done=int(row["writes_done"]),
        writes_pending=int(row["writes_pending"]),
        writes_failed=int(row["writes_failed"]),
        conflicts=int(row["conflicts"]),
        push_expires_at=row["push_expires_at"],
    )


def provider_id(conn: Conn, provider_key: str) -> int:
    row = conn.execute(
        "select id from slotoptim_private.provider where org_id = slotoptim_private.current_org() and key = %s",
        (provider_key,),
    ).fetchone()
    if row is None:
        raise not_found(f"provider {provider_key!r}")
    return int(row["id"])
