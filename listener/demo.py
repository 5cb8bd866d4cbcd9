"""`slotoptim demo`: one simulated day of the demo practice through the real fill engine.

The demo practice is loaded for the current fortnight; during its first Tuesday (07:00-19:00
local, a simulated clock) a dozen booked appointments are cancelled, each two to six hours before
it starts. The engine offers the gaps (the organisation's strategy, cascade by default), simulated
customers answer with seed 002's response times and acceptance rates, and the KPIs come from the
SQL views. No credentials are needed: messages go to an in-process recording channel.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import redis
from psycopg.rows import dict_row

from slotoptim.listener.practice.demo import TIMEZONE, build_demo_practice
from slotoptim.listener.practice.importer import import_practice
from slotoptim.listener.simulation import FillSimulation, kpis

CANCELLATIONS = 12


def run_demo(
    url: str, redis_client: redis.Redis | None, *, seed: int = 1, start: dt.date, strategy: str | None = None
) -> dict[str, Any]:
    rng = random.Random(seed)
    tz = ZoneInfo(TIMEZONE)
    monday = start - dt.timedelta(days=start.weekday())
    day = monday + dt.timedelta(days=1)
    opens = dt.datetime.combine(day, dt.time(7), tzinfo=tz)
    closes = dt.datetime.combine(day, dt.time(19), tzinfo=tz)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        import_practice(conn, build_demo_practice(monday, now=opens), replace=True)
        if strategy is not None:
            conn.execute(
                "update slotoptim_private.organisation_settings set offer_strategy = %s"
                " where org_id = (select id from slotoptim_private.organisation where key = 'harbourview')",
                (strategy,),
            )
        booked = conn.execute(
            "select a.id, lower(a.period) as starts from slotoptim_private.appointment a"
            " join slotoptim_private.organisation o on o.id = a.org_id and o.key = 'harbourview'"
            " where a.status in ('booked', 'confirmed') and lower(a.period) > %s and lower(a.period) < %s"
            " order by a.id",
            (opens + dt.timedelta(hours=3), closes),
        ).fetchall()
    simulation = FillSimulation(url, rng, redis_client, step=dt.timedelta(minutes=1))
    try:
        for row in rng.sample(booked, k=min(CANCELLATIONS, len(booked))):
            notice = dt.timedelta(minutes=rng.randint(120, 360))
            simulation.schedule(max(opens, row["starts"] - notice), "cancel", appointment_id=row["id"])
        simulation.run(opens, closes)
    finally:
        simulation.close()
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        measures = kpis(conn, "harbourview")
    counts: dict[str, int] = {}
    for event in simulation.log.events:
        counts[event["event"]] = counts.get(event["event"], 0) + 1
    claims = [e for e in simulation.log.events if e["event"] == "claim"]
    return {
        "day": day.isoformat(),
        "strategy": strategy or "cascade",
        "events": counts,
        "claims": {
            outcome: sum(1 for c in claims if c["outcome"] == outcome) for outcome in {c["outcome"] for c in claims}
        },
        "kpis": measures,
        "timeline": simulation.log.events,
    }
