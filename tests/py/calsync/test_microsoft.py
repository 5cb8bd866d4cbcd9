"""Microsoft Graph: calendarView/delta paging, @removed, 410 resync, throttling, token rotation and
invalid_grant, outbound writes with transactionId, and subscriptions (validation handshake,
clientState, lifecycle notifications, renewal) against the wire-format stand-in."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from api.live_server import live_server
from calsync.graph_standin import GraphStandin
from calsync.test_google_inbound import NOW, external, next_workday_10am
from integrations.practice import link_calendar, make_practice

from slotoptim.api.settings import ApiSettings
from slotoptim.listener.calendar.service import CalendarService
from slotoptim.listener.calendar.sync import sync_connection
from slotoptim.listener.calendar.writer import make_handler
from slotoptim.listener.integrations.outbox import OutboxWorker


def graph_event(eid: str, hours: float, minutes: int = 60, **extra: Any) -> dict[str, Any]:
    start = (NOW + dt.timedelta(hours=hours)).astimezone(dt.UTC)
    end = start + dt.timedelta(minutes=minutes)
    fmt = "%Y-%m-%dT%H:%M:%S.0000000"
    return {
        "id": eid,
        "subject": "Busy",
        "start": {"dateTime": start.strftime(fmt), "timeZone": "UTC"},
        "end": {"dateTime": end.strftime(fmt), "timeZone": "UTC"},
        "showAs": "busy",
        "isAllDay": False,
        **extra,
    }


def linked(conn: psycopg.Connection[Any]) -> int:
    org_id, provider_id = make_practice(conn)
    return link_calendar(
        conn, org_id, provider_id, kind="microsoft", config={"user": "me"}, secret_values={"refresh_token": "M.R3_dr-a"}
    )


def test_delta_pages_removals_and_resync(conn: psycopg.Connection[Any], fresh_db: str, graph: GraphStandin) -> None:
    cid = linked(conn)
    for i in range(1200):
        graph.put_event(graph_event(f"e{i}", 30 + 2 * i), notify=False)
    graph.put_event(graph_event("free", 5, showAs="free"), notify=False)
    report = sync_connection(fresh_db, cid)
    assert (report.outcome, report.pages, report.imported) == ("synced", 3, 1200)

    graph.delete_event("e0", notify=False)
    graph.put_event(graph_event("new", 7), notify=False)
    report = sync_connection(fresh_db, cid)
    assert (report.full, report.imported, report.released) == (False, 1, 1)
    assert external(conn)["e0"] == "cancelled"

    graph.invalidate_delta_tokens()
    graph.delete_event("e1", notify=False)
    report = sync_connection(fresh_db, cid)
    assert (report.outcome, report.full, report.released) == ("resynced", True, 1)
    assert external(conn)["e1"] == "cancelled"


def test_throttling_rotation_and_a_revoked_grant(
    conn: psycopg.Connection[Any], fresh_db: str, graph: GraphStandin
) -> None:
    cid = linked(conn)
    graph.put_event(graph_event("a", 30), notify=False)
    graph.fail_next(429, {"Retry-After": "30"})
    t0 = dt.datetime.now(dt.UTC)
    assert sync_connection(fresh_db, cid, t0).outcome == "throttled"
    row = conn.execute("select backoff_until from slotoptim_private.external_connection").fetchone()
    assert row is not None and row["backoff_until"] >= t0 + dt.timedelta(seconds=30)
    assert sync_connection(fresh_db, cid, row["backoff_until"]).outcome == "synced"
    graph.revoke_all()
    conn.execute(
        "update slotoptim_private.external_connection set cursor = cursor"
    )  # the stored access token is still fresh: make Graph refuse it too
    graph.state.access_tokens.clear()
    report = sync_connection(fresh_db, cid, row["backoff_until"] + dt.timedelta(minutes=1))
    assert report.outcome == "broken" and "invalid_grant" in (report.error or "")


def test_outbound_writes_once_and_echo_is_recognised(
    conn: psycopg.Connection[Any], fresh_db: str, graph: GraphStandin
) -> None:
    cid = linked(conn)
    sync_connection(fresh_db, cid)
    row = conn.execute("select tests.book(%s, 'long', 'c1') as id", (next_workday_10am(),)).fetchone()
    assert row is not None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    worker = OutboxWorker(fresh_db, {"calendar_event": make_handler()}, clock=lambda: later)
    assert worker.drain() == 1
    [written] = graph.live_events()
    assert (
        written["transactionId"] == f"slotoptim-appointment-{row['id']}" and written["subject"] == "Booked (SlotOptim)"
    )
    report = sync_connection(fresh_db, cid)
    assert (report.echoes, report.imported) == (1, 0)
    conn.execute("select slotoptim.cancel_appointment(%s)", (row["id"],))
    worker.drain()
    assert graph.live_events() == []


@pytest.fixture
def api(fresh_db: str, graph: GraphStandin) -> Iterator[str]:
    with live_server(ApiSettings(database_url=fresh_db, redis_url=None, pool_max=4)) as url:
        yield url


def requested(conn: psycopg.Connection[Any]) -> Any:
    row = conn.execute("select sync_requested_at, cursor from slotoptim_private.external_connection").fetchone()
    return row


def wait_for(predicate: Any) -> None:
    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_subscription_handshake_notifications_and_lifecycle(
    conn: psycopg.Connection[Any], fresh_db: str, graph: GraphStandin, api: str
) -> None:
    linked(conn)
    graph.put_event(graph_event("a", 30), notify=False)
    service = CalendarService(fresh_db, public_url=api)
    assert service.run_pass()["channels"] == 1, "the validation handshake succeeded"
    [sub] = graph.state.subscriptions.values()
    assert len(sub.client_state) <= 128
    assert requested(conn)["sync_requested_at"] is None

    graph.delete_event("a")
    wait_for(lambda: requested(conn)["sync_requested_at"] is not None)
    service.run_pass()
    assert external(conn) == {"a": "cancelled"}

    forged = {"value": [{"subscriptionId": sub.id, "clientState": "wrong", "changeType": "updated"}]}
    before = requested(conn)["sync_requested_at"]
    assert httpx.post(f"{api}/webhooks/microsoft/calendar", json=forged).status_code == 202
    assert requested(conn)["sync_requested_at"] == before, "a wrong clientState is ignored"
    assert httpx.post(f"{api}/webhooks/microsoft/calendar", content=b"not json").status_code == 400

    assert graph.lifecycle(sub.id, "missed") == 202
    assert requested(conn)["cursor"] is None, "missed: the next sync is a full one"
    service.run_pass()

    def patches() -> int:
        return sum(1 for m, p in graph.state.requests if m == "PATCH" and "/subscriptions/" in p)

    assert patches() == 0 and service.run_pass()["channels"] == 0, "a live subscription is left alone"
    assert graph.lifecycle(sub.id, "reauthorizationRequired") == 202
    assert service.run_pass()["channels"] == 1
    assert patches() == 1 and len(graph.state.subscriptions) == 1, "renewed by PATCH, not re-created"
    assert graph.lifecycle(sub.id, "subscriptionRemoved") == 202
    graph.state.subscriptions.clear()
    assert service.run_pass()["channels"] == 1, "a removed subscription is created again"
    assert len(graph.state.subscriptions) == 1
