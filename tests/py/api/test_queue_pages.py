"""The queue pages over HTTP: the front desk's queue dashboard (sign-in, buttons, measures), the
screen by location, the customer's own check-in link and status page, and the kiosk."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import psycopg
from api.conftest import Keys
from api.queue_helpers import add_location, appointment_id
from litestar.testing import TestClient


def _login(client: TestClient[Any], key: str) -> None:
    assert client.post("/dashboard/login", data={"api_key": key}, follow_redirects=False).status_code == 303


def test_front_desk_works_the_queue_from_the_dashboard(
    make_client: Callable[..., TestClient[Any]], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    client = make_client(public_url=None)  # plain http end to end: the session cookie must come back
    assert client.get("/dashboard/queue", follow_redirects=False).headers["location"] == "/dashboard/login"
    _login(client, keys.staff)
    page = client.get("/dashboard/queue")
    assert page.status_code == 200 and "Queue today" in page.text and "Call next for Dr. A" in page.text
    assert "Check in Customer 0 (13:30)" in page.text  # booked, not here yet
    act = client.post(
        "/dashboard/queue",
        data={"op": "check_in", "appointment": str(appointment_id(db, "before"))},
        follow_redirects=True,
    )
    assert "Checked in: A001." in act.text and "Start A001" in act.text
    second = client.post(
        "/dashboard/queue",
        data={"op": "check_in", "appointment": str(appointment_id(db, "after"))},
        follow_redirects=True,
    )
    assert "Checked in: A002." in second.text
    called = client.post("/dashboard/queue", data={"op": "call_next", "provider": "dr-a"}, follow_redirects=True)
    assert "Called A001." in called.text and "called since 08:00" in called.text
    statuses = db.execute("select ticket, status from slotoptim_private.queue_entry order by ticket").fetchall()
    assert statuses == [{"ticket": "A001", "status": "called"}, {"ticket": "A002", "status": "waiting"}]  # one call
    entry = db.execute("select id from slotoptim_private.queue_entry where ticket = 'A001'").fetchone()
    assert entry is not None
    wrong = client.post("/dashboard/queue", data={"op": "done", "entry": str(entry["id"])}, follow_redirects=True)
    assert "is called, so it cannot done" in wrong.text  # a refusal is a notice, not an error page
    for op in ("start", "done"):
        client.post("/dashboard/queue", data={"op": op, "entry": str(entry["id"])})
    done = client.get("/dashboard/queue")
    assert "Queue measures today, by hour" in done.text
    assert re.search(r"<td>dr-a</td><td>08:00</td><td>2</td><td>1</td>", done.text), done.text


def test_readonly_sees_no_buttons_and_cannot_act(make_client: Callable[..., TestClient[Any]], keys: Keys) -> None:
    client = make_client(public_url=None)  # plain http end to end: the session cookie must come back
    _login(client, keys.readonly)
    page = client.get("/dashboard/queue")
    assert page.status_code == 200 and "Call next" not in page.text
    refused = client.post("/dashboard/queue", data={"op": "call_next", "provider": "dr-a"}, follow_redirects=False)
    assert refused.status_code == 403


def test_screen_status_page_link_and_kiosk(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    add_location(db)
    assert client.get("/queue/acme/nowhere").status_code == 404
    screen = client.get("/queue/acme/main")
    assert screen.status_code == 200 and "Waiting room: Main street" in screen.text
    csp = screen.headers["content-security-policy"]
    assert "script-src 'self'" in csp and '<script src="/assets/queue-live.js" defer>' in screen.text
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in screen.text
    assert client.get("/queue/main").status_code == 200  # one practice has a location "main"
    script = client.get("/assets/queue-live.js")
    assert client.get("/static/queue-live.js").status_code == 404  # one place serves assets
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")

    # The customer's own check-in link.
    from slotoptim.api import queue_tokens

    appointment = appointment_id(db, "before")
    given = client.get(f"/v1/queue/appointments/{appointment}/check-in-link", headers=keys.headers("readonly"))
    assert given.status_code == 200 and given.json()["url"].startswith("https://api.clinic.example/here/")
    link = given.json()["url"].rsplit("/", 1)[1]
    other = client.get(f"/v1/queue/appointments/{appointment}/check-in-link", headers=keys.headers("other_admin"))
    assert other.status_code == 404
    forged = queue_tokens.make(
        b"k" * 32, "check_in", appointment, int(dt.datetime(2026, 11, 25, tzinfo=dt.UTC).timestamp())
    )
    assert client.get(f"/here/{forged}").status_code == 404
    here = client.get(f"/here/{link}")
    assert here.status_code == 200 and "Are you here?" in here.text and "1:30 PM" in here.text
    went = client.post(f"/here/{link}", data={"token": link}, follow_redirects=False)
    assert went.status_code == 303 and went.headers["location"].startswith("/q/")
    status = client.get(went.headers["location"])
    assert status.status_code == 200 and "checked in. Expected wait" in status.text and "Ticket A001" in status.text
    assert client.get(f"/q/{link}").status_code == 404  # a check-in token is not a status token
    assert client.get("/q/" + "A" * 32).status_code == 404
    source = db.execute("select source from slotoptim_private.queue_entry").fetchone()
    assert source == {"source": "link"}
    db.execute("update slotoptim_private.customer set name = 'Zelda Quarry' where key = 'c0'")
    db.execute("update slotoptim_private.queue_entry set first_name = 'Zelda'")
    board = client.get("/queue/acme/main").text
    assert "Zelda" in board and "Quarry" not in board  # first name on the screen, never the family name

    kiosk = client.get("/kiosk/acme/main")
    assert kiosk.status_code == 200 and '<label for="phone">' in kiosk.text
    unknown = client.post("/kiosk/acme/main", data={"phone": "+1 617 555 9999"})
    assert "find a visit today for that number" in unknown.text
    bad = client.post("/kiosk/acme/main", data={"phone": "12"})
    assert "Please enter the phone number" in bad.text
    found = client.post("/kiosk/acme/main", data={"phone": "+1 617 555 0000"})  # c0 is already here: same entry
    assert "Your ticket is <strong>A001</strong>" in found.text
