"""The service loop: wakes on NOTIFY, runs the engine in SQL, sends the outbox.

One dedicated LISTEN connection (the gap and outbox channels, whose names carry a secret suffix so
analysts cannot listen or wake the engine: slotoptim_private.engine_channel); a notification only wakes the
loop. Each pass runs slotoptim.tick() (new gaps start campaigns, due campaigns advance; SKIP
LOCKED makes replicas safe) and drains the outbox. On start and after every reconnect it runs a
full pass, so nothing that happened while it was away is missed, and it polls every few seconds
as a safety net. After a lost connection (a database restart) it retries every 0.25-2 s and, once
the LISTEN connection is back, gives the sender a fresh pool and catches up at once, so a gap
opened meanwhile is offered seconds after the database returns. SIGTERM finishes the current pass
and stops.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import psycopg

from slotoptim.listener.retraction import retract_claimed_gaps
from slotoptim.listener.sender import Sender

CHANNEL_KINDS = ("gap", "outbox", "external")
RECONNECT_FIRST_SECONDS = 0.25
RECONNECT_CAP_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 5


def engine_channels(conn: psycopg.Connection[Any]) -> list[str]:
    """The secret channel names (the database owner or the application role may read them)."""
    names = []
    for kind in CHANNEL_KINDS:
        row = conn.execute("select slotoptim_private.engine_channel(%s)", (kind,)).fetchone()
        assert row is not None and row[0] is not None, "engine_channel: the secret is missing (run slotoptim migrate)"
        names.append(str(row[0]))
    return names


HEADS_UP_SECONDS = 60.0


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
        self._lost_connection = False
        self._heads_up_due = 0.0
        self._work: psycopg.Connection[Any] | None = None
        self._serving = False

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
        conn = self._work_connection()
        try:
            # First the losers of claims committed since the last pass (listener/retraction.py).
            retract_claimed_gaps(conn)
            row = conn.execute("select * from slotoptim.tick(%s)", (self.clock(),)).fetchone()
            # The offers first: what only tidies up (closing superseded entries, running-late
            # texts) waits until they are handed to the channels.
            sent = self.sender.drain()
            # Waitlist entries a booking superseded close when their grace period ends.
            conn.execute("select slotoptim.close_superseded_entries(%s)", (self.clock(),))
            if self._heads_up(conn):
                sent += self.sender.drain()
        except (psycopg.OperationalError, psycopg.InterfaceError):
            self._drop_work_connection()
            raise
        finally:
            if not self._serving:
                self._drop_work_connection()  # a pass run on its own (tests, the CLI) leaves nothing open
        self.passes += 1
        started, advanced = (int(row[0]), int(row[1])) if row else (0, 0)
        if started or advanced or sent:
            log("engine_pass", campaigns_started=started, campaigns_advanced=advanced, messages=sent)
        return {"campaigns_started": started, "campaigns_advanced": advanced, "messages": sent}

    def _work_connection(self) -> psycopg.Connection[Any]:
        """One connection for every pass, kept open: a new one per pass cost ~3 ms of a
        cancellation's path to its first offer. A connection-level error drops it (run reconnects)."""
        if self._work is None or self._work.closed:
            self._work = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        return self._work

    def _drop_work_connection(self) -> None:
        work, self._work = self._work, None
        if work is not None:
            work.close()

    def _heads_up(self, conn: psycopg.Connection[Any]) -> bool:
        """Running-late texts of the check-in queue, at most once a minute: each looks at every
        provider's forecast, and a heads-up a minute later is as useful. True when it queued any."""
        now = time.monotonic()
        if now < self._heads_up_due:
            return False
        self._heads_up_due = now + HEADS_UP_SECONDS
        row = conn.execute("select slotoptim.queue_heads_up(%s)", (self.clock(),)).fetchone()
        if row and row[0]:
            log("queue_heads_up", messages=int(row[0]))
            return True
        return False

    def run(self) -> None:
        backoff = RECONNECT_FIRST_SECONDS
        while not self.stopping.is_set():
            try:
                self._serve()
                backoff = RECONNECT_FIRST_SECONDS
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                self._drop_work_connection()
                # Connection-level trouble (the database restarted, a pool found no live
                # connection): try again soon. The cap keeps the gap between the database coming
                # back and the next pass to a few seconds; a 30 s cap made it minutes.
                self._lost_connection = True
                log("listener_reconnect", error=str(exc).splitlines()[0] if str(exc) else "connection lost")
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, RECONNECT_CAP_SECONDS)
        self._drop_work_connection()

    def _serve(self) -> None:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS) as listen:
            for channel in engine_channels(listen):
                listen.execute(psycopg.sql.SQL("listen {}").format(psycopg.sql.Identifier(channel)))
            if self._lost_connection:
                # The sender's pool may hold dead connections and a reconnect schedule that has
                # backed off for longer and longer: start it afresh now that the database answers.
                self.sender.reset_pool()
                self._lost_connection = False
                # The names are a secret: the log says which kinds, not the names.
                log("listener_reconnected", channels=list(CHANNEL_KINDS))
            else:
                log("listener_connected", channels=list(CHANNEL_KINDS))
            self._serving = True
            try:
                self._listen_loop(listen)
            finally:
                self._serving = False

    def _listen_loop(self, listen: psycopg.Connection[Any]) -> None:
        self.run_pass()  # catch up at once on whatever happened while away
        while not self.stopping.is_set():
            woke = False
            for _ in listen.notifies(timeout=self.poll_seconds, stop_after=1):
                woke = True
            # Take the notifications already here (no waiting for more): one pass serves them
            # all, and any that arrive during the pass wake the next one at once.
            if woke:
                for _ in listen.notifies(timeout=0):
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
