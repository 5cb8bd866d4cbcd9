"""The rows of /dashboard/queue, and its buttons: each a call of the queue's SQL functions, whose
refusals (a move that does not apply) come back as a notice rather than an error page."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from slotoptim.api.db import Conn


def _time(value: dt.datetime | None, tz: ZoneInfo) -> str:
    return "" if value is None else value.astimezone(tz).strftime("%H:%M")


def page(conn: Conn, org_id: int, at: dt.datetime) -> dict[str, Any]:
    org = conn.execute("select name, timezone from slotoptim_private.organisation where id = %s", (org_id,)).fetchone()
    assert org is not None
    tz = ZoneInfo(org["timezone"])
    providers = []
    for p in conn.execute(
        "select id, key, name from slotoptim_private.provider where org_id = %s and active order by name", (org_id,)
    ).fetchall():
        forecast = {
            r["entry_id"]: r
            for r in conn.execute(
                "select entry_id, expected_minutes, low_minutes, high_minutes from slotoptim.queue_forecast(%s, %s, %s)"
                " where entry_id is not null",
                (org_id, p["id"], at),
            ).fetchall()
        }
        order = {
            r["entry_id"]: r["queue_position"]
            for r in conn.execute(
                "select entry_id, queue_position from slotoptim.queue_order(%s, %s, %s)", (org_id, p["id"], at)
            ).fetchall()
        }
        entries = []
        for e in conn.execute(
            "select e.id, e.ticket, e.first_name, e.status, e.flags, e.arrived_at, e.called_at, e.started_at,"
            " e.provider_id is null as pooled"
            " from slotoptim_private.queue_entry as e"
            " where e.org_id = %s and e.status in ('waiting', 'called', 'in_service')"
            "   and (e.provider_id = %s or (e.provider_id is null and slotoptim_private.queue_serves(%s, e)))",
            (org_id, p["id"], p["id"]),
        ).fetchall():
            f = forecast.get(e["id"])
            entries.append(
                {
                    "id": e["id"],
                    "ticket": e["ticket"],
                    "name": e["first_name"] or "",
                    "status": e["status"],
                    "flags": ", ".join(e["flags"]),
                    "arrived": _time(e["arrived_at"], tz),
                    "since": _time(e["started_at"] or e["called_at"], tz),
                    "position": order.get(e["id"]),
                    "estimate": ""
                    if f is None or e["status"] != "waiting"
                    else f"{round(f['expected_minutes'])} min ({round(f['low_minutes'])}-{round(f['high_minutes'])})",
                    "pooled": e["pooled"],
                }
            )
        entries.sort(key=lambda x: ({"in_service": 0, "called": 1, "waiting": 2}[x["status"]], x["position"] or 0))
        late = conn.execute("select slotoptim.provider_running_late(%s, %s, %s) as m", (org_id, p["id"], at)).fetchone()
        expected = conn.execute(
            "select a.id, lower(a.period) as starts, c.name from slotoptim_private.appointment as a"
            " left join slotoptim_private.customer as c on c.id = a.customer_id"
            " where a.org_id = %s and a.provider_id = %s and a.status in ('booked', 'confirmed')"
            "   and (lower(a.period) at time zone %s)::date = (%s at time zone %s)::date"
            " order by lower(a.period) limit 20",
            (org_id, p["id"], org["timezone"], at, org["timezone"]),
        ).fetchall()
        providers.append(
            {
                "key": p["key"],
                "name": p["name"],
                "late": round(float(late["m"]) if late else 0.0),
                "entries": entries,
                "expected": [{"id": a["id"], "at": _time(a["starts"], tz), "name": a["name"] or ""} for a in expected],
            }
        )
    today = at.astimezone(tz).date()
    metrics = conn.execute(
        "select provider_key, hour, arrivals, served, no_shows, mean_wait_minutes, max_wait_minutes,"
        " mean_service_minutes, peak_queue_length, mean_queue_length from slotoptim.queue_metrics(%s) as m"
        " where m.org_key = (select key from slotoptim_private.organisation where id = %s) and m.day = %s"
        " order by provider_key nulls first, hour",
        (at, org_id, today),
    ).fetchall()
    return {
        "practice": org["name"],
        "today": today.isoformat(),
        "now": _time(at, tz),
        "providers": providers,
        "metrics": metrics,
    }


def _ticket(conn: Conn, entry_id: int) -> str:
    row = conn.execute("select ticket from slotoptim_private.queue_entry where id = %s", (entry_id,)).fetchone()
    return str(row["ticket"]) if row else "?"


def act(
    conn: Conn, org_id: int, op: str, provider: str, entry: int, appointment: int, actor: str, at: dt.datetime
) -> str:
    """Does one button's work; returns the notice shown after the redirect."""
    try:
        with conn.transaction():
            if op == "call_next":
                # Two statements: a row the function inserts or changes is not visible to the rest of
                # the statement that called it.
                row = conn.execute(
                    "select slotoptim.queue_call_next("
                    "%s, (select id from slotoptim_private.provider where org_id = %s and key = %s), %s, %s) as id",
                    (org_id, org_id, provider, actor, at),
                ).fetchone()
                return (
                    "Nobody is waiting." if row is None or row["id"] is None else f"Called {_ticket(conn, row['id'])}."
                )
            if op == "check_in":
                row = conn.execute(
                    "select slotoptim.queue_check_in(%s, %s, 'staff', '{}', %s) as id", (org_id, appointment, at)
                ).fetchone()
                return f"Checked in: {_ticket(conn, row['id'])}." if row else "Not checked in."
            conn.execute("select slotoptim.queue_move(%s, %s, %s, %s)", (org_id, entry, op, at))
            return f"Done: {op.replace('_', '-')}."
    except (psycopg.errors.CheckViolation, psycopg.errors.NoDataFound, psycopg.errors.NotNullViolation) as exc:
        return str(exc.diag.message_primary or "That did not work.")
