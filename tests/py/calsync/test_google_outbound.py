"""Bookings written to Google through the outbox: once, without health details, recognised on echo."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from calsync.google_standin import GoogleStandin
from calsync.test_google_inbound import CAL, external, linked, next_workday_10am

from slotoptim.listener.calendar.adapters import open_adapter
from slotoptim.listener.calendar.google import event_id_for
from slotoptim.listener.calendar.model import OutboundEvent
from slotoptim.listener.calendar.sync import sync_connection
from slotoptim.listener.calendar.writer import make_handler
from slotoptim.listener.integrations import connections
from slotoptim.listener.integrations.outbox import OutboxWorker


def book(conn: psycopg.Connection[Any], start: dt.datetime) -> int:
    row = conn.execute("select tests.book(%s, 'long', 'c1') as id", (start,)).fetchone()
    assert row is not None
    return int(row["id"])


def worker(url: str, name: str = "w", at: dt.datetime | None = None) -> OutboxWorker:
    clock = at or dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    return OutboxWorker(url, {"calendar_event": make_handler()}, clock=lambda: clock, worker=name)


def live_events(google: GoogleStandin) -> list[dict[str, Any]]:
    return [e for e in google.events(CAL).values() if e["status"] != "cancelled"]


def test_a_booking_is_written_once_and_its_echo_is_not_imported(
    conn: psycopg.Connection[Any], fresh_db: str, google: GoogleStandin
) -> None:
    cid = linked(conn)
    sync_connection(fresh_db, cid)
    start = next_workday_10am()
    appointment = book(conn, start)
    assert worker(fresh_db).drain() == 1
    [written] = live_events(google)
    assert written["id"] == event_id_for(f"slotoptim-appointment-{appointment}")
    assert written["extendedProperties"]["private"]["slotoptimAppointmentId"] == str(appointment)
    assert "Long visit" not in str(written) and "Casey" not in str(written), "no service or patient in the event"
    assert dt.datetime.fromisoformat(written["start"]["dateTime"]) == start

    report = sync_connection(fresh_db, cid)
    assert (report.echoes, report.imported) == (1, 0), "our own event comes back and is recognised"
    assert external(conn) == {}

    conn.execute(
        "update slotoptim_private.appointment set period = tstzrange(lower(period) + interval '2 hours',"
        " upper(period) + interval '2 hours') where id = %s",
        (appointment,),
    )
    worker(fresh_db).drain()
    [moved] = live_events(google)
    assert dt.datetime.fromisoformat(moved["start"]["dateTime"]) == start + dt.timedelta(hours=2)
    conn.execute("select slotoptim.cancel_appointment(%s)", (appointment,))
    worker(fresh_db).drain()
    assert live_events(google) == [], "a cancellation deletes the event"
    assert sync_connection(fresh_db, cid).imported == 0


def test_a_sender_killed_mid_write_never_writes_twice(
    conn: psycopg.Connection[Any], fresh_db: str, google: GoogleStandin
) -> None:
    cid = linked(conn)
    appointment = book(conn, next_workday_10am())
    first = worker(fresh_db, "killed")
    with psycopg.connect(fresh_db, autocommit=True) as dying:
        [claimed] = first.claim(dying, first.clock())
        # The request goes out and Google creates the event; the process dies before recording it.
        adapter = open_adapter(dying, connections.load(dying, cid))
        period = dying.execute("select period from slotoptim_private.appointment where id = %s", (appointment,))
        row = period.fetchone()
        assert row is not None
        adapter.upsert_event(
            OutboundEvent(appointment, claimed.idempotency_key, row[0].lower, row[0].upper, "America/New_York", "x"),
            None,
        )
    assert len(live_events(google)) == 1
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    assert worker(fresh_db, "survivor", later).drain() == 1, "the lease ended: the write is sent again"
    assert len(live_events(google)) == 1, "the resend found its own event (409) and patched it"
    assert [m for m, p in google.state.requests if p.endswith("/events") and m == "POST"] == ["POST", "POST"]
    status = conn.execute("select status, attempts from slotoptim_private.external_write").fetchone()
    assert status == {"status": "done", "attempts": 2}
