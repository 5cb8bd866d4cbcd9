"""The claim page with a deposit rule in a real browser (Chromium + axe-core): the customer goes
to the stand-in's Checkout page, pays, comes back to a page that waits for the webhook, and sees
"You're booked" once it lands (the page refreshes itself: no JavaScript of ours)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from api.api_practice import NOW
from api.claim_helpers import offered, token
from api.conftest import ApiDb, Keys, base_settings
from api.live_server import live_server
from api.test_browser import assert_accessible, axe_source, browser, no_horizontal_scroll, screenshot  # noqa: F401
from litestar.testing import TestClient
from payments.flow import checkout_of, running_standin
from payments.helpers import SECRET_KEY, link_standin, org_id, set_policy
from payments.stripe_standin import StandIn


@pytest.fixture
def standin(api_db: ApiDb, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    monkeypatch.setenv("SLOTOPTIM_SECRET_KEY", SECRET_KEY)
    with running_standin(deliver_later=True) as s, psycopg.connect(api_db.url, autocommit=True) as conn:
        link_standin(conn, api_db.orgs["acme"], s, NOW)  # type: ignore[arg-type]
        yield s


def test_deposit_claim_through_checkout_in_the_browser(
    browser: Any,  # noqa: F811
    axe_source: str,  # noqa: F811
    api_db: ApiDb,
    client: TestClient[Any],
    keys: Keys,
    db: psycopg.Connection[dict[str, Any]],
    standin: StandIn,
) -> None:
    set_policy(db, org_id(db), {"deposit_min_price": 0, "deposit_percent": 50})
    offer = offered(client, keys, db)[0]
    tok = token(db, offer)
    # Plain http on a loopback port: the return URL is built from the request.
    with live_server(replace(base_settings(api_db.url), public_url=None)) as base:
        standin.webhook_url = f"{base}/webhooks/stripe"
        context = browser.new_context(viewport={"width": 320, "height": 640}, device_scale_factor=2, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{base}/c/{tok}")
        assert "holds a deposit of $50.00" in page.inner_text("main")
        assert no_horizontal_scroll(page)
        screenshot(page, "claim-deposit-phone.png")
        assert_accessible(page, axe_source, "the claim page (deposit)")

        page.goto(f"{base}/c/{tok}")
        page.get_by_role("button", name="Continue to payment for Tue 2:00 PM").click()
        page.get_by_role("heading", name="Stand-in Checkout").wait_for()
        assert page.url.startswith(standin.base + "/pay/cs_test_")
        assert "Hold 50.00 USD" in page.inner_text("main")
        assert db.execute("select count(*) as n from slotoptim_private.offer where status = 'claimed'").fetchone() == {
            "n": 0
        }
        page.get_by_label("Test card").select_option("visa")
        page.get_by_role("button", name="Pay").click()
        # Back on the claim page: it waits for the webhook, then shows the booking.
        page.wait_for_url(f"{base}/c/{tok}")
        page.get_by_role("heading", name="You're booked").wait_for(timeout=30_000)
        screenshot(page, "claim-deposit-booked-phone.png")
        assert_accessible(page, axe_source, "the claim page (booked after payment)")
        context.close()
    k = checkout_of(db, offer["id"])
    assert (k.status, k.hold_status) == ("booked", "authorised")
    outcomes = [r["outcome"] for r in db.execute("select outcome from slotoptim_private.stripe_event").fetchall()]
    assert "booked" in outcomes
