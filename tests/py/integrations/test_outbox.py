"""The external-write outbox: queued by the appointment trigger, coalesced, claimed once, retried
with backoff, held while its connection is broken or throttled, resent after a crash with the same key."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import psycopg
import pytest
from integrations.practice import link_calendar, make_practice

from slotoptim.listener.integrations import connections
from slotoptim.listener.integrations.errors import ConnectionBroken, PermanentError, Throttled, TransientError
from slotoptim.listener.integrations.outbox import ClaimedWrite, OutboxWorker, WriteResult

# Writes are queued at the real clock (the trigger has no other); the workers run a little later.
# Set afresh for each test: fixed at import, it fell behind the real clock in a long run and the
# writes queued "now" were not yet due at T0.
T0 = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)


@pytest.fixture(autouse=True)
def _worker_clock_ahead_of_now() -> None:
    global T0
    T0 = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail: list[Exception] = []

    def __call__(
        self, conn: psycopg.Connection[Any], write: ClaimedWrite, connection: connections.Connection, at: dt.datetime
    ) -> WriteResult:
        self.calls.append((write.subject, write.idempotency_key))
        if self.fail:
            raise self.fail.pop(0)
        return WriteResult(external_id=f"ext-{write.idempotency_key}")


def book(conn: psycopg.Connection[Any], start: str) -> int:
    row = conn.execute("select tests.book(%s::timestamptz) as id", (start,)).fetchone()
    assert row is not None
    return int(row["id"])


def writes(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return conn.execute(
        "select subject, status, attempts, external_id, not_before from slotoptim_private.external_write order by id"
    ).fetchall()


@pytest.fixture
def linked(conn: psycopg.Connection[dict[str, Any]]) -> tuple[psycopg.Connection[dict[str, Any]], int]:
    org_id, provider_id = make_practice(conn)
    return conn, link_calendar(conn, org_id, provider_id)


def worker(url: str, handler: Recorder, name: str = "w1", clock: dt.datetime | None = None) -> OutboxWorker:
    at = T0 if clock is None else clock
    return OutboxWorker(url, {"calendar_event": handler}, clock=lambda: at, worker=name, rng=random.Random(7))


def test_a_booking_is_written_once_and_changes_coalesce(linked: Any, fresh_db: str) -> None:
    conn, _ = linked
    appointment = book(conn, "2026-11-24 10:00-05")
    conn.execute(
        "update slotoptim_private.appointment set period = tstzrange(lower(period) + interval '1 hour',"
        " upper(period) + interval '1 hour') where id = %s",
        (appointment,),
    )
    assert [w["status"] for w in writes(conn)] == ["queued"], "a move before sending coalesces into one write"
    handler = Recorder()
    assert worker(fresh_db, handler).drain() == 1
    assert handler.calls == [(f"appointment:{appointment}", f"slotoptim-appointment-{appointment}")]
    assert writes(conn)[0]["status"] == "done"
    assert worker(fresh_db, handler).drain() == 0, "nothing is sent twice"
    conn.execute("select slotoptim.cancel_appointment(%s, %s)", (appointment, T0))
    assert [w["status"] for w in writes(conn)] == ["done", "queued"], "a cancellation queues an update"


def test_two_workers_never_claim_the_same_write(linked: Any, fresh_db: str) -> None:
    conn, _ = linked
    for hour in range(9, 14):
        book(conn, f"2026-11-24 {hour:02d}:00-05")
    with psycopg.connect(fresh_db) as a, psycopg.connect(fresh_db) as b:
        first = worker(fresh_db, Recorder(), "a").claim(a, T0)
        second = worker(fresh_db, Recorder(), "b").claim(b, T0)
        assert len(first) == 5 and second == [], "the first transaction's rows are locked (SKIP LOCKED)"


def test_transient_failure_retries_with_backoff_and_retry_after(linked: Any, fresh_db: str) -> None:
    conn, _ = linked
    book(conn, "2026-11-24 10:00-05")
    handler = Recorder()
    handler.fail = [TransientError("503 backend error", retry_after=120)]
    worker(fresh_db, handler).drain()
    [row] = writes(conn)
    assert row["status"] == "queued" and row["attempts"] == 1
    assert row["not_before"] >= T0 + dt.timedelta(seconds=120), "never before Retry-After"
    assert worker(fresh_db, handler, clock=T0 + dt.timedelta(seconds=60)).drain() == 0
    assert worker(fresh_db, handler, clock=T0 + dt.timedelta(seconds=121)).drain() == 1
    assert writes(conn)[0]["status"] == "done"


def test_permanent_failure_gives_up(linked: Any, fresh_db: str) -> None:
    conn, _ = linked
    book(conn, "2026-11-24 10:00-05")
    handler = Recorder()
    handler.fail = [PermanentError("400 invalid")]
    worker(fresh_db, handler).drain()
    assert writes(conn)[0]["status"] == "failed"


def test_throttling_holds_one_connection_and_not_the_others(linked: Any, fresh_db: str) -> None:
    conn, cid = linked
    conn.execute(
        "insert into slotoptim_private.provider (org_id, key, name, timezone)"
        " select org_id, 'dr-b', 'Dr. B', timezone from slotoptim_private.provider where key = 'dr-a'"
    )
    other = conn.execute("select id, org_id from slotoptim_private.provider where key = 'dr-b'").fetchone()
    assert other is not None
    other_cid = link_calendar(conn, other["org_id"], other["id"])
    book(conn, "2026-11-24 10:00-05")
    conn.execute(
        "insert into slotoptim_private.appointment (org_id, provider_id, service_id, period, source)"
        " select p.org_id, p.id, s.id, tstzrange('2026-11-24 10:00-05', '2026-11-24 10:15-05'), 'staff'"
        " from slotoptim_private.provider p join slotoptim_private.service s on s.org_id = p.org_id and s.key = 'short'"
        " where p.key = 'dr-b'"
    )
    handler = Recorder()
    handler.fail = [Throttled("429 Too Many Requests", retry_after=30)]
    worker(fresh_db, handler).drain()
    state = {
        r["connection_id"]: r["status"]
        for r in conn.execute("select connection_id, status from slotoptim_private.external_write").fetchall()
    }
    assert state == {cid: "queued", other_cid: "done"}, "the throttled calendar waits, the other practice goes on"
    backoff_until = conn.execute(
        "select backoff_until from slotoptim_private.external_connection where id = %s", (cid,)
    ).fetchone()
    assert backoff_until is not None and backoff_until["backoff_until"] >= T0 + dt.timedelta(seconds=30)
    assert worker(fresh_db, handler, clock=T0 + dt.timedelta(seconds=31)).drain() == 1
    assert conn.execute(
        "select attempts from slotoptim_private.external_write where connection_id = %s", (cid,)
    ).fetchone() == {"attempts": 1}, "a throttled try is not counted as an attempt"


def test_broken_connection_holds_writes_until_reconnected(linked: Any, fresh_db: str) -> None:
    conn, cid = linked
    book(conn, "2026-11-24 10:00-05")
    handler = Recorder()
    handler.fail = [ConnectionBroken("invalid_grant: Token has been expired or revoked.")]
    worker(fresh_db, handler).drain()
    row = conn.execute(
        "select state, last_error from slotoptim_private.external_connection where id = %s", (cid,)
    ).fetchone()
    assert row == {"state": "broken", "last_error": "invalid_grant: Token has been expired or revoked."}
    assert worker(fresh_db, handler, clock=T0 + dt.timedelta(hours=1)).drain() == 0, "no writes to a broken grant"
    org_id, provider_id = (
        conn.execute("select org_id, provider_id from slotoptim_private.external_connection").fetchone().values()
    )
    link_calendar(conn, org_id, provider_id)
    assert worker(fresh_db, handler, clock=T0 + dt.timedelta(hours=1)).drain() == 1
    assert writes(conn)[0]["status"] == "done"


def test_a_crashed_sender_is_resent_with_the_same_key(linked: Any, fresh_db: str) -> None:
    conn, _ = linked
    appointment = book(conn, "2026-11-24 10:00-05")
    with psycopg.connect(fresh_db, autocommit=True) as crashed:
        claimed = worker(fresh_db, Recorder(), "crashed").claim(crashed, T0)
        assert len(claimed) == 1  # ... and the process dies here, after the request went out
    handler = Recorder()
    assert worker(fresh_db, handler, "w2", clock=T0 + dt.timedelta(seconds=30)).drain() == 0, "lease still held"
    assert worker(fresh_db, handler, "w2", clock=T0 + dt.timedelta(seconds=61)).drain() == 1
    assert handler.calls == [(f"appointment:{appointment}", claimed[0].idempotency_key)]
    assert writes(conn)[0]["attempts"] == 2
