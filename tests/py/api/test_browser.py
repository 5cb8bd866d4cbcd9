"""The claim page and the dashboard in a real browser: Debian's Chromium driven by Playwright,
against the app on uvicorn on a loopback port, with axe-core (from the npm registry) in the page.

axe-core is installed once into .axe-cache/ (gitignored):
    npm install --prefix .axe-cache --no-audit --no-fund --no-package-lock axe-core@4
`make test` installs both first (`make system-deps`); a missing one fails naming that command,
never skips.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from api.claim_helpers import offered, token
from api.conftest import ApiDb, Keys, base_settings
from api.live_server import live_server
from litestar.testing import TestClient

CHROMIUM = os.environ.get("SLOTOPTIM_CHROMIUM", "/usr/bin/chromium")  # Debian's, never a downloaded one
ROOT = Path(__file__).resolve().parents[3]
AXE_DIR = ROOT / ".axe-cache"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_INSTALL = ["npm", "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund", "--no-package-lock", "axe-core@4"]
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BLOCKING = ("serious", "critical")
# Screenshots of each state the browser tests reach (git-ignored out/): what a new user sees.
SHOTS = ROOT / "out" / "screenshots"


def screenshot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


SYSTEM_DEPS = "make system-deps (tests/setup/system-deps.sh)"


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"axe-core is missing and npm is not installed: run {SYSTEM_DEPS}", pytrace=False)
        subprocess.run([npm, *AXE_INSTALL[1:]], check=True, capture_output=True, timeout=120)
    return AXE_JS.read_text()


def require_chromium(path: str) -> None:
    if not Path(path).exists():
        pytest.fail(f"Chromium is not installed at {path}: run {SYSTEM_DEPS} (apt-get install chromium)", pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    require_chromium(CHROMIUM)

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def axe_violations(page: Any, source: str) -> list[dict[str, Any]]:
    page.add_script_tag(content=source)
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]} for v in result]


def assert_accessible(page: Any, source: str, what: str) -> None:
    violations = axe_violations(page, source)
    print(f"axe {what}: {violations or 'no violations'}")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core found serious violations on {what}: {blocking}"


def no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_a_missing_chromium_fails_naming_the_install_command() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"make system-deps .*apt-get install chromium"):
        require_chromium("/nonexistent/chromium")


def test_claim_in_the_browser(
    browser: Any,
    axe_source: str,
    api_db: ApiDb,
    client: TestClient[Any],
    keys: Keys,
    db: psycopg.Connection[dict[str, Any]],
) -> None:
    tok = token(db, offered(client, keys, db)[0])
    with live_server(base_settings(api_db.url)) as base:
        # A phone at 200 % zoom: 320 CSS pixels wide (WCAG reflow), twice the device pixels.
        context = browser.new_context(viewport={"width": 320, "height": 640}, device_scale_factor=2, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{base}/c/{tok}")
        assert page.evaluate("() => document.documentElement.lang") == "en"
        button = page.get_by_role("button", name="Confirm Tue 2:00 PM with Dr. A")
        box = button.bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 48
        assert no_horizontal_scroll(page), "the claim page scrolls sideways at 320 px (200 % zoom)"
        screenshot(page, "claim-open-phone.png")
        assert_accessible(page, axe_source, "the claim page (open)")

        page.goto(f"{base}/c/{tok}")  # a fresh load without the axe script
        button.focus()
        outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", "keyboard focus is not visible on the confirm button"
        page.keyboard.press("Enter")  # booking works from the keyboard, without JavaScript
        page.get_by_role("heading", name="You're booked").wait_for()
        assert page.get_by_role("status").inner_text().startswith("This appointment is yours")
        assert no_horizontal_scroll(page)
        screenshot(page, "claim-booked-phone.png")
        assert_accessible(page, axe_source, "the claim page (booked)")

        page.goto(f"{base}/c/{'A' * 32}")
        assert page.get_by_role("heading", name="We can't find this offer").is_visible()
        context.close()
    row = db.execute("select count(*) as n from slotoptim_private.offer where status = 'claimed'").fetchone()
    assert row == {"n": 1}


def test_dashboard_in_the_browser(
    browser: Any,
    axe_source: str,
    api_db: ApiDb,
    client: TestClient[Any],
    keys: Keys,
    db: psycopg.Connection[dict[str, Any]],
    tmp_path: Path,
) -> None:
    offers = offered(client, keys, db)
    tok = token(db, offers[0])
    assert "booked" in client.post(f"/c/{tok}", data={"token": tok}).text
    assert offered(client, keys, db, appointment_key="after")  # a gap being offered now
    assert offered(client, keys, db, org="bravo")
    before = db.execute(
        "select a.id from slotoptim_private.appointment as a join slotoptim_private.organisation as o"
        " on o.id = a.org_id where o.key = 'acme' and a.key = 'before'"
    ).fetchone()
    assert before is not None  # a gap nobody is offered yet: the page says why
    assert client.post(f"/v1/appointments/{before['id']}/cancel", headers=keys.headers("staff")).status_code == 200
    with live_server(base_settings(api_db.url)) as base:
        context = browser.new_context(viewport={"width": 1024, "height": 768}, bypass_csp=True)  # a tablet
        page = context.new_page()
        page.goto(f"{base}/")
        assert page.url.endswith("/dashboard/login")  # GET / leads to the dashboard, which asks for a key
        screenshot(page, "dashboard-login-tablet.png")
        assert_accessible(page, axe_source, "the dashboard login page")
        page.get_by_label("API key").fill(keys.staff)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Today at Acme Clinic").wait_for()
        text = page.inner_text("main")
        for expected in ("Open gaps now", "Live offers", "Fill rate today", "Revenue recovered", "$100.00"):
            assert expected in text, expected
        assert page.locator("[aria-label='Live offers table'] tbody tr").count() >= 1
        assert page.locator("[aria-label='Open gaps table'] tbody tr").count() >= 1
        assert "Bravo Clinic" not in page.content()
        assert page.locator("svg[role=img] rect").count() == 30  # a bar per day of November
        assert page.locator("table.heat tbody tr").count() == 7
        assert re.search(r"\d+%", page.inner_text("table.heat"))
        assert "not offered yet" in page.inner_text("[aria-label='Open gaps table']")  # why the "before" gap has none
        assert page.locator("table.trend tbody tr").count() == 8  # the weekly trend
        this_week = page.locator("table.trend tr.current").inner_text()
        assert "(so far)" in this_week and "1 / 3" in this_week and "33%" in this_week and "$100.00" in this_week
        legend = page.locator("ul.legend li").all_inner_texts()
        assert len(legend) >= 2 and "no working hours" in legend[0]  # bands from the data's range
        assert no_horizontal_scroll(page), "the dashboard scrolls sideways on a tablet"
        # The gaps card spans the page: as wide as the "Filling today" card above it.
        gaps_box = page.locator("section[aria-labelledby=gaps-h]").bounding_box()
        today_box = page.locator("section[aria-labelledby=today-h]").bounding_box()
        assert gaps_box is not None and today_box is not None and gaps_box["width"] == today_box["width"]
        screenshot(page, "dashboard-tablet.png")

        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000, len(data)
        print(f"dashboard screenshot: {shot} ({len(data)} bytes)")
        assert_accessible(page, axe_source, "the dashboard")

        page.set_viewport_size({"width": 1440, "height": 900})  # a laptop
        assert no_horizontal_scroll(page)
        screenshot(page, "dashboard-laptop.png")

        # Drill down: the gap being offered, from its row to its campaign, offers and messages.
        page.set_viewport_size({"width": 1024, "height": 768})
        page.locator("[aria-label='Live offers table'] tbody tr").first.get_by_role("link").click()
        page.get_by_role("heading", name="Campaigns").wait_for()
        assert page.url.split("/dashboard/gaps/")[1].isdigit()
        assert page.locator("[aria-label='Offers of this gap table'] tbody tr").count() >= 1
        assert page.locator("[aria-label='Messages of this gap table'] tbody tr").count() >= 1
        assert no_horizontal_scroll(page), "the gap page scrolls sideways on a tablet"
        screenshot(page, "dashboard-gap-offered-tablet.png")
        assert_accessible(page, axe_source, "a gap's page (offered)")

        # And the gap nobody is offered: the waitlist, each entry with the filter that excludes it.
        page.goto(f"{base}/dashboard")
        page.locator("[aria-label='Open gaps table'] tbody tr", has_text="not offered yet").first.get_by_role(
            "link"
        ).click()
        page.get_by_role("heading", name="Who on the waitlist is not offered it, and why").wait_for()
        assert page.locator("[aria-label='Waitlist entries for this gap table'] tbody tr").count() >= 1
        assert "No campaign has started for this gap yet" in page.inner_text("main")
        screenshot(page, "dashboard-gap-why-tablet.png")
        assert_accessible(page, axe_source, "a gap's page (not offered)")
        page.get_by_role("link", name="Dashboard", exact=True).click()
        page.get_by_role("heading", name="Today at Acme Clinic").wait_for()
        context.close()


def test_empty_dashboard_in_the_browser(
    browser: Any, axe_source: str, api_db: ApiDb, db: psycopg.Connection[dict[str, Any]]
) -> None:
    from slotoptim.api.apikeys import create_key
    from slotoptim.listener.practice.importer import import_practice

    import_practice(
        db,
        {
            "format": "slotoptim.practice/1",
            "organisation": {"key": "newco", "name": "New Clinic", "timezone": "America/New_York"},
        },
    )
    org = db.execute("select id from slotoptim_private.organisation where key = 'newco'").fetchone()
    assert org is not None
    key = create_key(db, int(org["id"]), "first", "staff").token
    with live_server(base_settings(api_db.url)) as base:
        context = browser.new_context(viewport={"width": 1024, "height": 768})  # CSP enforced here
        page = context.new_page()
        page.goto(f"{base}/dashboard/login")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Nothing to show yet").wait_for()
        assert "slotoptim import practice.json" in page.inner_text("main")
        # The stylesheet loaded under the strict CSP (no inline styles): the page is styled.
        assert page.evaluate("() => getComputedStyle(document.body).marginTop") == "0px"
        screenshot(page, "dashboard-empty-tablet.png")
        # axe-core is injected as an inline script, which the page's CSP rightly refuses: check
        # accessibility in a context that bypasses the CSP, with the same session.
        checking = browser.new_context(
            viewport={"width": 1024, "height": 768}, bypass_csp=True, storage_state=context.storage_state()
        )
        context.close()
        page = checking.new_page()
        page.goto(f"{base}/dashboard")
        page.get_by_role("heading", name="Nothing to show yet").wait_for()
        assert_accessible(page, axe_source, "the empty dashboard")
        checking.close()


def test_the_demo_day_on_the_dashboard_in_the_browser(
    browser: Any, axe_source: str, api_db: ApiDb, db: psycopg.Connection[dict[str, Any]]
) -> None:
    """What `make run` leaves a new user: the demo practice after its simulated day, on the real
    clock (`make run` runs `slotoptim demo` for this week's Tuesday, then serves)."""
    from dataclasses import replace

    from slotoptim.api.apikeys import create_key
    from slotoptim.api.settings import utc_now
    from slotoptim.listener.demo import run_demo
    from slotoptim.listener.practice.demo import today_in_demo_zone

    result = run_demo(api_db.url, None, start=today_in_demo_zone())
    filled = int(result["kpis"]["fill"]["gaps_filled"])
    assert filled > 0
    org = db.execute("select id from slotoptim_private.organisation where key = 'harbourview'").fetchone()
    assert org is not None
    key = create_key(db, int(org["id"]), "first look", "staff").token
    with live_server(replace(base_settings(api_db.url), clock=utc_now)) as base:
        context = browser.new_context(viewport={"width": 1024, "height": 768}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{base}/dashboard/login")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Today at Harbourview Health").wait_for()
        assert "Nothing to show yet" not in page.inner_text("main")
        # The demo day's results stay: its week in the trend, whatever today's weekday.
        week = page.locator("table.trend tr.current").inner_text()
        assert f"{filled} / " in week and "$0.00" not in week, week
        assert page.locator("table.heat tbody tr").count() == 7
        assert no_horizontal_scroll(page)
        screenshot(page, "dashboard-demo-tablet.png")
        assert_accessible(page, axe_source, "the demo practice's dashboard")
        context.close()
