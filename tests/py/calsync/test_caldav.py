"""CalDAV against a real Radicale server: sync-collection, ctag fallback, recurrences with
VTIMEZONE, deletions, our own writes and their echo, refused credentials."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import httpx
import psycopg
import pytest
from calsync.radicale_server import PASSWORD, USER
from calsync.test_google_inbound import external, next_workday_10am
from integrations.practice import link_calendar, make_practice

from slotoptim.listener.calendar.caldav import new_collection
from slotoptim.listener.calendar.sync import sync_connection
from slotoptim.listener.calendar.writer import make_handler
from slotoptim.listener.integrations.outbox import OutboxWorker

BERLIN = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""


def ics(uid: str, body: str, tz: str = "") -> bytes:
    return (
        (
            f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{tz}\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n"
            f"DTSTAMP:20260101T000000Z\r\n{body}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        .replace("\r\n\r\n", "\r\n")
        .encode()
    )


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@pytest.fixture
def calendar(caldav_server: str) -> tuple[str, httpx.Client]:
    client = httpx.Client(auth=httpx.BasicAuth(USER, PASSWORD), timeout=10)
    url = f"{caldav_server}/{USER}/work/"
    new_collection(url, client)
    return url, client


def link(conn: psycopg.Connection[Any], url: str, mode: str | None = None, password: str = PASSWORD) -> int:
    org_id, provider_id = make_practice(conn)
    config = {"url": url, "username": USER} | ({"sync": mode} if mode else {})
    return link_calendar(conn, org_id, provider_id, kind="caldav", config=config, secret_values={"password": password})


def periods(conn: psycopg.Connection[Any]) -> list[tuple[dt.datetime, dt.datetime]]:
    rows = conn.execute(
        "select lower(period) as s, upper(period) as e from slotoptim_private.appointment"
        " where source = 'external' and status = 'booked' order by 1"
    ).fetchall()
    return [(r["s"], r["e"]) for r in rows]


@pytest.mark.parametrize("mode", [None, "ctag"])
def test_events_recurrences_and_deletions_sync(
    conn: psycopg.Connection[Any], fresh_db: str, calendar: tuple[str, httpx.Client], mode: str | None
) -> None:
    url, client = calendar
    start = next_workday_10am()
    client.put(
        url + "single.ics",
        content=ics("single", f"DTSTART:{stamp(start)}\r\nDTEND:{stamp(start + dt.timedelta(hours=1))}"),
    )
    # Weekly at 08:00 Berlin time for 4 weeks, the second week excluded.
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    first = dt.datetime.combine(start.date() + dt.timedelta(days=1), dt.time(8), tzinfo=berlin)
    local = first.strftime("%Y%m%dT%H%M%S")
    skipped = (first + dt.timedelta(weeks=1)).strftime("%Y%m%dT%H%M%S")
    weekly = (
        f"DTSTART;TZID=Europe/Berlin:{local}\r\nDTEND;TZID=Europe/Berlin:"
        f"{(first + dt.timedelta(minutes=30)).strftime('%Y%m%dT%H%M%S')}\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n"
        f"EXDATE;TZID=Europe/Berlin:{skipped}"
    )
    client.put(url + "weekly.ics", content=ics("weekly", weekly, BERLIN))
    client.put(
        url + "free.ics",
        content=ics(
            "free",
            f"DTSTART:{stamp(start + dt.timedelta(hours=3))}\r\n"
            f"DTEND:{stamp(start + dt.timedelta(hours=4))}\r\nTRANSP:TRANSPARENT",
        ),
    )
    cid = link(conn, url, mode)

    report = sync_connection(fresh_db, cid)
    assert report.outcome == "synced" and report.imported == 4, report
    held = periods(conn)
    assert (start, start + dt.timedelta(hours=1)) in held
    berlin_starts = sorted(s for s, _ in held if s != start)
    assert berlin_starts == [first, first + dt.timedelta(weeks=2), first + dt.timedelta(weeks=3)], (
        "three instances at 08:00 Berlin (VTIMEZONE honoured), the EXDATE week left out"
    )

    assert sync_connection(fresh_db, cid).imported == 0, "nothing changed, nothing imported"

    client.delete(url + "single.ics")
    # The series loses its last instance.
    client.put(url + "weekly.ics", content=ics("weekly", weekly.replace("COUNT=4", "COUNT=3"), BERLIN))
    report = sync_connection(fresh_db, cid)
    assert report.released == 2, report
    assert sorted(s for s, _ in periods(conn)) == [first, first + dt.timedelta(weeks=2)]


def test_an_invalid_sync_token_resyncs_in_full(
    conn: psycopg.Connection[Any], fresh_db: str, calendar: tuple[str, httpx.Client]
) -> None:
    url, client = calendar
    start = next_workday_10am()
    client.put(
        url + "a.ics", content=ics("a", f"DTSTART:{stamp(start)}\r\nDTEND:{stamp(start + dt.timedelta(hours=1))}")
    )
    client.put(
        url + "b.ics",
        content=ics(
            "b", f"DTSTART:{stamp(start + dt.timedelta(hours=2))}\r\nDTEND:{stamp(start + dt.timedelta(hours=3))}"
        ),
    )
    cid = link(conn, url)
    sync_connection(fresh_db, cid)
    client.delete(url + "b.ics")
    conn.execute("update slotoptim_private.external_connection set cursor = 'http://radicale.org/ns/sync/bogus'")
    report = sync_connection(fresh_db, cid)
    assert (report.outcome, report.released) == ("resynced", 1)
    assert len(external(conn)) == 2 and sorted(external(conn).values()) == ["booked", "cancelled"]


def test_bookings_are_written_and_their_echo_is_recognised(
    conn: psycopg.Connection[Any], fresh_db: str, calendar: tuple[str, httpx.Client]
) -> None:
    url, client = calendar
    cid = link(conn, url)
    sync_connection(fresh_db, cid)
    row = conn.execute("select tests.book(%s, 'long', 'c1') as id", (next_workday_10am(),)).fetchone()
    assert row is not None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    OutboxWorker(fresh_db, {"calendar_event": make_handler()}, clock=lambda: later).drain()
    resource = client.get(f"{url}slotoptim-appointment-{row['id']}.ics")
    assert resource.status_code == 200 and f"X-SLOTOPTIM-ID:{row['id']}" in resource.text
    assert "Long visit" not in resource.text and "Casey" not in resource.text
    report = sync_connection(fresh_db, cid)
    assert (report.echoes, report.imported) == (1, 0)


def test_a_refused_password_breaks_the_connection(
    conn: psycopg.Connection[Any], fresh_db: str, calendar: tuple[str, httpx.Client]
) -> None:
    url, _ = calendar
    cid = link(conn, url, password="wrong")
    report = sync_connection(fresh_db, cid)
    assert report.outcome == "broken"
    state = conn.execute("select state from slotoptim_private.external_connection where id = %s", (cid,)).fetchone()
    assert state == {"state": "broken"}
