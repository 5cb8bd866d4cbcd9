"""Google inbound sync through google-api-python-client against the wire-format stand-in."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from typing import Any

import psycopg
from calsync.google_standin import GoogleStandin
from integrations.practice import link_calendar, make_practice

from slotoptim.listener.calendar.sync import sync_connection

CAL = "dr-a@example.com"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def next_workday_10am() -> dt.datetime:
    """10:00 in New York (dr-a works 09:00-17:00 Monday-Friday) on a weekday at least two days out."""
    day = (NOW + dt.timedelta(days=2)).astimezone(zoneinfo.ZoneInfo("America/New_York")).date()
    while day.isoweekday() > 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10), tzinfo=zoneinfo.ZoneInfo("America/New_York"))


WORK = (next_workday_10am() - NOW).total_seconds() / 3600


def at(hours: float) -> str:
    return (NOW + dt.timedelta(hours=hours)).isoformat()


def event(eid: str, start_h: float, minutes: int = 60, **extra: Any) -> dict[str, Any]:
    return {
        "id": eid,
        "summary": "Busy",
        "start": {"dateTime": at(start_h)},
        "end": {"dateTime": at(start_h + minutes / 60)},
        **extra,
    }


def linked(conn: psycopg.Connection[Any]) -> int:
    org_id, provider_id = make_practice(conn)
    return link_calendar(
        conn, org_id, provider_id, config={"calendar_id": CAL}, secret_values={"refresh_token": "1//refresh-dr-a"}
    )


def external(conn: psycopg.Connection[Any]) -> dict[str, str]:
    rows = conn.execute(
        "select i.external_id, a.status from slotoptim_private.external_item i"
        " join slotoptim_private.appointment a on a.id = i.appointment_id where a.source = 'external'"
    ).fetchall()
    return {r["external_id"]: r["status"] for r in rows}


def connection_row(conn: psycopg.Connection[Any], cid: int) -> dict[str, Any]:
    row = conn.execute("select * from slotoptim.calendar_connections where id = %s", (cid,)).fetchone()
    assert row is not None
    return dict(row)


def test_full_sync_pages_to_the_sync_token_then_syncs_incrementally(
    conn: psycopg.Connection[Any], fresh_db: str, google: GoogleStandin
) -> None:
    cid = linked(conn)
    google.put_events(CAL, [event(f"e{i}", WORK + i * 2) for i in range(3000)])
    google.put_events(
        CAL,
        [
            event("free1", 2, transparency="transparent"),
            event("declined", 3, attendees=[{"email": CAL, "self": True, "responseStatus": "declined"}]),
            event(
                "allday",
                0,
                start={"date": (NOW + dt.timedelta(days=400)).date().isoformat()},
                end={"date": (NOW + dt.timedelta(days=401)).date().isoformat()},
            ),
        ],
    )
    report = sync_connection(fresh_db, cid)
    assert (report.outcome, report.full, report.pages, report.imported) == ("synced", True, 2, 3001)
    lists = [p for m, p in google.state.requests if m == "GET"]
    assert len(lists) == 2, "two pages of at most 2500"
    assert external(conn)["allday"] == "booked", "an opaque all-day event blocks its day"
    assert "free1" not in external(conn) and "declined" not in external(conn), "free and declined do not block"

    google.put_event(CAL, event("new", 5))
    google.delete_event(CAL, "e0")
    report = sync_connection(fresh_db, cid)
    assert (report.full, report.imported, report.released) == (False, 1, 1)
    assert external(conn)["e0"] == "cancelled" and external(conn)["new"] == "booked"
    gap = conn.execute(
        "select count(*) as n from slotoptim_private.gap where status = 'open' and during && tstzrange(%s, %s)",
        (at(WORK), at(WORK + 1)),
    ).fetchone()
    assert gap is not None and gap["n"] == 1, "the deleted event's time opens a gap"
    row = connection_row(conn, cid)
    assert row["state"] == "ok" and row["has_cursor"] and row["items_imported"] == 3002


def test_410_resyncs_in_full_and_releases_what_was_deleted_meanwhile(
    conn: psycopg.Connection[Any], fresh_db: str, google: GoogleStandin
) -> None:
    cid = linked(conn)
    google.put_events(CAL, [event("keep", 10), event("gone", 12)])
    sync_connection(fresh_db, cid)
    google.purge_event(CAL, "gone")  # deleted while the token was invalid: no tombstone comes
    google.invalidate_sync_tokens()
    report = sync_connection(fresh_db, cid)
    assert (report.outcome, report.full, report.released) == ("resynced", True, 1)
    assert external(conn) == {"keep": "booked", "gone": "cancelled"}


def test_rate_limits_back_off_with_jitter_and_retry_after(
    conn: psycopg.Connection[Any], fresh_db: str, google: GoogleStandin
) -> None:
    cid = linked(conn)
    google.put_events(CAL, [event("a", 10)])
    google.fail_next(
        403,
        body={
            "error": {
                "errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded", "message": "Rate Limit Exceeded"}],
                "code": 403,
                "message": "Rate Limit Exceeded",
            }
        },
    )
    t0 = dt.datetime.now(dt.UTC)
    report = sync_connection(fresh_db, cid, t0, rng=random.Random(1))
    assert report.outcome == "throttled" and "rateLimitExceeded" in (report.error or "")
    row = connection_row(conn, cid)
    assert row["consecutive_failures"] == 1 and row["backoff_until"] > t0
    assert sync_connection(fresh_db, cid, t0).outcome == "throttled", "held off until backoff_until"

    google.fail_next(429, headers={"Retry-After": "120"})
    later = row["backoff_until"] + dt.timedelta(seconds=1)
    assert sync_connection(fresh_db, cid, later).outcome == "throttled"
    row = connection_row(conn, cid)
    assert row["consecutive_failures"] == 2
    assert row["backoff_until"] >= later + dt.timedelta(seconds=120), "never sooner than Retry-After"
    report = sync_connection(fresh_db, cid, row["backoff_until"])
    assert report.outcome == "synced" and connection_row(conn, cid)["consecutive_failures"] == 0


def test_tokens_refresh_and_a_revoked_grant_breaks_the_connection(
    conn: psycopg.Connection[Any], fresh_db: str, google: GoogleStandin
) -> None:
    cid = linked(conn)
    google.put_events(CAL, [event("a", 10)])
    assert sync_connection(fresh_db, cid).outcome == "synced"
    assert sum(1 for m, p in google.state.requests if p == "/token") == 1
    assert sync_connection(fresh_db, cid).outcome == "synced"
    assert sum(1 for m, p in google.state.requests if p == "/token") == 1, "the stored access token is reused"
    google.expire_access_tokens()
    refreshed = sync_connection(fresh_db, cid)
    assert refreshed.outcome == "synced", refreshed.error
    assert sum(1 for m, p in google.state.requests if p == "/token") == 2

    google.revoke("1//refresh-dr-a")
    report = sync_connection(fresh_db, cid)
    assert report.outcome == "broken" and "invalid_grant" in (report.error or "")
    row = connection_row(conn, cid)
    assert row["state"] == "broken" and "invalid_grant" in row["last_error"]
    assert sync_connection(fresh_db, cid).outcome == "skipped", "a broken connection is left alone"
