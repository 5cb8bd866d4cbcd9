"""Outbound: the 'calendar_event' handler of the external-write outbox.

It reads the appointment as it is *now* (so several changes queued in a row make one write) and
makes the linked calendar match: a blocking appointment of this calendar's provider is created or
updated, anything else (cancelled, moved to another provider) is deleted. The event carries no
health detail: a neutral title and our appointment id in a private property. Its id comes from
the outbox row's idempotency key, so a write resent after a crash finds its own event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import psycopg

from slotoptim.listener.calendar.adapters import open_adapter
from slotoptim.listener.calendar.model import CalendarAdapter, OutboundEvent
from slotoptim.listener.db import fetch_dict
from slotoptim.listener.integrations import connections
from slotoptim.listener.integrations.outbox import ClaimedWrite, WriteResult

TITLE = "Booked (SlotOptim)"

APPOINTMENT = """
select a.id, a.provider_id, a.period, a.status in ('booked', 'confirmed', 'arrived', 'completed') as blocking,
       p.timezone
  from slotoptim_private.appointment as a
  join slotoptim_private.provider as p on p.id = a.provider_id
 where a.id = %s"""

KNOWN = """
select external_id from slotoptim_private.external_item
 where connection_id = %s and appointment_id = %s and origin = 'slotoptim'
 order by updated_at desc limit 1"""


def make_handler(
    factory: Callable[[psycopg.Connection[Any], connections.Connection], CalendarAdapter] = open_adapter,
) -> Callable[[psycopg.Connection[Any], ClaimedWrite, connections.Connection, dt.datetime], WriteResult]:
    def handle(
        conn: psycopg.Connection[Any], write: ClaimedWrite, connection: connections.Connection, at: dt.datetime
    ) -> WriteResult:
        appointment_id = int(write.subject.removeprefix("appointment:"))
        row = fetch_dict(conn, APPOINTMENT, (appointment_id,))
        known = fetch_dict(conn, KNOWN, (connection.id, appointment_id))
        known_id = str(known["external_id"]) if known else None
        adapter = factory(conn, connection)
        try:
            if row is not None and row["blocking"] and row["provider_id"] == connection.provider_id:
                written = adapter.upsert_event(
                    OutboundEvent(
                        appointment_id=appointment_id,
                        idempotency_key=write.idempotency_key,
                        start=row["period"].lower,
                        end=row["period"].upper,
                        timezone=str(row["timezone"]),
                        title=TITLE,
                    ),
                    known_id,
                )
                conn.execute(
                    "select slotoptim.external_item_written(%s, %s, %s, %s, false, %s)",
                    (connection.id, written.external_id, written.etag, appointment_id, at),
                )
                return WriteResult(written.external_id)
            adapter.delete_event(write.idempotency_key, known_id)
            if known_id is not None:
                conn.execute(
                    "select slotoptim.external_item_written(%s, %s, null, %s, true, %s)",
                    (connection.id, known_id, appointment_id, at),
                )
            return WriteResult(known_id or write.idempotency_key)
        finally:
            refreshed = adapter.refreshed_secrets()
            if refreshed is not None:
                connections.store_secrets(conn, connection, refreshed)

    return handle
