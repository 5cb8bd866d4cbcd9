"""A cancellation records a gap row and sends a NOTIFY that carries only ids; the listener's
watcher catches up from the table whether or not it heard the notification."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import psycopg

from slotoptim.listener.practice.demo import build_demo_practice
from slotoptim.listener.practice.importer import import_practice


def _first_future_booking(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "select id from slotoptim_private.appointment where status in ('booked', 'confirmed')"
        " and lower(period) > '2026-11-24 12:00-05' order by lower(period) limit 1"
    ).fetchone()
    assert row is not None
    return int(row["id"])


def test_cancellation_notifies_with_ids_only(conn: psycopg.Connection[Any], fresh_db: str) -> None:
    import_practice(conn, build_demo_practice(dt.date(2026, 11, 23)))
    appointment = _first_future_booking(conn)
    with psycopg.connect(fresh_db, autocommit=True) as listener:
        channel = listener.execute("select slotoptim_private.engine_channel('gap')").fetchone()
        assert channel is not None and channel[0].startswith("slotoptim_gap_")
        listener.execute(psycopg.sql.SQL("listen {}").format(psycopg.sql.Identifier(channel[0])))
        opened = conn.execute(
            "select * from slotoptim.cancel_appointment(%s, '2026-11-24 08:00-05')", (appointment,)
        ).fetchall()
        assert len(opened) == 1
        notes = list(listener.notifies(timeout=5, stop_after=1))
    assert len(notes) == 1
    payload = json.loads(notes[0].payload)
    assert set(payload) == {"v", "type", "gap_id", "org_id"}
    assert payload["gap_id"] == opened[0]["cancel_appointment"]
    gap = conn.execute("select * from slotoptim_private.gap where id = %s", (payload["gap_id"],)).fetchone()
    assert gap is not None and gap["status"] == "open" and gap["source_appointment_id"] == appointment
