"""Model versions in the database (slotoptim_private.model_version), one active per organisation and kind.

The no-show model keeps its trees in `artifact` (XGBoost's JSON) and everything else in `metadata`,
so any process that can reach the database can score, whatever machine trained the model. The
forecast and buffer jobs record their runs here too (kind 'forecast' / 'buffers', no artifact), so
`slotoptim.model_versions` is the one history of what was learned when. Versions are UTC stamps of
the run's `at`; each organisation and kind keeps KEEP_VERSIONS: the active one and the newest others.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row, tuple_row

Kind = Literal["noshow", "forecast", "buffers"]
KEEP_VERSIONS = 10


def version_name(conn: psycopg.Connection[Any], org_id: int, kind: Kind, at: datetime) -> str:
    """A UTC stamp of `at`, with -2, -3... when that stamp is taken (two runs at one instant)."""
    stamp = at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            "select version from slotoptim_private.model_version"
            " where org_id = %s and kind = %s and (version = %s or version like %s)",
            (org_id, kind, stamp, stamp + "-%"),
        )
        taken = {str(row[0]) for row in cur.fetchall()}
    name, suffix = stamp, 2
    while name in taken:
        name, suffix = f"{stamp}-{suffix}", suffix + 1
    return name


def save_version(
    conn: psycopg.Connection[Any],
    org_id: int,
    kind: Kind,
    at: datetime,
    metadata: dict[str, Any],
    artifact: bytes | None = None,
    *,
    activate: bool = True,
) -> str:
    """Insert a new version (made the active one unless told otherwise) and return its name."""
    version = version_name(conn, org_id, kind, at)
    document = _finite({"kind": kind, "version": version, "trained_at": at.isoformat(), **metadata})
    with conn.transaction():
        if activate:
            conn.execute(
                "update slotoptim_private.model_version set active = false where org_id = %s and kind = %s and active",
                (org_id, kind),
            )
        conn.execute(
            "insert into slotoptim_private.model_version"
            " (org_id, kind, version, trained_at, metadata, artifact, active)"
            " values (%s, %s, %s, %s, %s::jsonb, %s, %s)",
            (org_id, kind, version, at, json.dumps(document, allow_nan=False, default=str), artifact, activate),
        )
        conn.execute(
            # The active version and the newest others, KEEP_VERSIONS in all.
            "delete from slotoptim_private.model_version as m"
            " where m.org_id = %s and m.kind = %s and not m.active and m.id not in ("
            "   select k.id from slotoptim_private.model_version as k"
            "    where k.org_id = %s and k.kind = %s and not k.active"
            "    order by k.trained_at desc, k.id desc limit %s)",
            (org_id, kind, org_id, kind, KEEP_VERSIONS - 1),
        )
    return version


def active_version(conn: psycopg.Connection[Any], org_id: int, kind: Kind) -> dict[str, Any] | None:
    """The active version's row (version, metadata, artifact), or None."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select id, version, trained_at, metadata, artifact from slotoptim_private.model_version"
            " where org_id = %s and kind = %s and active",
            (org_id, kind),
        )
        return cur.fetchone()


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: an undefined number (a metric on one outcome, say) is stored as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
