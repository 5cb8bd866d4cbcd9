"""The booking page and the finished claim page in a real browser: Debian's Chromium driven by
Playwright against the app on uvicorn, axe-core in the page (WCAG 2.1 AA rules), at 320 CSS pixels
(a phone at 200 % zoom), with JavaScript off for the booking itself: it must work as plain forms.
Screenshots go where test_browser.py puts them (out/screenshots, git-ignored)."""

from __future__ import annotations

from typing import Any

import psycopg
from api.claim_helpers import offered, token
from api.conftest import ApiDb, Keys, base_settings
from api.live_server import live_server
from api.test_browser import assert_accessible, axe_source, browser, no_horizontal_scroll, screenshot
from litestar.testing import TestClient

__all__ = ["axe_source", "browser"]  # the fixtures test_browser.py defines

PHONE_VIEW = {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 2}


def test_booking_page_in_the_browser(
    browser: Any, axe_source: str, api_db: ApiDb, db: psycopg.Connection[dict[str, Any]]
) -> None:
    with live_server(base_settings(api_db.url)) as base:
        # bypass_csp lets axe's script in; the page itself has no script to run.
        context = browser.new_context(**PHONE_VIEW, bypass_csp=True, java_script_enabled=True)
        page = context.new_page()
        page.goto(f"{base}/book/acme")
        assert page.evaluate("() => document.documentElement.lang") == "en"
        assert no_horizontal_scroll(page), "the booking page scrolls sideways at 320 px"
        screenshot(page, "book-start-phone.png")
        assert_accessible(page, axe_source, "the booking page (start)")

        page.goto(f"{base}/book/acme?service=short")
        assert page.get_by_role("heading", name="2. Pick a time for Short visit").is_visible()
        assert no_horizontal_scroll(page)
        screenshot(page, "book-times-phone.png")
        assert_accessible(page, axe_source, "the booking page (openings)")

        # A form sent with a missing name: the error summary names the field, the field says why.
        page.goto(f"{base}/book/acme?service=short")
        page.locator("#book-opening").check()
        page.locator("#book-phone").fill("+16175554242")
        page.locator("#book-name").evaluate("e => e.removeAttribute('required')")
        page.get_by_role("button", name="Book this time").click()
        page.get_by_role("heading", name="Please check this field").wait_for()
        assert page.get_by_role("link", name="Name: please enter your name.").is_visible()
        assert page.locator("#book-name").get_attribute("aria-invalid") == "true"
        screenshot(page, "book-error-phone.png")
        assert_accessible(page, axe_source, "the booking page (an error)")
        context.close()

        # Booking with JavaScript off, from the keyboard: the claim page shows the booking.
        plain = browser.new_context(**PHONE_VIEW, java_script_enabled=False)
        page = plain.new_page()
        page.goto(f"{base}/book/acme?service=short&provider=dr-a")
        page.locator("#book-opening").check()
        page.locator("#book-name").fill("Ana Walk-In")
        page.locator("#book-phone").fill("+1 617 555 4242")
        page.locator("#book-texts").check()
        button = page.get_by_role("button", name="Book this time")
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44
        button.focus()
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="You're booked").wait_for()
        assert "/c/" in page.url
        screenshot(page, "book-booked-phone.png")
        plain.close()

        checked = browser.new_context(**PHONE_VIEW, bypass_csp=True)
        page = checked.new_page()
        page.goto(f"{base}/book/acme?service=short")
        page.locator("#waitlist-day2").check()
        page.locator("#waitlist-name").fill("Bo Early")
        page.locator("#waitlist-email").fill("bo@example.org")
        page.locator("#waitlist-emails").check()
        page.get_by_role("button", name="Join the waiting list").click()
        page.get_by_role("heading", name="You're on the waiting list").wait_for()
        screenshot(page, "book-waitlist-joined-phone.png")
        assert_accessible(page, axe_source, "the waiting-list confirmation")
        checked.close()
    booked = db.execute(
        "select count(*) as n from slotoptim_private.appointment where source = 'booking_page' and status = 'booked'"
    ).fetchone()
    assert booked == {"n": 1}


def test_finished_claim_page_in_the_browser(
    browser: Any,
    axe_source: str,
    api_db: ApiDb,
    client: TestClient[Any],
    keys: Keys,
    db: psycopg.Connection[dict[str, Any]],
) -> None:
    offers = offered(client, keys, db)
    first, second = offers[0], offers[1]
    db.execute(
        "update slotoptim_private.customer set timezone = 'America/Los_Angeles' where id = %s", (first["customer_id"],)
    )
    with live_server(base_settings(api_db.url)) as base:
        context = browser.new_context(**PHONE_VIEW, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{base}/c/{token(db, first)}")
        assert page.get_by_text("2:00 PM EST at the practice.").is_visible()
        decline = page.get_by_role("button", name="No thanks")
        box = decline.bounding_box()
        assert box is not None and box["height"] >= 44
        assert no_horizontal_scroll(page)
        screenshot(page, "claim-finished-open-phone.png")
        assert_accessible(page, axe_source, "the finished claim page (open, another time zone)")

        decline.click()
        page.get_by_role("heading", name="You said no thanks").wait_for()
        screenshot(page, "claim-declined-phone.png")
        assert_accessible(page, axe_source, "the claim page (declined)")

        page.goto(f"{base}/c/{token(db, second)}")
        page.get_by_role("button", name="Confirm Tue 2:00 PM with Dr. A").click()
        page.get_by_role("heading", name="You're booked").wait_for()
        assert no_horizontal_scroll(page)
        screenshot(page, "claim-finished-booked-phone.png")
        assert_accessible(page, axe_source, "the finished claim page (booked)")
        context.close()
