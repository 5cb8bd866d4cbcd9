"""SlotOptim scaled out on one machine: engine replicas (`slotoptim run --no-api`) and API
replicas (`slotoptim api`), each a process of its own, all against one PostgreSQL, with the Twilio
stand-in as the SMS provider. Used by the scale-out tests and tests/bench/scaleout_bench.py."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from channels.twilio_standin import free_port
from fill.fill_practice import SLOT_START, TZ, practice

from slotoptim.listener.practice.importer import import_practice


def _shift(value: Any, by: dt.timedelta) -> Any:
    if isinstance(value, dict):
        return {k: _shift(v, by) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, by) for v in value]
    if isinstance(value, str) and len(value) > 16 and value[10] == "T":
        # Whole weeks in the practice's own zone: the wall-clock times stay as written.
        return (dt.datetime.fromisoformat(value).astimezone(TZ) + by).isoformat()
    return value


def upcoming_practice(customers: int) -> dict[str, Any]:
    """The fill tests' practice moved whole weeks ahead so its 14:00 slot is at least two days away
    (the services here run on the real clock)."""
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(days=2) - SLOT_START
    weeks = max(0, math.ceil(ahead / dt.timedelta(days=7)))
    shifted: dict[str, Any] = _shift(practice(customers, window=False), dt.timedelta(days=7 * weeks))
    return shifted


def prepare_burst(conn: psycopg.Connection[Any], customers: int) -> None:
    """A practice whose cancelled slot is offered to every waitlisted customer at once."""
    import_practice(conn, upcoming_practice(customers))
    conn.execute(
        "update slotoptim_private.organisation_settings set offer_strategy = 'broadcast', score_threshold = 0,"
        " send_window_start = '00:00', send_window_end = '24:00',"
        " max_offers_per_day = 100000, max_offers_per_week = 100000"
    )


def open_the_gap(conn: psycopg.Connection[Any]) -> int:
    """Cancels the slot now (the real clock): the NOTIFY wakes the engines."""
    row = conn.execute(
        "select slotoptim.cancel_appointment((select id from slotoptim_private.appointment where key = 'to-cancel'))"
        " as gap"
    ).fetchone()
    assert row is not None
    return int(row["gap"] if isinstance(row, Mapping) else row[0])


def wait_for(what: str, condition: Callable[[], bool], limit: float = 120.0, step: float = 0.05) -> float:
    """Waits until condition() holds; returns the seconds it took. The limit only bounds a hung
    service: it is not a performance assertion."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > limit:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(step)
    return time.monotonic() - started


@dataclass
class Replica:
    kind: str  # "engine" or "api"
    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def worker(self) -> str:
        # The sender's worker name (listener/sender.py): what claim_messages writes in locked_by.
        return f"{socket.gethostname()}:{self.process.pid}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def events(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return found

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.kind} exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
        if self.kind == "engine":
            return any(e.get("event") == "listener_connected" for e in self.events())
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def messages_sent(self) -> int:
        return sum(int(e.get("messages", 0)) for e in self.events() if e.get("event") == "engine_pass")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@dataclass
class Cluster:
    database_url: str
    environment: dict[str, str]
    logs: Path
    replicas: list[Replica] = field(default_factory=list)

    def _start(self, kind: str, args: list[str], port: int | None, extra: Mapping[str, str]) -> Replica:
        log = self.logs / f"{kind}-{len(self.replicas)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "slotoptim.listener.cli", *args],
                env={**os.environ, **self.environment, "DATABASE_URL": self.database_url, **extra},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        replica = Replica(kind, process, log, port)
        self.replicas.append(replica)
        return replica

    def start_engine(self, **extra: str) -> Replica:
        return self._start("engine", ["run", "--no-api", "--poll-seconds", "0.5"], None, extra)

    def start_api(self, port: int | None = None, **extra: str) -> Replica:
        port = port or free_port()
        return self._start("api", ["api", "--host", "127.0.0.1", "--port", str(port)], port, extra)

    def wait_ready(self) -> None:
        for replica in self.replicas:
            wait_for(f"{replica.kind} {replica.process.pid} to be ready", replica.ready, step=0.2)

    @property
    def engines(self) -> list[Replica]:
        return [r for r in self.replicas if r.kind == "engine" and r.process.poll() is None]

    @property
    def apis(self) -> list[Replica]:
        return [r for r in self.replicas if r.kind == "api" and r.process.poll() is None]

    def stop(self) -> None:
        for replica in self.replicas:
            if replica.process.poll() is None:
                replica.process.send_signal(signal.SIGTERM)
        for replica in self.replicas:
            try:
                replica.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                replica.kill()


@contextmanager
def cluster(database_url: str, environment: Mapping[str, str], logs: Path) -> Iterator[Cluster]:
    running = Cluster(database_url, dict(environment), logs)
    try:
        yield running
    finally:
        running.stop()


def twilio_environment(base_url: str, account_sid: str, auth_token: str, public_url: str) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": account_sid,
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_FROM": "+15005550006",
        "TWILIO_BASE_URL": base_url,
        "SLOTOPTIM_PUBLIC_URL": public_url,
    }


def count(conn: psycopg.Connection[Any], query: str, params: Any = None) -> int:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(next(iter(row.values())) if isinstance(row, Mapping) else row[0])
