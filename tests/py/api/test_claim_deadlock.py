"""Claims racing staff bookings and reschedules into the same slot (issue 9, item 8): no deadlock,
no 5xx, the claim page always answers in HTML, and a slot is never booked twice. 20 rounds here;
`make faults` runs 80 (SLOTOPTIM_FAULT_ROUNDS) and prints the figures."""

from __future__ import annotations

import os
from dataclasses import asdict, replace
from typing import Any

import psycopg
from api.claim_race_rounds import load, run_rounds
from api.conftest import base_settings
from api.live_server import live_server
from litestar.testing import TestClient

from slotoptim.listener.retry import retries

ROUNDS = int(os.environ.get("SLOTOPTIM_FAULT_ROUNDS", "20"))


def test_claims_staff_bookings_and_reschedules_never_deadlock(fresh_db: str) -> None:
    staff_key = load(fresh_db, ROUNDS)
    retried_before = retries()
    with live_server(replace(base_settings(fresh_db), pool_max=8)) as url:
        figures = run_rounds(url, fresh_db, staff_key, ROUNDS)
    retried = {k: v - retried_before.get(k, 0) for k, v in retries().items()}
    print(f"\nclaim race: {ROUNDS} rounds: {asdict(figures)}, transactions retried: {retried}")
    assert figures.rounds == ROUNDS
    assert figures.double_bookings == 0
    assert figures.server_errors == 0, figures.statuses
    assert figures.claim_pages_not_html == 0
    assert figures.deadlocks == 0, f"{figures.deadlocks} deadlocks in {ROUNDS} rounds"
    assert set(figures.claim_outcomes) <= {"You're booked", "This opening has been filled"}, figures.claim_outcomes


def test_claim_page_shows_its_own_page_when_the_database_fails(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]], keys: Any
) -> None:
    from api.claim_helpers import offered, token

    offer = offered(client, keys, db)[0]
    tok = token(db, offer)
    # A deadlock the server gave up on, simulated: every claim_offer call aborts with 40P01.
    db.execute(
        "create function slotoptim_private.test_deadlock() returns trigger language plpgsql as"
        " $$ begin raise exception using errcode = '40P01', message = 'deadlock detected'; end $$"
    )
    db.execute(
        "create trigger test_deadlock before update on slotoptim_private.offer"
        " for each row execute function slotoptim_private.test_deadlock()"
    )
    page = client.post(f"/c/{tok}", data={"token": tok})
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "try this link again" in page.text
    assert page.headers["x-request-id"] in page.text
    assert page.headers["retry-after"]
