"""`slotoptim ml buffers` against the database: learned buffers per service and provider.

Reads slotoptim_private.duration_records() (completed appointments with actual start and end,
finished by `at`), runs the shrinkage estimator (estimator.py) at the organisation's buffer_quantile,
capped at its buffer_max_minutes, and replaces the organisation's rows in
slotoptim_private.learned_buffer. slotoptim_private.buffer_after() uses them for new bookings only
while the organisation has use_learned_buffers on; this job never turns that on.

The summary compares, per service, the share of the records that finished within slot + buffer
under the learned buffer and under the service's default. Both are measured on the records the
buffers were learned from (in-sample): a description of the history, not a forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import psycopg
from psycopg.rows import dict_row

from slotoptim.ml.buffers.estimator import BufferEstimate, BufferSettings, DurationRecord, estimate_buffers
from slotoptim.ml.noshow.model_versions import save_version
from slotoptim.ml.noshow.organisations import Organisation, learning_settings


@dataclass(frozen=True)
class _Names:
    services: dict[int, tuple[str, int]]  # id -> (key, default buffer)
    providers: dict[int, str]


def learn_buffers(
    conn: psycopg.Connection[Any],
    org: Organisation,
    at: datetime,
    *,
    quantile: float | None = None,
    max_minutes: int | None = None,
) -> dict[str, Any]:
    """Estimate, store (replacing the organisation's learned buffers) and return the summary."""
    settings = learning_settings(conn, org.id)
    chosen = BufferSettings(
        quantile=settings.buffer_quantile if quantile is None else quantile,
        max_buffer_minutes=settings.buffer_max_minutes if max_minutes is None else max_minutes,
    )
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("select * from slotoptim_private.duration_records(%s, %s)", (org.id, at))
        rows = cur.fetchall()
    summary: dict[str, Any] = {
        "organisation": org.key,
        "records": len(rows),
        "quantile": chosen.quantile,
        "max_buffer_minutes": chosen.max_buffer_minutes,
        "in_use": settings.use_learned_buffers,
    }
    if not rows:
        summary["note"] = "no completed appointments with actual start and end: nothing learned, nothing changed"
        return summary
    records = [
        DurationRecord(
            str(r["service_id"]), str(r["provider_id"]), float(r["scheduled_minutes"]), float(r["actual_minutes"])
        )
        for r in rows
    ]
    estimate = estimate_buffers(records, chosen)
    names = _names(conn, org.id)
    with conn.transaction():
        conn.execute("delete from slotoptim_private.learned_buffer where org_id = %s", (org.id,))
        with conn.cursor() as cur:
            cur.executemany(
                "insert into slotoptim_private.learned_buffer"
                " (org_id, service_id, provider_id, minutes, quantile, overrun_minutes, n, computed_at)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s)",
                _rows(org.id, estimate, at),
            )
        summary["services"] = _service_summary(estimate, records, names)
        summary["version"] = save_version(
            conn, org.id, "buffers", at, {"source": "duration_records", **{k: v for k, v in summary.items()}}
        )
    return summary


def _rows(org_id: int, estimate: BufferEstimate, at: datetime) -> list[tuple[Any, ...]]:
    quantile = estimate.settings.quantile
    out: list[tuple[Any, ...]] = [
        (org_id, int(s.service), None, s.buffer_minutes, quantile, s.overrun_quantile, s.rows, at)
        for s in estimate.services.values()
    ]
    out += [
        (org_id, int(p.service), int(p.provider), p.buffer_minutes, quantile, p.shrunk_quantile, p.rows, at)
        for p in estimate.providers.values()
    ]
    return out


def _names(conn: psycopg.Connection[Any], org_id: int) -> _Names:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("select id, key, buffer_after_minutes from slotoptim_private.service where org_id = %s", (org_id,))
        services = {int(r["id"]): (str(r["key"]), int(r["buffer_after_minutes"])) for r in cur.fetchall()}
        cur.execute("select id, key from slotoptim_private.provider where org_id = %s", (org_id,))
        providers = {int(r["id"]): str(r["key"]) for r in cur.fetchall()}
    return _Names(services, providers)


def _service_summary(estimate: BufferEstimate, records: list[DurationRecord], names: _Names) -> list[dict[str, Any]]:
    out = []
    for service_id, service in estimate.services.items():
        key, default = names.services[int(service_id)]
        mine = [r for r in records if r.service == service_id]
        overrun = np.array([r.overrun_minutes for r in mine])
        learned = np.array([estimate.buffer_for(service_id, r.provider) for r in mine], dtype=np.float64)
        out.append(
            {
                "service": key,
                "records": service.rows,
                "overrun_quantile_minutes": round(service.overrun_quantile, 2),
                "learned_minutes": service.buffer_minutes,
                "default_minutes": default,
                "credibility_rows": service.credibility_rows,
                "within_learned_buffer": float(np.mean(overrun <= learned)),
                "within_default_buffer": float(np.mean(overrun <= default)),
                "providers": [
                    {
                        "provider": names.providers[int(p.provider)],
                        "records": p.rows,
                        "own_quantile_minutes": round(p.own_quantile, 2),
                        "weight": round(p.weight, 3),
                        "learned_minutes": p.buffer_minutes,
                    }
                    for (s, _), p in sorted(estimate.providers.items())
                    if s == service_id
                ],
            }
        )
    return out
