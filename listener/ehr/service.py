"""The EHR side of the service loop: each pass pulls the FHIR connections that are due (polling:
FHIR Subscriptions are not used) and sends the queued write-backs of our bookings. A connection
is pulled incrementally every `poll_every` and in full every `full_every` (deletions show only in
a full pull). Each connection fails alone: a broken or throttled EHR does not hold others up.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from psycopg.rows import dict_row

from slotoptim.listener.ehr.sync import PURPOSE, SyncReport, sync
from slotoptim.listener.ehr.writeback import KIND, make_handler
from slotoptim.listener.integrations.outbox import OutboxWorker


def log(event: str, **fields: Any) -> None:
    # Ids, counts and error kinds only: never a token, a key or a patient's details.
    print(json.dumps({"event": event, **fields}, default=str), file=sys.stderr, flush=True)


class SidePass(Protocol):
    def run_pass(self) -> dict[str, int]: ...


@dataclass
class EhrService:
    url: str
    poll_every: dt.timedelta = dt.timedelta(minutes=5)
    full_every: dt.timedelta = dt.timedelta(days=1)
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    outbox: OutboxWorker | None = None

    def __post_init__(self) -> None:
        if self.outbox is None:
            self.outbox = OutboxWorker(self.url, {KIND: make_handler()}, clock=self.clock)

    def run_pass(self) -> dict[str, int]:
        at = self.clock()
        reports = self.sync_due(at)
        assert self.outbox is not None
        written = self.outbox.drain()
        if reports or written:
            log(
                "ehr_pass",
                synced=len(reports),
                released=sum(r.released for r in reports),
                imported=sum(r.imported for r in reports),
                writes=written,
            )
        return {"synced": len(reports), "writes": written}

    def sync_due(self, at: dt.datetime) -> list[SyncReport]:
        reports = []
        with psycopg.connect(self.url, autocommit=True, row_factory=dict_row) as conn:
            due = conn.execute(
                "select c.id, c.last_full_sync_at from slotoptim_private.external_connection as c"
                " where c.id in (select * from slotoptim.external_syncs_due(%s, %s, %s, %s))",
                (PURPOSE, self.poll_every, self.poll_every, at),
            ).fetchall()
            for row in due:
                full = row["last_full_sync_at"] is None or row["last_full_sync_at"] <= at - self.full_every
                report = sync(conn, int(row["id"]), at, full=full)
                if report.error is not None:
                    log("ehr_sync_failed", connection_id=row["id"], error=report.error.split(":")[0])
                reports.append(report)
        return reports


@dataclass
class SidePasses:
    """Several side passes for the engine (calendars, EHRs): each runs even if another fails."""

    passes: Sequence[SidePass]

    def run_pass(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for side in self.passes:
            try:
                for key, value in side.run_pass().items():
                    totals[key] = totals.get(key, 0) + value
            except psycopg.OperationalError:
                raise
            except Exception as exc:
                log("side_pass_failed", side=type(side).__name__, error=type(exc).__name__)
        return totals
