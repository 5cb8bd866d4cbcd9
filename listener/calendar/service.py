"""The calendar side of the service loop: one pass syncs what a push asked for and what polling
finds due, sends the queued calendar writes, and keeps push channels open.

Push first, polling as the safety net: a calendar with a live channel is polled rarely, one
without (no public URL, a channel that failed to open or expired) every few minutes. Each
connection fails alone: a throttled or broken calendar does not hold the others up.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from slotoptim.listener.calendar.adapters import open_adapter
from slotoptim.listener.calendar.sync import SyncReport, sync_on
from slotoptim.listener.calendar.writer import make_handler
from slotoptim.listener.integrations import connections, push
from slotoptim.listener.integrations.errors import ExternalError
from slotoptim.listener.integrations.outbox import OutboxWorker


def log(event: str, **fields: Any) -> None:
    # Ids, counts and error kinds only: never a token, a password or an event's content.
    print(json.dumps({"event": event, **fields}, default=str), file=sys.stderr, flush=True)


@dataclass
class CalendarService:
    url: str
    # Where Google and Graph can reach us (https in production); None: polling only.
    public_url: str | None = None
    poll_every: dt.timedelta = dt.timedelta(minutes=5)
    poll_every_with_push: dt.timedelta = dt.timedelta(hours=1)
    channel_lifetime: dt.timedelta = dt.timedelta(days=6)
    renew_before: dt.timedelta = dt.timedelta(days=1)
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    outbox: OutboxWorker | None = None

    def __post_init__(self) -> None:
        if self.outbox is None:
            self.outbox = OutboxWorker(self.url, {"calendar_event": make_handler()}, clock=self.clock)

    def run_pass(self) -> dict[str, int]:
        at = self.clock()
        # One connection for the whole pass: this runs on every wake-up of the service loop.
        with psycopg.connect(self.url, autocommit=True) as conn:
            reports = self.sync_due(at, conn)
            assert self.outbox is not None
            written = self.outbox.drain(conn=conn)
            opened = self.open_channels(at, conn) if self.public_url else 0
        if reports or written or opened:
            log(
                "calendar_pass",
                synced=len(reports),
                released=sum(r.released for r in reports),
                imported=sum(r.imported for r in reports),
                writes=written,
                channels=opened,
            )
        return {"synced": len(reports), "writes": written, "channels": opened}

    def sync_due(self, at: dt.datetime, conn: psycopg.Connection[Any]) -> list[SyncReport]:
        due = [
            int(r[0])
            for r in conn.cursor(row_factory=tuple_row).execute(
                "select * from slotoptim.external_syncs_due('calendar', %s, %s, %s)",
                (self.poll_every, self.poll_every_with_push, at),
            )
        ]
        reports = [sync_on(conn, cid, at) for cid in due]
        for report in reports:
            if report.outcome in ("broken", "throttled"):
                log("calendar_sync_failed", connection_id=report.connection_id, outcome=report.outcome)
        return reports

    def open_channels(self, at: dt.datetime, conn: psycopg.Connection[Any]) -> int:
        """Opens (or renews) the push channel of each Google or Microsoft calendar that needs one."""
        opened = 0
        due = [
            int(r[0])
            for r in conn.cursor(row_factory=tuple_row).execute(
                "select * from slotoptim.external_channels_due('calendar', %s, %s)", (self.renew_before, at)
            )
        ]
        for cid in due:
            connection = connections.load(conn, cid)
            try:
                if connection.kind == "google":
                    opened += self._open_google(conn, connection, at)
                elif connection.kind == "microsoft":
                    opened += self._open_graph(conn, connection, at)
            except ExternalError as exc:
                # Polling stays on for this calendar until a channel opens.
                log("calendar_channel_failed", connection_id=cid, error=type(exc).__name__)
        return opened

    def _open_google(self, conn: psycopg.Connection[Any], connection: connections.Connection, at: dt.datetime) -> int:
        from slotoptim.listener.calendar.google import GoogleCalendar

        adapter = open_adapter(conn, connection)
        assert isinstance(adapter, GoogleCalendar)
        old = conn.execute(
            "select channel_key, resource_id from slotoptim_private.external_channel"
            " where connection_id = %s and status = 'active'",
            (connection.id,),
        ).fetchall()
        token = push.new_token()
        channel_id = str(uuid.uuid4())
        address = f"{(self.public_url or '').rstrip('/')}/webhooks/google/calendar"
        answer = adapter.watch(channel_id, address, token, at + self.channel_lifetime)
        # Google may shorten the lifetime: its answer is what counts.
        expires = dt.datetime.fromtimestamp(int(answer["expiration"]) / 1000, dt.UTC)
        push.opened(conn, connection.id, channel_id, answer.get("resourceId"), token, expires, at)
        for row in old:
            adapter.stop_channel(row[0], row[1])
            conn.execute(
                "update slotoptim_private.external_channel set status = 'stopped' where channel_key = %s", (row[0],)
            )
        refreshed = adapter.refreshed_secrets()
        if refreshed is not None:
            connections.store_secrets(conn, connection, refreshed)
        return 1

    def _open_graph(self, conn: psycopg.Connection[Any], connection: connections.Connection, at: dt.datetime) -> int:
        """Renews the live subscription (PATCH), or creates one: Graph validates our URLs first."""
        from slotoptim.listener.calendar.microsoft import GraphCalendar

        adapter = open_adapter(conn, connection)
        assert isinstance(adapter, GraphCalendar)
        # Graph caps event subscriptions below 7 days (older docs: under 3): ask for less than 3.
        expires = at + min(self.channel_lifetime, dt.timedelta(days=2, hours=23))
        live = conn.execute(
            "select id, channel_key from slotoptim_private.external_channel"
            " where connection_id = %s and status = 'active' order by id desc limit 1",
            (connection.id,),
        ).fetchone()
        try:
            if live is not None:
                try:
                    answer = adapter.renew(str(live[1]), expires)
                    renewed = dt.datetime.fromisoformat(str(answer["expirationDateTime"])[:19] + "+00:00")
                    conn.execute("select slotoptim.external_channel_renewed(%s, %s)", (live[0], renewed))
                    return 1
                except ExternalError:
                    pass  # gone: subscribe anew
            base = (self.public_url or "").rstrip("/")
            token = push.new_token()
            answer = adapter.subscribe(
                f"{base}/webhooks/microsoft/calendar", f"{base}/webhooks/microsoft/calendar/lifecycle", token, expires
            )
            created = dt.datetime.fromisoformat(str(answer["expirationDateTime"])[:19] + "+00:00")
            push.opened(conn, connection.id, str(answer["id"]), None, token, created, at)
            return 1
        finally:
            refreshed = adapter.refreshed_secrets()
            if refreshed is not None:
                connections.store_secrets(conn, connection, refreshed)
