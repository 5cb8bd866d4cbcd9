"""The service loop: wakes on NOTIFY, runs the engine in SQL, sends the outbox.

One dedicated LISTEN connection (slotoptim_gap, slotoptim_outbox); a notification only wakes the
loop. Each pass runs slotoptim.tick() (new gaps start campaigns, due campaigns advance; SKIP
LOCKED makes replicas safe) and drains the outbox. On start and after every reconnect it runs a
full pass, so nothing that happened while it was away is missed, and it polls every few seconds
as a safety net. SIGTERM finishes the current pass and stops.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

import psycopg

from slotoptim.listener.sender import Sender

CHANNELS = ("slotoptim_gap", "slotoptim_outbox", "slotoptim_external")


class SidePass(Protocol):
    """Work run at the start of every pass (the calendar sync): what it frees, the pass then fills."""

    def run_pass(self) -> dict[str, int]: ...


def log(event: str, **fields: Any) -> None:
    # Structured, and never personal data: ids and counts only.
    print(json.dumps({"event": event, **fields}, default=str), file=sys.stderr, flush=True)


class Engine:
    def __init__(
        self,
        url: str,
        sender: Sender,
        poll_seconds: float = 2.0,
        clock: Callable[[], dt.datetime] | None = None,
        calendar: SidePass | None = None,
    ) -> None:
        self.url = url
        self.sender = sender
        self.calendar = calendar
        self.poll_seconds = poll_seconds
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.stopping = threading.Event()
        self.passes = 0

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def run_pass(self) -> dict[str, int]:
        if self.calendar is not None:
            # First: a cancellation in a practice's calendar becomes a gap this same pass offers.
            try:
                self.calendar.run_pass()
            except psycopg.OperationalError:
                raise
            except Exception as exc:
                log("calendar_pass_failed", error=type(exc).__name__)
        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute("select * from slotoptim.tick(%s)", (self.clock(),)).fetchone()
        sent = self.sender.drain()
        self.passes += 1
        started, advanced = (int(row[0]), int(row[1])) if row else (0, 0)
        if started or advanced or sent:
            log("engine_pass", campaigns_started=started, campaigns_advanced=advanced, messages=sent)
        return {"campaigns_started": started, "campaigns_advanced": advanced, "messages": sent}

    def run(self) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                self._serve()
                backoff = 0.5
            except psycopg.OperationalError as exc:
                log("listener_reconnect", error=str(exc).splitlines()[0] if str(exc) else "connection lost")
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _serve(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as listen:
            for channel in CHANNELS:
                listen.execute(psycopg.sql.SQL("listen {}").format(psycopg.sql.Identifier(channel)))
            log("listener_connected", channels=list(CHANNELS))
            self.run_pass()  # catch up on whatever happened while away
            while not self.stopping.is_set():
                woke = False
                for _ in listen.notifies(timeout=self.poll_seconds, stop_after=1):
                    woke = True
                # Drain any burst of notifications: one pass serves them all.
                if woke:
                    for _ in listen.notifies(timeout=0.01):
                        pass
                self.run_pass()


def run_until_signalled(engine: Engine) -> None:
    from slotoptim.listener.learning import LearningLoop

    learning = LearningLoop(engine.url)

    def stop(*_: object) -> None:
        engine.stop()
        learning.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log("engine_started")
    side = threading.Thread(target=learning.run, name="learning", daemon=True)
    side.start()
    try:
        engine.run()
    finally:
        learning.stop()
        engine.sender.close()
        log("engine_stopped", passes=engine.passes)
