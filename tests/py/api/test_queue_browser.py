"""The live queue pages in Chromium: a waiting-room screen and a customer's status page see each
"call next" through Server-Sent Events (no reload), under the pages' strict CSP; axe-core finds
no serious problems; without JavaScript the pages refresh themselves.

Prints the event-to-page latency of both pages (median and p99 over the calls): the time from
just before the staff's POST to the moment the page's script applied the update (Date.now() in
the page, the same machine clock)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from api.conftest import ApiDb, Keys, base_settings
from api.live_server import live_server
from api.queue_helpers import add_location
from api.test_browser import CHROMIUM, assert_accessible, axe_source, browser  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium is not installed at {CHROMIUM}")

CALLS = 10


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def test_screen_and_customer_page_see_call_next_live(
    browser: Any,  # noqa: F811
    axe_source: str,  # noqa: F811
    api_db: ApiDb,
    keys: Keys,
    db: psycopg.Connection[dict[str, Any]],
) -> None:
    add_location(db)
    db.execute(
        "insert into slotoptim_private.queue_settings (org_id, overflow_threshold) values (%s, 50)",
        (api_db.orgs["acme"],),
    )
    staff = keys.headers("staff")
    with live_server(base_settings(api_db.url)) as base, httpx.Client(base_url=base, headers=staff) as api:
        tickets, status_url = [], ""
        for i in range(CALLS + 1):
            made = api.post("/v1/queue/walk-ins", json={"name": f"Guest{i} Family", "provider": "dr-a"})
            assert made.status_code == 201, made.text
            tickets.append(made.json()["ticket"])
            status_url = made.json()["status_url"]
        own_path = status_url.split("://", 1)[1].split("/", 1)[1]

        context = browser.new_context(viewport={"width": 1280, "height": 800})  # the pages' own CSP applies
        screen = context.new_page()
        screen.goto(f"{base}/queue/acme/main")
        mine = context.new_page()
        mine.goto(f"{base}/{own_path}")
        for page in (screen, mine):
            page.evaluate("() => { window.__sameDocument = true; }")
            page.wait_for_function("() => Number(document.body.dataset.eventsSeen || 0) >= 1")  # stream is open
        assert "Guest0" in screen.inner_text("#waiting") and "Family" not in screen.content()
        assert mine.inner_text("#q-detail").startswith(f"{CALLS} people are ahead")

        screen_ms: list[float] = []
        mine_ms: list[float] = []
        for n in range(CALLS):
            before_screen = screen.evaluate("() => Number(document.body.dataset.updated || 0)")
            before_mine = mine.evaluate("() => Number(document.body.dataset.updated || 0)")
            started = time.time() * 1000
            called = api.post("/v1/queue/providers/dr-a/call-next")
            assert called.json()["entry"]["ticket"] == tickets[n]
            screen.wait_for_function("t => document.getElementById('called').textContent.includes(t)", arg=tickets[n])
            ahead = CALLS - n - 1
            expected = (
                "Nobody is ahead"
                if ahead == 0
                else ("1 person is ahead" if ahead == 1 else f"{ahead} people are ahead")
            )
            mine.wait_for_function("t => document.getElementById('q-detail').textContent.startsWith(t)", arg=expected)
            screen_at = screen.evaluate("() => Number(document.body.dataset.updated)")
            mine_at = mine.evaluate("() => Number(document.body.dataset.updated)")
            assert screen_at > before_screen and mine_at > before_mine
            screen_ms.append(max(0.0, screen_at - started))
            mine_ms.append(max(0.0, mine_at - started))
            # Served and done, so the next call is the next person.
            entry = called.json()["entry"]["id"]
            api.post(f"/v1/queue/entries/{entry}/moves", json={"action": "start"})
            api.post(f"/v1/queue/entries/{entry}/moves", json={"action": "done"})
        last = api.post("/v1/queue/providers/dr-a/call-next").json()["entry"]
        mine.wait_for_function("() => document.body.dataset.state === 'called'")
        assert mine.inner_text("#q-headline") == "It's your turn!" and last["ticket"] == tickets[-1]
        for page in (screen, mine):
            assert page.evaluate("() => window.__sameDocument === true"), "the page reloaded instead of updating"
        for what, values in (("screen", screen_ms), ("customer page", mine_ms)):
            print(
                f"call next -> {what}: median {statistics.median(values):.0f} ms,"
                f" p99 {percentile(values, 0.99):.0f} ms, max {max(values):.0f} ms over {len(values)} calls"
            )
        context.close()

        checked = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        page = checked.new_page()
        page.goto(f"{base}/queue/acme/main")
        assert_accessible(page, axe_source, "the waiting-room screen")
        phone = browser.new_context(viewport={"width": 320, "height": 640}, device_scale_factor=2, bypass_csp=True)
        page = phone.new_page()
        page.goto(f"{base}/{own_path}")
        assert_accessible(page, axe_source, "the customer's queue page")
        page.goto(f"{base}/kiosk/acme/main")
        assert_accessible(page, axe_source, "the kiosk")
        checked.close()
        phone.close()

        plain = browser.new_context(java_script_enabled=False)
        page = plain.new_page()
        page.goto(f"{base}/queue/acme/main")
        assert page.locator("meta[http-equiv=refresh]").get_attribute("content") == "30"
        assert tickets[-1] in page.inner_text("#called")  # rendered by the server
        plain.close()
