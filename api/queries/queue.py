"""The rows behind /v1/queue, the queue pages and the queue dashboard: thin calls of the SQL
functions (slotoptim.queue_*), with keys resolved in the caller's organisation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from litestar.exceptions import NotFoundException

from slotoptim.api.db import Conn
from slotoptim.api.queries.refs import resolve, unknown
from slotoptim.api.schemas.queue import (
    CheckIn,
    ForecastRow,
    MetricsRow,
    MoveAction,
    ProviderQueue,
    QueueEntry,
    WalkIn,
)

# A signed link to the entry's status page (the route layer knows the key and public URL).
StatusUrl = Callable[[int, dt.datetime], str]

ENTRY = """
select e.id, e.ticket, e.first_name, e.status, p.key as provider, l.key as location, e.appointment_id, e.flags,
       e.source, e.arrived_at, e.called_at, e.started_at, e.ended_at, e.left_at, e.left_reason
  from slotoptim_private.queue_entry as e
  left join slotoptim_private.provider as p on p.id = e.provider_id
  left join slotoptim_private.location as l on l.id = e.location_id
 where e.id = %s and e.org_id = slotoptim_private.current_org()
"""


def entry(conn: Conn, entry_id: int, status_url: StatusUrl) -> QueueEntry:
    row = conn.execute(ENTRY, (entry_id,)).fetchone()
    if row is None:
        raise NotFoundException(detail=f"entry: unknown queue entry {entry_id}")
    return QueueEntry(**row, status_url=status_url(entry_id, row["arrived_at"]))


def location_id(conn: Conn, key: str, field: str = "location") -> int:
    row = conn.execute(
        "select id from slotoptim_private.location where org_id = slotoptim_private.current_org() and key = %s", (key,)
    ).fetchone()
    if row is None:
        raise unknown(field, "location", key)
    return int(row["id"])


def check_in(conn: Conn, org_id: int, data: CheckIn, at: dt.datetime, status_url: StatusUrl) -> QueueEntry:
    row = conn.execute(
        "select slotoptim.queue_check_in(%s, %s, %s, %s, %s) as id",
        (org_id, data.appointment_id, data.source, data.flags, at),
    ).fetchone()
    assert row is not None
    return entry(conn, int(row["id"]), status_url)


def walk_in(conn: Conn, org_id: int, data: WalkIn, at: dt.datetime, status_url: StatusUrl) -> QueueEntry:
    provider = None if data.provider is None else resolve(conn, "provider", data.provider, "provider")
    location = None if data.location is None else location_id(conn, data.location)
    service = None if data.service is None else resolve(conn, "service", data.service, "service")
    row = conn.execute(
        "select slotoptim.queue_walk_in(%s, %s, %s, %s, %s, null, %s, %s) as id",
        (org_id, provider, location, service, data.name, data.flags, at),
    ).fetchone()
    assert row is not None
    return entry(conn, int(row["id"]), status_url)


def call_next(
    conn: Conn, org_id: int, provider: str, called_by: str, at: dt.datetime, status_url: StatusUrl
) -> QueueEntry | None:
    provider_id = resolve(conn, "provider", provider, "provider")
    row = conn.execute(
        "select slotoptim.queue_call_next(%s, %s, %s, %s) as id", (org_id, provider_id, called_by, at)
    ).fetchone()
    return None if row is None or row["id"] is None else entry(conn, int(row["id"]), status_url)


def move(
    conn: Conn, org_id: int, entry_id: int, action: MoveAction, at: dt.datetime, status_url: StatusUrl
) -> QueueEntry:
    conn.execute("select slotoptim.queue_move(%s, %s, %s, %s)", (org_id, entry_id, action, at))
    return entry(conn, entry_id, status_url)


def provider_queue(conn: Conn, org_id: int, provider: str, at: dt.datetime) -> ProviderQueue:
    provider_id = resolve(conn, "provider", provider, "provider")
    rows = conn.execute(
        "select kind, entry_id, appointment_id, queue_position as position, expected_minutes, low_minutes,"
        " high_minutes, delay_minutes from slotoptim.queue_forecast(%s, %s, %s)",
        (org_id, provider_id, at),
    ).fetchall()
    late = conn.execute("select slotoptim.provider_running_late(%s, %s, %s) as m", (org_id, provider_id, at)).fetchone()
    return ProviderQueue(
        provider=provider,
        at=at,
        running_late_minutes=float(late["m"]) if late else 0.0,
        rows=[ForecastRow(**r) for r in rows],
    )


def metrics(conn: Conn, day: dt.date | None, at: dt.datetime) -> list[MetricsRow]:
    rows = conn.execute(
        "select provider_key as provider, day, hour, arrivals, served, no_shows, mean_wait_minutes::float8,"
        " max_wait_minutes::float8, mean_service_minutes::float8, peak_queue_length, mean_queue_length::float8"
        " from slotoptim.queue_metrics(%s) m"
        " where m.org_key = (select key from slotoptim_private.organisation where id = slotoptim_private.current_org())"
        " and (%s::date is null or m.day = %s::date) order by day, provider_key nulls first, hour",
        (at, day, day),
    ).fetchall()
    return [MetricsRow(**r) for r in rows]


def board(conn: Conn, org_id: int, location: int | None, at: dt.datetime) -> dict[str, Any]:
    """What a location's screen shows now, with each waiting person's estimate: computed once per
    change and sent to every browser watching (see api/queue_hub.py)."""
    providers = conn.execute(
        "select id from slotoptim_private.provider"
        " where org_id = %s and active and location_id is not distinct from %s",
        (org_id, location),
    ).fetchall()
    estimates: dict[int, tuple[float, float, float, int]] = {}
    for p in providers:
        for r in conn.execute(
            "select entry_id, expected_minutes, low_minutes, high_minutes, queue_position"
            " from slotoptim.queue_forecast(%s, %s, %s) where kind = 'waiting'",
            (org_id, p["id"], at),
        ).fetchall():
            best = estimates.get(r["entry_id"])
            if best is None or r["expected_minutes"] < best[0]:
                estimates[r["entry_id"]] = (
                    r["expected_minutes"],
                    r["low_minutes"],
                    r["high_minutes"],
                    r["queue_position"],
                )
    rows = conn.execute(
        "select e.id, e.ticket, e.first_name, e.status, p.name as provider, e.called_at"
        "  from slotoptim_private.queue_entry as e"
        "  left join slotoptim_private.provider as p on p.id = e.provider_id"
        " where e.org_id = %s and e.location_id is not distinct from %s"
        "   and (e.status in ('waiting', 'called', 'in_service')"
        "        or (e.status in ('done', 'left') and e.arrived_at > %s - interval '16 hours'))"
        " order by e.called_at desc nulls last, e.arrived_at, e.id",
        (org_id, location, at),
    ).fetchall()
    entries = []
    for r in rows:
        guess = estimates.get(r["id"])
        entries.append(
            {
                "id": r["id"],
                "ticket": r["ticket"],
                "name": r["first_name"] or "",
                "status": r["status"],
                "provider": r["provider"] or "",
                "minutes": None if guess is None else round(guess[0]),
                "low": None if guess is None else round(guess[1]),
                "high": None if guess is None else round(guess[2]),
                "position": None if guess is None else guess[3],
            }
        )
    waiting = sorted((e for e in entries if e["status"] == "waiting"), key=lambda e: (e["minutes"] or 0, e["id"]))
    called = [e for e in entries if e["status"] == "called"]
    return {"at": at.isoformat(), "called": called, "waiting": waiting, "all": entries}
