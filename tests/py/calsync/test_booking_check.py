"""Before the booking page books, the provider's calendar is pulled, as before a claim
(test_claim_check.py): also for a free time that is no gap yet (the page lists free times, not only
gaps), an event added there seconds ago (its push lost) holds the time, and the booking is refused
instead of double-booking it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from calsync.google_standin import GoogleStandin
from fill.fill_practice import MORNING, load
from integrations.practice import link_calendar

from slotoptim.listener.calendar.sync import sync_connection
from slotoptim.listener.selfservice.booking import Contact, Opening, book

CAL = "dr-fill@example.com"
# A free half hour of dr-fill's morning: no appointment, no cancellation, so no gap row.
FREE = MORNING.replace(hour=10)


def test_a_free_time_is_checked_against_the_linked_calendar_before_booking(
    conn: psycopg.Connection[Any], fresh_db: str, google: GoogleStandin
) -> None:
    load(conn, 1)
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
    conn.execute("select set_config('slotoptim.org_id', %s, false)", (str(provider["org_id"]),))
    live = conn.execute(
        "select count(*) as n from slotoptim_private.gap where provider_id = %s and during && tstzrange(%s, %s)",
        (provider["id"], FREE, FREE + dt.timedelta(minutes=30)),
    ).fetchone()
    assert live == {"n": 0}, "the time is free, not a gap"

    # The front desk types an appointment into Google; its push notification is lost.
    google.put_event(
        CAL,
        {
            "id": "walkin",
            "start": {"dateTime": FREE.isoformat()},
            "end": {"dateTime": (FREE + dt.timedelta(minutes=30)).isoformat()},
        },
        notify=False,
    )
    contact = Contact("Ana Walk-In", "+16175554242", None, None, "en", texts=False, emails=False)
    result = book(conn, None, Opening("dr-fill", "visit", FREE), contact, "Fill Clinic", MORNING, 30_000)
    booked = conn.execute(
        "select source from slotoptim_private.appointment where status = 'booked' and period && tstzrange(%s, %s)",
        (FREE, FREE + dt.timedelta(minutes=30)),
    ).fetchall()
    assert result.outcome == "filled", result
    assert [b["source"] for b in booked] == ["external"], "the calendar's event holds the time"
