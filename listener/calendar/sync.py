"""Inbound sync of one calendar connection: pages in, busy time out, cursor kept.

Each page is applied in its own transaction (slotoptim.apply_external_items); the last page and
the new cursor commit together, so a crash mid-round repeats the round and never skips changes.
A cursor the service no longer accepts (Google 410, Graph syncStateNotFound) is dropped and the
round runs again in full; a full round releases what it no longer lists. Failures are per
connection: throttling and outages back this connection off (exponential, full jitter, never
before Retry-After), a refused grant marks it broken, and other practices' syncs go on.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from slotoptim.listener.calendar.adapters import open_adapter
from slotoptim.listener.calendar.model import CalendarAdapter
from slotoptim.listener.integrations import backoff, connections
from slotoptim.listener.integrations.errors import ConnectionBroken, ResyncRequired, Throttled, TransientError


def _tuples(conn: psycopg.Connection[Any]) -> psycopg.Cursor[tuple[Any, ...]]:
    # The caller's connection may have any row factory (the claim path uses dict rows).
    return conn.cursor(row_factory=tuple_row)


AdapterFactory = Callable[[psycopg.Connection[Any], connections.Connection], CalendarAdapter]


@dataclass
class SyncReport:
    connection_id: int
    outcome: str  # synced, resynced, skipped, broken, throttled, busy
    full: bool = False
    pages: int = 0
    items: int = 0
    imported: int = 0
    released: int = 0
    echoes: int = 0
    conflicts: int = 0
    error: str | None = None


def sync_connection(
    url: str,
    connection_id: int,
    at: dt.datetime | None = None,
    factory: AdapterFactory = open_adapter,
    rng: random.Random | None = None,
) -> SyncReport:
    with psycopg.connect(url, autocommit=True) as conn:
        return sync_on(conn, connection_id, at, factory, rng)


def sync_on(
    conn: psycopg.Connection[Any],
    connection_id: int,
    at: dt.datetime | None = None,
    factory: AdapterFactory = open_adapter,
    rng: random.Random | None = None,
) -> SyncReport:
    """sync_connection on a connection the caller holds (autocommit: each page commits)."""
    at = at or dt.datetime.now(dt.UTC)
    # One sync per connection at a time, whichever replica or trigger (push, poll, claim) asks.
    locked = (
        _tuples(conn)
        .execute("select pg_try_advisory_lock(hashtext('slotoptim.external_sync'), %s::int)", (connection_id,))
        .fetchone()
    )
    if not locked or not locked[0]:
        return SyncReport(connection_id, "busy")
    try:
        return _sync_locked(conn, connection_id, at, factory, rng or random.Random())
    finally:
        _tuples(conn).execute(
            "select pg_advisory_unlock(hashtext('slotoptim.external_sync'), %s::int)", (connection_id,)
        )


def _sync_locked(
    conn: psycopg.Connection[Any], connection_id: int, at: dt.datetime, factory: AdapterFactory, rng: random.Random
) -> SyncReport:
    connection = connections.load(conn, connection_id)
    if connection.state != "ok":
        return SyncReport(connection_id, "skipped", error=f"connection is {connection.state}")
    if connection.backoff_until is not None and connection.backoff_until > at:
        return SyncReport(connection_id, "throttled", error="backing off")
    adapter: CalendarAdapter | None = None
    try:
        adapter = factory(conn, connection)
        try:
            return _round(conn, connection, adapter, connection.cursor, at)
        except ResyncRequired:
            _tuples(conn).execute("select slotoptim.external_cursor_reset(%s)", (connection.id,))
            report = _round(conn, connection, adapter, None, at)
            report.outcome = "resynced"
            return report
    except ConnectionBroken as exc:
        connections.mark_broken(conn, connection.id, str(exc), at)
        return SyncReport(connection_id, "broken", error=str(exc))
    except (Throttled, TransientError) as exc:
        wait = backoff.delay(connection.consecutive_failures + 1, exc.retry_after, rng)
        connections.mark_throttled(conn, connection.id, str(exc), at + dt.timedelta(seconds=wait), at)
        return SyncReport(connection_id, "throttled", error=str(exc))
    finally:
        if adapter is not None:
            refreshed = adapter.refreshed_secrets()
            if refreshed is not None:
                connections.store_secrets(conn, connection, refreshed)


def _round(
    conn: psycopg.Connection[Any],
    connection: connections.Connection,
    adapter: CalendarAdapter,
    cursor: str | None,
    at: dt.datetime,
) -> SyncReport:
    full = cursor is None
    report = SyncReport(connection.id, "synced", full=full)
    row = _tuples(conn).execute("select slotoptim.external_sync_started(%s, %s)", (connection.id, full)).fetchone()
    assert row is not None
    generation = int(row[0])
    for page in adapter.pages(cursor, at):
        with conn.transaction():
            if page.items:
                counts = (
                    _tuples(conn)
                    .execute(
                        "select imported, released, echoes, conflicts"
                        " from slotoptim.apply_external_items(%s, %s::jsonb, %s, %s)",
                        (connection.id, json.dumps([i.as_json() for i in page.items]), generation, at),
                    )
                    .fetchone()
                )
                assert counts is not None
                report.imported += int(counts[0])
                report.released += int(counts[1])
                report.echoes += int(counts[2])
                report.conflicts += int(counts[3])
            if page.cursor is not None:
                released = (
                    _tuples(conn)
                    .execute(
                        "select slotoptim.external_sync_finished(%s, %s, %s, %s)",
                        (connection.id, page.cursor, full, at),
                    )
                    .fetchone()
                )
                report.released += int(released[0]) if released else 0
        report.pages += 1
        report.items += len(page.items)
    return report


def sync_due(url: str, every: dt.timedelta, at: dt.datetime | None = None) -> list[SyncReport]:
    """The polling safety net: syncs every healthy calendar not synced within `every`."""
    at = at or dt.datetime.now(dt.UTC)
    with psycopg.connect(url, autocommit=True) as conn:
        due = [
            int(r[0])
            for r in _tuples(conn)
            .execute("select * from slotoptim.external_syncs_due('calendar', %s, %s, %s)", (every, every * 12, at))
            .fetchall()
        ]
    return [sync_connection(url, cid, at) for cid in due]


def check_before_claim(conn: psycopg.Connection[Any], gap_id: int, at: dt.datetime) -> SyncReport | None:
    """A fresh pull of the gap's provider calendar just before a claim commits.

    Busy time added there since the last sync becomes a blocking appointment first, so the claim's
    exclusion constraint refuses the slot instead of double-booking it. What remains is the time
    from this pull's request to the claim's commit (measured in tests/bench/calendar_bench.py).
    A calendar that is broken, throttled or unreachable is not waited for: the claim goes on.
    """
    row = (
        _tuples(conn)
        .execute(
            "select c.id from slotoptim_private.gap g join slotoptim_private.external_connection c"
            " on c.org_id = g.org_id and c.provider_id = g.provider_id and c.purpose = 'calendar' and c.state = 'ok'"
            " and c.kind <> 'ics' where g.id = %s",
            (gap_id,),
        )
        .fetchone()
    )
    if row is None:
        return None
    return sync_on(conn, int(row[0]), at)


def check_before_booking(conn: psycopg.Connection[Any], provider_id: int, at: dt.datetime) -> SyncReport | None:
    """check_before_claim by provider, for the booking page: it books free times that are no gap
    yet as well as live gaps, and busy time added to the provider's calendar seconds ago must
    block both (the booking then finds the time taken)."""
    row = (
        _tuples(conn)
        .execute(
            "select c.id from slotoptim_private.external_connection c"
            " where c.provider_id = %s and c.purpose = 'calendar' and c.state = 'ok' and c.kind <> 'ics'",
            (provider_id,),
        )
        .fetchone()
    )
    if row is None:
        return None
    return sync_on(conn, int(row[0]), at)
