"""Watches for newly opened gaps and reports them.

A NOTIFY on channel slotoptim_gap only wakes this loop; what happened is read from the gap table
(rows opened after the last one seen). On start and after every reconnect it catches up from the
table, and it polls every few seconds in case a wake-up was lost. SIGTERM/SIGINT stop it cleanly.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.rows import dict_row

CHANNEL = "slotoptim_gap"

OPENED_SINCE = """
select g.id, o.key as org_key, p.key as provider_key, lower(g.during) as starts, upper(g.during) as ends,
       g.kind, g.fits
  from slotoptim_private.gap g
  join slotoptim_private.organisation o on o.id = g.org_id
  join slotoptim_private.provider p on p.id = g.provider_id
 where g.id > %s and g.status in ('open', 'offering')
 order by g.id"""


class GapWatcher:
    def __init__(self, url: str, report: Callable[[dict[str, Any]], None], poll_seconds: float = 5.0) -> None:
        self.url = url
        self.report = report
        self.poll_seconds = poll_seconds
        self.last_seen = 0
        self.stopping = threading.Event()

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def run(self) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                self._serve()
                backoff = 0.5
            except psycopg.OperationalError as exc:
                print(json.dumps({"event": "listener_reconnect", "error": str(exc).splitlines()[0]}), file=sys.stderr)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _serve(self) -> None:
        with psycopg.connect(self.url, autocommit=True, row_factory=dict_row) as conn:
            conn.execute("listen slotoptim_gap")
            self.catch_up(conn)
            while not self.stopping.is_set():
                # A notification or the poll timeout both lead to the same table read.
                for _ in conn.notifies(timeout=self.poll_seconds, stop_after=1):
                    pass
                self.catch_up(conn)

    def catch_up(self, conn: psycopg.Connection[Any]) -> None:
        for row in conn.execute(OPENED_SINCE, (self.last_seen,)).fetchall():
            self.last_seen = max(self.last_seen, int(row["id"]))
            self.report(row)


def run_until_signalled(url: str, poll_seconds: float = 5.0) -> None:
    def report(row: dict[str, Any]) -> None:
        print(json.dumps({"event": "gap_open", **row}, default=str), flush=True)

    watcher = GapWatcher(url, report, poll_seconds)
    signal.signal(signal.SIGTERM, watcher.stop)
    signal.signal(signal.SIGINT, watcher.stop)
    started = time.monotonic()
    print(json.dumps({"event": "listener_started", "channel": CHANNEL}), file=sys.stderr, flush=True)
    watcher.run()
    print(json.dumps({"event": "listener_stopped", "seconds": round(time.monotonic() - started, 1)}), file=sys.stderr)
