"""Before a claim commits, the provider's calendar is pulled: an event added there seconds ago
(its push lost) is busy time, and the claim is refused instead of double-booking."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from calsync.google_standin import GoogleStandin
from fill.fill_practice import MORNING, SLOT_START, cancel, load, offers, settings
from integrations.practice import link_calendar

from slotoptim.listener.calendar.sync import sync_connection
from slotoptim.listener.claims import claim

CAL = "dr-fill@example.com"


@pytest.mark.parametrize("check", [True, False])
def test_an_event_added_seconds_ago_is_not_double_booked(
    conn: psycopg.Connection[Any], fresh_db: str, google: GoogleStandin, check: bool
) -> None:
    load(conn, 2)
    settings(conn, score_threshold=0)
    provider = conn.execute("select id, org_id from slotoptim_private.provider where key = 'dr-fill'").fetchone()
    assert provider is not None
    cid = link_calendar(
        conn,
        provider["org_id"],
        provider["id"],
        config={"calendar_id": CAL},
        secret_values={"refresh_token": "1//refresh-dr-a"},
    )
    assert sync_connection(fresh_db, cid).outcome == "synced"
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, MORNING))
    offer = offers(conn)[0]

    # The front desk types an appointment into Google; its push notification is lost.
    google.put_event(
        CAL,
        {
            "id": "walkin",
            "start": {"dateTime": SLOT_START.isoformat()},
            "end": {"dateTime": (SLOT_START + dt.timedelta(minutes=30)).isoformat()},
        },
        notify=False,
    )
    result = claim(conn, None, offer["id"], offer["customer_id"], MORNING, check_calendar=check)
    booked = conn.execute(
        "select source from slotoptim_private.appointment where status = 'booked' and period && tstzrange(%s, %s)",
        (SLOT_START, SLOT_START + dt.timedelta(minutes=30)),
    ).fetchall()
    if check:
        assert result.outcome == "filled", result
        assert [b["source"] for b in booked] == ["external"], "the calendar's event holds the slot"
    else:
        # Without the check the stale gap is booked; the next sync can only record the conflict.
        assert result.outcome == "booked"
        assert sync_connection(fresh_db, cid).conflicts == 1
