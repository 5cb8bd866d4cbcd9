"""A cancellation in Google Calendar reaches a waiting customer as an offer: push -> sync -> gap ->
offer -> channel, with the real service loop, API server and LISTEN/NOTIFY. Prints the latency."""

from __future__ import annotations

from typing import Any

import psycopg
from calsync.e2e import run, summary
from calsync.google_standin import GoogleStandin


def test_cancelled_in_google_then_offered(conn: psycopg.Connection[Any], fresh_db: str, google: GoogleStandin) -> None:
    latencies = run(fresh_db, conn, google, rounds=5)
    assert len(latencies) == 5 and all(latency > 0 for latency in latencies)
    offers = conn.execute(
        "select count(distinct gap_id) as gaps from slotoptim_private.offer o"
        " join slotoptim_private.gap g on g.id = o.gap_id join slotoptim_private.external_item i"
        " on i.appointment_id = g.source_appointment_id"
    ).fetchone()
    assert offers is not None and offers["gaps"] == 5, "each freed external event became an offered gap"
    print("end-to-end push -> first offer:", summary(latencies))
