"""The organisations the learning jobs run for, and their learning settings.

Shared by the no-show, forecast and buffer jobs (they all work one organisation at a time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row


class UnknownOrganisationError(LookupError):
    pass


@dataclass(frozen=True)
class Organisation:
    id: int
    key: str
    timezone: str


@dataclass(frozen=True)
class LearningSettings:
    high_risk_threshold: float
    buffer_quantile: float
    buffer_max_minutes: int
    use_learned_buffers: bool
    min_practice_rows: int


def organisations(conn: psycopg.Connection[Any], key: str | None = None) -> list[Organisation]:
    """Every organisation, or the one with `key` (UnknownOrganisationError when there is none)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select id, key, timezone from slotoptim_private.organisation"
            " where %(key)s::text is null or key = %(key)s order by key",
            {"key": key},
        )
        found = [Organisation(int(r["id"]), str(r["key"]), str(r["timezone"])) for r in cur.fetchall()]
    if key is not None and not found:
        raise UnknownOrganisationError(f"no organisation with key {key!r}")
    return found


def learning_settings(conn: psycopg.Connection[Any], org_id: int) -> LearningSettings:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select high_risk_threshold, buffer_quantile, buffer_max_minutes, use_learned_buffers, min_practice_rows"
            " from slotoptim_private.learning_settings where org_id = %s",
            (org_id,),
        )
        row = cur.fetchone()
    if row is None:
        raise UnknownOrganisationError(f"organisation {org_id} has no learning settings")
    return LearningSettings(
        high_risk_threshold=float(row["high_risk_threshold"]),
        buffer_quantile=float(row["buffer_quantile"]),
        buffer_max_minutes=int(row["buffer_max_minutes"]),
        use_learned_buffers=bool(row["use_learned_buffers"]),
        min_practice_rows=int(row["min_practice_rows"]),
    )
