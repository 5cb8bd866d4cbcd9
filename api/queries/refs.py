"""Keys in a request, resolved to ids of the caller's organisation (404 naming the field)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar.exceptions import NotFoundException

from slotoptim.api.db import Conn

_TABLES = {
    "provider": "select id from slotoptim_private.provider where org_id = slotoptim_private.current_org() and key = %s",
    "service": "select id from slotoptim_private.service where org_id = slotoptim_private.current_org() and key = %s",
    "customer": "select id from slotoptim_private.customer where org_id = slotoptim_private.current_org() and key = %s",
}


def unknown(field: str, what: str, key: Any) -> NotFoundException:
    return NotFoundException(
        detail=f"{field}: unknown {what} {key!r}", extra=[{"key": field, "message": f"unknown {what}"}]
    )


def resolve(conn: Conn, what: str, key: str, field: str) -> int:
    row = conn.execute(_TABLES[what], (key,)).fetchone()
    if row is None:
        raise unknown(field, what, key)
    return int(row["id"])


def resolve_many(conn: Conn, what: str, keys: Sequence[str], field: str) -> list[int]:
    return [resolve(conn, what, key, f"{field}[{i}]") for i, key in enumerate(keys)]
