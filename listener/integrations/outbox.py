"""The worker of the external-write outbox (slotoptim_private.external_write).

Handlers are registered per write kind ('calendar_event', 'fhir_appointment', ...). A handler gets
the claimed row and its connection, builds the request from the subject's *current* state, sends
it with the row's idempotency key, and returns the external id. The worker records the outcome:
  done                -> slotoptim.external_write_done
  ConnectionBroken    -> connection broken, write given back (held until reconnected)
  Throttled           -> connection backs off (per connection: other practices go on), write given back
  TransientError      -> retried with exponential backoff and full jitter, never before Retry-After
  PermanentError      -> failed
A crash between sending and recording leaves the row 'sending'; its lease ends and it is sent
again with the same idempotency key, which the external system dedups.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from slotoptim.listener.integrations import backoff, connections
from slotoptim.listener.integrations.errors import ConnectionBroken, PermanentError, Throttled, TransientError


@dataclass(frozen=True)
class ClaimedWrite:
    id: int
    org_id: int
    connection_id: int
    kind: str
    subject: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class WriteResult:
    external_id: str


# (connection to the database, the claimed row, its external connection, now) -> the external id.
WriteHandler = Callable[[psycopg.Connection[Any], ClaimedWrite, connections.Connection, dt.datetime], WriteResult]


@dataclass
class OutboxWorker:
    url: str
    handlers: Mapping[str, WriteHandler]
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    batch: int = 50
    lease_seconds: int = 60
    policy: backoff.BackoffPolicy = field(default_factory=backoff.BackoffPolicy)
    rng: random.Random = field(default_factory=random.Random)

    def claim(self, conn: psycopg.Connection[Any], at: dt.datetime) -> list[ClaimedWrite]:
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                "select * from slotoptim.claim_external_writes(%s, %s, %s, %s, make_interval(secs => %s))",
                (self.worker, self.batch, list(self.handlers), at, self.lease_seconds),
            ).fetchall()
        return [
            ClaimedWrite(
                id=int(r["id"]),
                org_id=int(r["org_id"]),
                connection_id=int(r["connection_id"]),
                kind=r["kind"],
                subject=r["subject"],
                idempotency_key=r["idempotency_key"],
                payload=dict(r["payload"]),
                attempts=int(r["attempts"]),
            )
            for r in rows
        ]

    def run_once(self, conn: psycopg.Connection[Any] | None = None) -> int:
        """Claims and sends one batch; returns how many writes were claimed. `conn`, if given,
        must be in autocommit mode (each claim and outcome commits on its own)."""
        at = self.clock()
        if conn is None:
            with psycopg.connect(self.url, autocommit=True) as own:
                return self._run(own, at)
        return self._run(conn, at)

    def _run(self, conn: psycopg.Connection[Any], at: dt.datetime) -> int:
        claimed = self.claim(conn, at)
        for write in claimed:
            self.send(conn, write, at)
        return len(claimed)

    def drain(self, limit: int = 100, conn: psycopg.Connection[Any] | None = None) -> int:
        total = 0
        for _ in range(limit):
            n = self.run_once(conn)
            total += n
            if n < self.batch:
                break
        return total

    def send(self, conn: psycopg.Connection[Any], write: ClaimedWrite, at: dt.datetime) -> str:
        connection = connections.load(conn, write.connection_id)
        handler = self.handlers[write.kind]
        try:
            result = handler(conn, write, connection, at)
        except ConnectionBroken as exc:
            connections.mark_broken(conn, connection.id, str(exc), at)
            conn.execute("select slotoptim.external_write_released(%s, %s)", (write.id, at))
            return "broken"
        except Throttled as exc:
            wait = backoff.delay(connection.consecutive_failures + 1, exc.retry_after, self.rng, self.policy)
            retry_at = at + dt.timedelta(seconds=wait)
            connections.mark_throttled(conn, connection.id, str(exc), retry_at, at)
            conn.execute("select slotoptim.external_write_released(%s, %s)", (write.id, retry_at))
            return "throttled"
        except TransientError as exc:
            wait = backoff.delay(write.attempts, exc.retry_after, self.rng, self.policy)
            row = conn.execute(
                "select slotoptim.external_write_failed(%s, %s, false, %s, %s)",
                (write.id, str(exc), at + dt.timedelta(seconds=wait), at),
            ).fetchone()
            return str(row[0]) if row else "ignored"
        except PermanentError as exc:
            conn.execute("select slotoptim.external_write_failed(%s, %s, true, %s, %s)", (write.id, str(exc), at, at))
            return "failed"
        conn.execute("select slotoptim.external_write_done(%s, %s, %s)", (write.id, result.external_id, at))
        return "done"
