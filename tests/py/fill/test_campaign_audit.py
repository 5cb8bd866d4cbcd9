"""Campaign starts, waves, releases and expiries go into the audit trail with their reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from fill.fill_practice import MORNING, cancel, load

MIN = dt.timedelta(minutes=1)


def _campaign_trail(conn: psycopg.Connection[Any]) -> list[tuple[str, str | None, str | None]]:
    rows = conn.execute(
        "select action, new_values ->> 'status' as status, new_values ->> 'status_reason' as reason"
        " from slotoptim.audit_trail where entity = 'offer_campaign' order by seq"
    ).fetchall()
    return [(r["action"], r["status"], r["reason"]) for r in rows]


def test_a_cascade_is_audited_wave_by_wave_until_released(conn: psycopg.Connection[Any]) -> None:
    load(conn, 4)
    cancel(conn)
    conn.execute("select * from slotoptim.tick(%s)", (MORNING,))
    conn.execute("select * from slotoptim.tick(%s)", (MORNING + 15 * MIN,))
    conn.execute("select * from slotoptim.tick(%s)", (MORNING + 35 * MIN,))
    reasons = [reason for _, _, reason in _campaign_trail(conn)]
    assert reasons[0] == "started: cascade (the organisation's strategy)"
    assert "wave 1: 3 offers made" in reasons
    assert "wave 2: 1 offers made, wave 1 ended without a claim" in reasons
    # Everyone left was offered already: a hard filter too.
    assert (
        reasons[-1] == "released: no waitlist entry passes the hard filters (slotoptim.candidate_exclusions says why)"
    )
    assert _campaign_trail(conn)[-1][1] == "released"


def test_a_gap_nobody_qualifies_for_is_released_saying_why(conn: psycopg.Connection[Any]) -> None:
    load(conn, 3)
    conn.execute("update slotoptim_private.waitlist_entry set lead_time_minutes = 600")
    cancel(conn)
    conn.execute("select * from slotoptim.tick(%s)", (MORNING,))
    trail = _campaign_trail(conn)
    assert trail[-1] == (
        "update",
        "released",
        "released: no waitlist entry passes the hard filters (slotoptim.candidate_exclusions says why)",
    )
    gap = conn.execute("select id from slotoptim_private.gap where status = 'open'").fetchone()
    assert gap is not None
    why = conn.execute("select distinct excluded_by from slotoptim.candidate_exclusions(%s, %s)", (gap["id"], MORNING))
    assert [r["excluded_by"] for r in why.fetchall()] == ["lead time"]
