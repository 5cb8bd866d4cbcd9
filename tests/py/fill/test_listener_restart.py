"""Kill the service mid-cascade and start it again: no offer is lost, nothing is sent twice.

The real `slotoptim run` process, the real clock (cascade waves shortened to two seconds), and the
Twilio stand-in behind the real SDK.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import psycopg
from channels.twilio_standin import TwilioStandIn
from faults.outbox_faults import kill_run
from fill.fill_practice import load, next_weekday_slot, settings


def _start(url: str, standin: TwilioStandIn) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TWILIO_ACCOUNT_SID": standin.account_sid,
        "TWILIO_AUTH_TOKEN": standin.auth_token,
        "TWILIO_FROM": "+15005550006",
        "TWILIO_BASE_URL": standin.base_url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "slotoptim.listener.cli", "run", "--no-api", "--poll-seconds", "0.3"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(what: str, condition: Callable[[], bool], limit: float = 60.0) -> None:
    # A bound on how long to wait for the service, not a performance assertion.
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def _count(conn: psycopg.Connection[Any], query: str) -> int:
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(next(iter(row.values())))


def test_killing_the_listener_mid_cascade_loses_nothing(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    load(conn, 20, slot_start=next_weekday_slot())  # the service runs on the real clock
    settings(conn, score_threshold=0, send_window_start="00:00", send_window_end="24:00")
    conn.execute(
        "insert into slotoptim_private.cascade_wave (org_id, wave, max_candidates, min_score, response_window)"
        " select id, w, n, 0, interval '2 seconds' from slotoptim_private.organisation,"
        " (values (1, 3), (2, 5), (3, null)) as v(w, n)"
    )
    first = _start(fresh_db, twilio_standin)
    try:
        conn.execute(
            "select slotoptim.cancel_appointment("
            "(select id from slotoptim_private.appointment where key = 'to-cancel'))"
        )
        _wait(
            "wave 1 to be sent",
            lambda: (
                _count(conn, "select count(*) from slotoptim_private.message where kind = 'offer' and status = 'sent'")
                >= 3
            ),
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert _count(conn, "select max(wave) from slotoptim_private.offer") == 1

    # While nobody runs, wave 1's window ends; the next process picks the campaign up from its row.
    time.sleep(2.5)
    second = _start(fresh_db, twilio_standin)
    try:
        _wait(
            "the cascade to finish",
            lambda: (
                _count(conn, "select count(*) from slotoptim_private.offer_campaign where status = 'released'") == 1
            ),
        )
        _wait(
            "every offer to be sent",
            lambda: (
                _count(conn, "select count(*) from slotoptim_private.message where kind = 'offer' and status <> 'sent'")
                == 0
            ),
        )
    finally:
        second.send_signal(signal.SIGTERM)
        _, stderr = second.communicate(timeout=30)
    assert second.returncode == 0, stderr
    assert "engine_stopped" in stderr, "SIGTERM stops it cleanly"

    offers = _count(conn, "select count(*) from slotoptim_private.offer")
    assert offers == 20 and _count(conn, "select count(distinct wave) from slotoptim_private.offer") == 3
    assert _count(conn, "select count(*) from slotoptim_private.message where kind = 'offer'") == offers
    assert len(twilio_standin.messages) == offers, "one text per offer"
    assert not twilio_standin.duplicate_tokens()


def test_kill_9_mid_send_three_times_sends_nothing_twice_and_loses_nothing(
    fresh_db: str, twilio_standin: TwilioStandIn, redis_socket: str
) -> None:
    # Each send takes 0.2 s at the stand-in, so every kill leaves calls in flight: some created at
    # Twilio but never recorded, some never created. The next process reconciles them after the
    # lease (2 s here) instead of resending blindly, which sent 20 of 160 twice.
    figures = kill_run(fresh_db, twilio_standin, redis_socket, messages=160, kills=3, latency=0.2, lease_seconds=2)
    assert sum(figures["in_flight_at_each_kill"]) > 0, f"the kills must catch sends in flight: {figures}"
    assert figures["unfinished"] == 0 and figures["clean_exit"], figures
    assert figures["lost"] == 0 and figures["duplicated"] == 0, figures
    assert figures["recorded_not_created"] == 0, figures
