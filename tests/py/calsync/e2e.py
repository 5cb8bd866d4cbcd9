"""End to end, as a practice lives it: an appointment is deleted in Google Calendar -> Google
pushes to /webhooks/google/calendar -> the service wakes (NOTIFY), syncs, cancels the external
busy time -> a gap opens -> the fill engine offers it -> the first offer is handed to the channel.
Used by tests/py/calsync/test_end_to_end.py and tests/bench/calendar_bench.py."""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import psycopg
from api.live_server import live_server
from calsync.google_standin import GoogleStandin
from integrations.practice import link_calendar, make_practice
from psycopg.rows import dict_row

from slotoptim.api.settings import ApiSettings
from slotoptim.listener.calendar.service import CalendarService
from slotoptim.listener.channels.base import OutboundMessage, SendResult
from slotoptim.listener.engine import Engine
from slotoptim.listener.sender import Sender

CAL = "dr-a@example.com"
NY = zoneinfo.ZoneInfo("America/New_York")


@dataclass
class CaptureChannel:
    name: str = "sms"
    sent: list[tuple[float, OutboundMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: OutboundMessage) -> SendResult:
        with self.lock:
            self.sent.append((time.perf_counter(), message))
        return SendResult(provider_id=f"capture-{message.message_id}", status="sent")


def workdays(count: int) -> list[dt.datetime]:
    """10:00 New York on `count` weekdays from two days out."""
    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).astimezone(NY).date()
    found: list[dt.datetime] = []
    while len(found) < count:
        if day.isoweekday() <= 5:
            found.append(dt.datetime.combine(day, dt.time(10), tzinfo=NY))
        day += dt.timedelta(days=1)
    return found


def prepare(conn: psycopg.Connection[Any], google: GoogleStandin, rounds: int) -> tuple[int, list[dt.datetime]]:
    org_id, provider_id = make_practice(conn)
    conn.execute(
        "update slotoptim_private.organisation_settings set send_window_start = '00:00', send_window_end = '23:59',"
        " score_threshold = 0, offer_strategy = 'broadcast', max_offers_per_day = 50, max_offers_per_week = 50"
    )
    short = conn.execute("select id from slotoptim_private.service where key = 'short'").fetchone()
    assert short is not None
    for i in range(rounds):
        conn.execute(
            "with c as (insert into slotoptim_private.customer (org_id, key, name, phone, consent_sms)"
            " values (%s, %s, %s, %s, true) returning id)"
            " insert into slotoptim_private.waitlist_entry (org_id, customer_id, service_ids)"
            " select %s, c.id, array[%s::bigint] from c",
            (org_id, f"w{i}", f"Waiting {i}", f"+1617556{i:04d}", org_id, short["id"]),
        )
    cid = link_calendar(
        conn, org_id, provider_id, config={"calendar_id": CAL}, secret_values={"refresh_token": "1//refresh-dr-a"}
    )
    starts = workdays(rounds)
    google.put_events(
        CAL,
        [
            {
                "id": f"appt{i}",
                "start": {"dateTime": s.isoformat()},
                "end": {"dateTime": (s + dt.timedelta(hours=1)).isoformat()},
            }
            for i, s in enumerate(starts)
        ],
    )
    return cid, starts


def run(url: str, conn: psycopg.Connection[Any], google: GoogleStandin, rounds: int) -> list[float]:
    """Seconds from each push leaving Google to the first offer for that gap reaching the channel."""
    _, starts = prepare(conn, google, rounds)
    capture = CaptureChannel()
    with live_server(ApiSettings(database_url=url, redis_url=None, pool_max=4)) as api:
        calendar = CalendarService(url, public_url=api)
        sender = Sender(url, {"sms": capture, "console": capture})
        engine = Engine(url, sender, poll_seconds=30.0, calendar=calendar)
        engine.run_pass()  # first sync imports the events as busy time, opens the watch channel
        thread = threading.Thread(target=engine.run, daemon=True)
        thread.start()
        latencies = []
        try:
            time.sleep(0.5)  # the LISTEN connection is up
            for i, start in enumerate(starts):
                pushes = len(google.state.push_delivery)
                google.delete_event(CAL, f"appt{i}")
                pushed_at = google.state.push_delivery[pushes]
                latencies.append(_wait_for_offer(conn, capture, start) - pushed_at)
        finally:
            engine.stop()
            thread.join(timeout=60)
            sender.close()
    return latencies


def _wait_for_offer(conn: psycopg.Connection[Any], capture: CaptureChannel, start: dt.datetime) -> float:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with capture.lock:
            sent = list(capture.sent)
        ids = [m.message_id for _, m in sent]
        if ids:
            with conn.cursor(row_factory=dict_row) as cur:
                # The gap the freed event opened (merged with the free time around it).
                rows = cur.execute(
                    "select m.id from slotoptim_private.message m join slotoptim_private.offer o on o.id = m.offer_id"
                    " join slotoptim_private.gap g on g.id = o.gap_id"
                    " where m.id = any(%s) and g.during @> tstzrange(%s, %s)",
                    (ids, start, start + dt.timedelta(hours=1)),
                ).fetchall()
            hit = {r["id"] for r in rows}
            times = [t for t, m in sent if m.message_id in hit]
            if times:
                return min(times)
        time.sleep(0.005)
    with conn.cursor(row_factory=dict_row) as cur:
        state = {
            "items": cur.execute("select external_id, state from slotoptim_private.external_item").fetchall(),
            "gaps": cur.execute("select id, during, status, kind, fits from slotoptim_private.gap").fetchall(),
            "campaigns": cur.execute("select id, status, strategy from slotoptim_private.offer_campaign").fetchall(),
            "offers": cur.execute("select id, status, send_at from slotoptim_private.offer").fetchall(),
            "messages": cur.execute(
                "select id, status, not_before, last_error from slotoptim_private.message"
            ).fetchall(),
            "sent": len(capture.sent),
        }
    raise AssertionError(f"no offer for the gap at {start} reached the channel: {state}")


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "median_ms": statistics.median(ordered) * 1000,
        "p99_ms": p99 * 1000,
        "max_ms": ordered[-1] * 1000,
    }
