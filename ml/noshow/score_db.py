"""Scoring: appointment.no_show_risk for upcoming booked/confirmed appointments, from the active model.

`score_appointments` is what the nightly job and the listener call (the listener with the ids of new
bookings). An organisation without an active 'noshow' model version is skipped: its risks stay null,
which every view reads as "not scored". Models are cached per version id, so a listener scoring one
booking at a time does not reload the trees each time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import psycopg
from psycopg.rows import tuple_row

from slotoptim.ml.noshow.calendar_model import CalendarModel
from slotoptim.ml.noshow.model_versions import active_version
from slotoptim.ml.noshow.organisations import learning_settings
from slotoptim.ml.noshow.practice_rows import read_practice_rows

_CACHE: dict[int, CalendarModel] = {}
_CACHE_SIZE = 16


@dataclass(frozen=True)
class ScoreResult:
    org_id: int
    version: str | None
    source: str | None
    scored: int
    high_risk: int
    mean_risk: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def score_appointments(
    conn: psycopg.Connection[Any],
    org_id: int | None,
    appointment_ids: Sequence[int] | None,
    at: datetime,
) -> int:
    """Write no_show_risk for the upcoming appointments (all, or those of `appointment_ids`) of one
    organisation or of every one; returns how many were scored."""
    return sum(r.scored for r in score_organisations(conn, org_id, appointment_ids, at))


def score_organisations(
    conn: psycopg.Connection[Any],
    org_id: int | None,
    appointment_ids: Sequence[int] | None,
    at: datetime,
) -> list[ScoreResult]:
    return [score_organisation(conn, org, appointment_ids, at) for org in _organisations(conn, org_id, appointment_ids)]


def score_organisation(
    conn: psycopg.Connection[Any], org_id: int, appointment_ids: Sequence[int] | None, at: datetime
) -> ScoreResult:
    stored = active_version(conn, org_id, "noshow")
    if stored is None or stored["artifact"] is None:
        return ScoreResult(org_id, None, None, 0, 0, None)
    model = _model(int(stored["id"]), stored["metadata"]["model"], bytes(stored["artifact"]))
    rows = read_practice_rows(conn, org_id, at, "upcoming", appointment_ids)
    risks = np.clip(model.predict(rows), 0.0, 1.0)
    with conn.transaction():
        conn.execute(
            "update slotoptim_private.appointment as a set no_show_risk = s.risk"
            " from unnest(%s::bigint[], %s::real[]) as s(id, risk) where a.id = s.id",
            (rows.appointment_id.tolist(), risks.tolist()),
        )
    threshold = learning_settings(conn, org_id).high_risk_threshold
    return ScoreResult(
        org_id=org_id,
        version=str(stored["version"]),
        source=str(stored["metadata"]["source"]),
        scored=len(rows),
        high_risk=int((risks >= threshold).sum()),
        mean_risk=float(risks.mean()) if len(rows) else None,
    )


def _organisations(
    conn: psycopg.Connection[Any], org_id: int | None, appointment_ids: Sequence[int] | None
) -> list[int]:
    if org_id is not None:
        return [org_id]
    params: tuple[Any, ...] = ()
    if appointment_ids is not None:
        query = "select distinct org_id from slotoptim_private.appointment where id = any(%s::bigint[]) order by 1"
        params = (list(appointment_ids),)
    else:
        query = "select id from slotoptim_private.organisation order by 1"
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(query, params)
        return [int(row[0]) for row in cur.fetchall()]


def _model(version_id: int, description: dict[str, Any], artifact: bytes) -> CalendarModel:
    if version_id not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[version_id] = CalendarModel.from_description(description, artifact)
    return _CACHE[version_id]
