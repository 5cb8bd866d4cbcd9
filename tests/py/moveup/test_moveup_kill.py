"""A move-up claim killed between its two steps (the new appointment inserted, the held one not yet
cancelled) leaves the customer with exactly their old appointment; the claim can be made again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import psycopg
from moveup.moveup_practice import AT, active_counts, appointment_id, broadcast, cancel_first, enrol, load
from psycopg.rows import dict_row

CLAIM = """
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute("select set_config('application_name', 'moveup-claim-to-kill', false)")
    conn.execute("select * from slotoptim.claim_offer(%s, %s, %s)", (int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
"""


def _claim_backend_waiting(conn: psycopg.Connection[Any]) -> int | None:
    row = conn.execute(
        "select pid from pg_catalog.pg_stat_activity"
        " where application_name = 'moveup-claim-to-kill' and wait_event_type = 'Lock'"
    ).fetchone()
    return None if row is None else int(row["pid"])


def test_a_claim_killed_between_booking_and_cancelling_changes_nothing(
    conn: psycopg.Connection[Any], fresh_db: str
) -> None:
    load(conn, holders=1)
    enrol(conn, "h1")
    gap = cancel_first(conn)
    offers = broadcast(conn, gap)
    assert [o["customer_key"] for o in offers] == ["h1"]
    offer = offers[0]
    held = appointment_id(conn, "a-h1")

    with psycopg.connect(fresh_db, row_factory=dict_row) as blocker:
        # Hold the appointment to be cancelled: the claim inserts the new booking, then waits here.
        blocker.execute("select id from slotoptim_private.appointment where id = %s for update", (held,))
        process = subprocess.Popen(
            [sys.executable, "-c", CLAIM, fresh_db, str(offer["id"]), str(offer["customer_id"]), AT.isoformat()]
        )
        try:
            pid = None
            for _ in range(2000):  # the subprocess needs to start and reach the lock
                pid = _claim_backend_waiting(conn)
                if pid is not None or process.poll() is not None:
                    break
                time.sleep(0.05)
            assert pid is not None, "the claim never reached the second step"
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            conn.execute("select pg_catalog.pg_terminate_backend(%s)", (pid,))
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        blocker.rollback()

    assert active_counts(conn)["h1"] == 1
    still = conn.execute("select status from slotoptim_private.appointment where id = %s", (held,)).fetchone()
    assert still is not None and still["status"] == "booked"
    row = conn.execute("select status from slotoptim_private.offer where id = %s", (offer["id"],)).fetchone()
    assert row is not None and row["status"] == "open"
    assert conn.execute("select count(*) as n from slotoptim_private.moveup_move").fetchone() == {"n": 0}

    again = conn.execute(
        "select * from slotoptim.claim_offer(%s, %s, %s)", (offer["id"], offer["customer_id"], AT)
    ).fetchone()
    assert again is not None and again["outcome"] == "booked"
    assert active_counts(conn)["h1"] == 1
    gone = conn.execute("select status from slotoptim_private.appointment where id = %s", (held,)).fetchone()
    assert gone is not None and gone["status"] == "cancelled"
