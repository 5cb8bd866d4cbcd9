"""Offer strategies on a simulated clock: who is offered, when, and when the engine moves on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from fill.fill_practice import MORNING, cancel, load, offers, settings

MIN = dt.timedelta(minutes=1)


def tick(conn: psycopg.Connection[Any], at: dt.datetime) -> None:
    conn.execute("select * from slotoptim.tick(%s)", (at,))


def live(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return [o for o in offers(conn) if o["status"] == "open"]


def test_cascade_follows_seed_waves(conn: psycopg.Connection[Any]) -> None:
    load(conn, 20)
    cancel(conn)
    tick(conn, MORNING)  # auto_offer starts the organisation's strategy: cascade
    wave1 = live(conn)
    assert len(wave1) == 3 and all(o["wave"] == 1 and o["score"] >= 55 for o in wave1)
    assert all(o["expires_at"] - o["send_at"] == 15 * MIN for o in wave1)

    tick(conn, MORNING + 14 * MIN)
    assert len(live(conn)) == 3, "nothing moves before the window ends"
    tick(conn, MORNING + 15 * MIN)
    wave2 = live(conn)
    assert len(wave2) == 5 and all(o["wave"] == 2 and o["expires_at"] - o["send_at"] == 20 * MIN for o in wave2)
    assert {o["customer_id"] for o in wave2}.isdisjoint({o["customer_id"] for o in wave1})

    tick(conn, MORNING + 35 * MIN)
    wave3 = live(conn)
    assert len(wave3) == 12 and all(o["wave"] == 3 for o in wave3), "wave 3 asks everyone left with score >= 35"
    tick(conn, MORNING + 65 * MIN)
    campaign = conn.execute("select status from slotoptim_private.offer_campaign").fetchone()
    assert campaign is not None and campaign["status"] == "released"
    gap = conn.execute("select status from slotoptim_private.gap where status in ('open', 'offering')").fetchone()
    assert gap is not None and gap["status"] == "open", "released to the booking portal"
    ignored = conn.execute("select sum(offers_ignored) as n from slotoptim_private.waitlist_entry").fetchone()
    assert ignored is not None and ignored["n"] == 20


def test_wave_advances_when_everyone_declined(conn: psycopg.Connection[Any]) -> None:
    load(conn, 10)
    cancel(conn)
    tick(conn, MORNING)
    for o in live(conn):
        assert conn.execute(
            "select slotoptim.decline_offer(%s, %s, %s) as ok", (o["id"], o["customer_id"], MORNING + MIN)
        ).fetchone()["ok"]
    tick(conn, MORNING + MIN)
    assert {o["wave"] for o in live(conn)} == {2}


def test_sequential_offers_one_at_a_time(conn: psycopg.Connection[Any]) -> None:
    load(conn, 5)
    settings(conn, offer_strategy="sequential")
    cancel(conn)
    tick(conn, MORNING)
    first = live(conn)
    assert len(first) == 1
    tick(conn, MORNING + 15 * MIN)
    second = live(conn)
    assert len(second) == 1 and second[0]["customer_id"] != first[0]["customer_id"]


def test_broadcast_and_burst(conn: psycopg.Connection[Any]) -> None:
    load(conn, 12)
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, MORNING))
    assert len(live(conn)) == 12
    # A restart with another strategy withdraws the running offers first.
    settings(conn, burst_size=4)
    conn.execute("select slotoptim.start_offers(%s, 'burst', %s)", (gap, MORNING + MIN))
    statuses = [o["status"] for o in offers(conn)]
    assert statuses.count("retracted") == 12
    assert statuses.count("open") == 0, "everyone was already offered this gap"


def test_burst_offers_top_n(conn: psycopg.Connection[Any]) -> None:
    load(conn, 12)
    settings(conn, burst_size=4)
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'burst', %s)", (gap, MORNING))
    made = live(conn)
    assert len(made) == 4
    ranked = conn.execute("select score from slotoptim.candidates(%s, %s) order by rank", (gap, MORNING)).fetchall()
    assert min(o["score"] for o in made) >= max((r["score"] for r in ranked), default=0)


def test_staff_approval(conn: psycopg.Connection[Any]) -> None:
    load(conn, 6)
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'staff_approval', %s)", (gap, MORNING))
    a, b = live(conn)[:2]
    first = conn.execute(
        "select * from slotoptim.claim_offer(%s, %s, %s)", (a["id"], a["customer_id"], MORNING)
    ).fetchone()
    assert first is not None and first["outcome"] == "awaiting_approval"
    second = conn.execute(
        "select * from slotoptim.claim_offer(%s, %s, %s)", (b["id"], b["customer_id"], MORNING)
    ).fetchone()
    assert second is not None and second["outcome"] == "being_confirmed"
    decided = conn.execute("select * from slotoptim.decide_claim(%s, true, %s)", (a["id"], MORNING + MIN)).fetchone()
    assert decided is not None and decided["outcome"] == "booked" and decided["appointment_id"]


def test_gap_expires_and_offers_are_retracted(conn: psycopg.Connection[Any]) -> None:
    load(conn, 6)
    cancel(conn)
    tick(conn, MORNING)
    assert live(conn)
    # 13:50: the 30-minute visit no longer fits before 14:30.
    tick(conn, MORNING.replace(hour=14, minute=1))
    assert not live(conn)
    gap = conn.execute("select status from slotoptim_private.gap order by id desc limit 1").fetchone()
    assert gap is not None and gap["status"] == "expired"


def test_duplicate_wakeups_change_nothing(conn: psycopg.Connection[Any]) -> None:
    load(conn, 10)
    cancel(conn)
    tick(conn, MORNING)
    before = (len(offers(conn)), conn.execute("select count(*) as n from slotoptim_private.message").fetchone()["n"])
    for _ in range(3):
        conn.execute(
            "select pg_notify(slotoptim_private.engine_channel('gap'), %s)",
            ('{"v":1,"type":"gap_opened","gap_id":1}',),
        )
        tick(conn, MORNING)
    after = (len(offers(conn)), conn.execute("select count(*) as n from slotoptim_private.message").fetchone()["n"])
    assert before == after


def test_candidates_explain_their_score(conn: psycopg.Connection[Any]) -> None:
    load(conn, 5)
    gap = cancel(conn)
    rows = conn.execute("select * from slotoptim.candidates(%s, %s)", (gap, MORNING)).fetchall()
    assert [r["rank"] for r in rows] == list(range(1, 6))
    for r in rows:
        weighted = (
            30 * r["time_points"]
            + 20 * r["provider_points"]
            + 20 * r["service_points"]
            + 10 * r["travel_points"]
            + 10 * r["lead_points"]
            + 5 * r["response_points"]
            + 5 * r["fairness_points"]
        ) / 100
        assert abs(float(r["score"]) - weighted) < 0.01
    # Weights are the organisation's: all weight on fairness makes the longest waiter first.
    settings(
        conn,
        weight_time=0,
        weight_provider=0,
        weight_service=0,
        weight_travel=0,
        weight_lead=0,
        weight_response=0,
        weight_fairness=100,
    )
    top = conn.execute("select * from slotoptim.candidates(%s, %s) where rank = 1", (gap, MORNING)).fetchone()
    assert top is not None and top["fairness_points"] == 100
