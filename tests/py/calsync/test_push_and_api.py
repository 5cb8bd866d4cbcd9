"""Push and the API, end to end on a real uvicorn server: Google watch channels (sync message,
verified token, renewal with overlap), the OAuth connect flow with PKCE, GET
/v1/providers/{key}/calendar and a broken grant in /readyz."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
from api.live_server import live_server
from calsync.google_standin import GoogleStandin
from calsync.test_google_inbound import CAL, event, external, linked

from slotoptim.api.apikeys import create_key
from slotoptim.api.settings import ApiSettings
from slotoptim.listener.calendar.service import CalendarService


@pytest.fixture
def api(fresh_db: str, google: GoogleStandin) -> Iterator[str]:
    with live_server(ApiSettings(database_url=fresh_db, redis_url=None, pool_max=4)) as url:
        yield url


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def requested(conn: psycopg.Connection[Any]) -> Any:
    row = conn.execute("select sync_requested_at from slotoptim_private.external_connection").fetchone()
    return row["sync_requested_at"] if row else None


def test_push_channel_wakes_a_sync_and_is_renewed(
    conn: psycopg.Connection[Any], fresh_db: str, google: GoogleStandin, api: str
) -> None:
    cid = linked(conn)
    google.put_events(CAL, [event("a", 30), event("b", 40)])
    service = CalendarService(fresh_db, public_url=api)
    assert service.run_pass() == {"synced": 1, "writes": 0, "channels": 1}
    [channel] = google.state.channels.values()
    assert channel.address == f"{api}/webhooks/google/calendar" and channel.token
    assert requested(conn) is None, "the initial sync message is acknowledged and ignored"

    google.delete_event(CAL, "a")  # Google posts `exists` with the channel's token
    wait_for(lambda: requested(conn) is not None)
    assert service.run_pass()["synced"] == 1
    assert external(conn) == {"a": "cancelled", "b": "booked"}
    assert service.run_pass()["synced"] == 0, "with a live channel, polling waits"

    forged = httpx.post(
        f"{api}/webhooks/google/calendar",
        headers={
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Token": "guess",
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-State": "exists",
            "X-Goog-Message-Number": "9",
        },
    )
    assert forged.status_code == 403
    assert httpx.post(f"{api}/webhooks/google/calendar").status_code == 400

    conn.execute("update slotoptim_private.external_channel set expires_at = now() + interval '2 hours'")
    assert service.run_pass()["channels"] == 1, "a channel about to expire is replaced"
    assert len(google.state.channels) == 2 and google.state.channels[channel.id].stopped
    statuses = [
        r["status"]
        for r in conn.execute("select status from slotoptim_private.external_channel order by id").fetchall()
    ]
    assert statuses == ["stopped", "active"]
    assert cid


def test_connect_with_pkce_then_read_state_and_readyz(
    conn: psycopg.Connection[Any], fresh_db: str, google: GoogleStandin, api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_OAUTH_AUTHORIZE_URL", google.url + "/authorize")
    conn.execute("select tests.make_practice()")
    org = conn.execute("select id from slotoptim_private.organisation").fetchone()
    assert org is not None
    staff = {"Authorization": f"Bearer {create_key(conn, org['id'], 'desk', 'staff').token}"}
    readonly = {"Authorization": f"Bearer {create_key(conn, org['id'], 'reports', 'readonly').token}"}

    assert httpx.get(f"{api}/v1/providers/dr-a/calendar", headers=staff).status_code == 404
    assert httpx.get(f"{api}/v1/providers/dr-a/calendar/connect?kind=google", headers=readonly).status_code == 403
    assert httpx.get(f"{api}/v1/providers/dr-a/calendar/connect?kind=yahoo", headers=staff).status_code == 400
    start = httpx.get(f"{api}/v1/providers/dr-a/calendar/connect?kind=google&calendar={CAL}", headers=staff)
    assert start.status_code == 200
    consent = start.json()["authorization_url"]
    params = parse_qs(urlsplit(consent).query)
    assert params["code_challenge_method"] == ["S256"] and params["access_type"] == ["offline"]
    assert params["scope"] == ["https://www.googleapis.com/auth/calendar.events"]
    back = httpx.get(consent).headers["location"]  # the stand-in consents and sends the browser back
    tampered = back.replace("state=", "state=x")
    assert httpx.get(tampered).status_code == 422
    done = httpx.get(back)
    assert done.status_code == 200 and done.json()["status"] == "connected"

    google.put_events(CAL, [event("a", 30)])
    assert CalendarService(fresh_db).run_pass()["synced"] == 1
    state = httpx.get(f"{api}/v1/providers/dr-a/calendar", headers=readonly).json()
    assert (state["kind"], state["state"], state["events_imported"], state["calendar_id"]) == ("google", "ok", 1, CAL)
    assert "refresh" not in str(state) and "ya29" not in str(state)
    assert httpx.get(f"{api}/readyz").json()["calendars_broken"] == 0

    for token in list(google.state.refresh_tokens):
        google.revoke(token)
    conn.execute("update slotoptim_private.external_connection set secret = secret")  # nothing cached
    CalendarService(fresh_db, poll_every=dt.timedelta(0)).run_pass()
    state = httpx.get(f"{api}/v1/providers/dr-a/calendar", headers=readonly).json()
    assert state["state"] == "broken" and "invalid_grant" in state["last_error"]
    ready = httpx.get(f"{api}/readyz")
    assert ready.status_code == 200 and ready.json()["calendars_broken"] == 1
