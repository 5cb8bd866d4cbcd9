"""The fill simulation with the nightly learning the service runs: every simulated night (03:00 in
the practice's zone) each organisation's acceptance model is retrained on the offers resolved so
far (slotoptim.train_acceptance_model), so the adaptive strategy sizes its waves on what these
customers actually do, as it would in production, and never on what they will do later.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from slotoptim.listener.simulation import FillSimulation, SimulationEvent

TRAIN_AT = dt.time(3)


class LearningFillSimulation(FillSimulation):
    def schedule_training(self, start: dt.datetime, end: dt.datetime, timezone: str) -> None:
        tz = ZoneInfo(timezone)
        day = start.astimezone(tz).date()
        while True:
            at = dt.datetime.combine(day, TRAIN_AT, tzinfo=tz)
            if at > end:
                return
            if at > start:
                self.schedule(at, "train_acceptance")
            day += dt.timedelta(days=1)

    def handle_event(self, conn: psycopg.Connection[Any], event: SimulationEvent) -> None:
        if event.kind != "train_acceptance":
            super().handle_event(conn, event)
            return
        for row in conn.execute("select id from slotoptim_private.organisation order by id").fetchall():
            org_id = row["id"] if isinstance(row, dict) else row[0]
            conn.execute("select slotoptim.train_acceptance_model(%s, %s)", (org_id, self.now))
        self.log.add(self.now, "train_acceptance")
