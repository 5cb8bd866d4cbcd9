"""A holiday surge shortens the offer window and widens the wave, not only the price (seed 003;
sql/54r_fn_surge.sql, used by make_offers and the adaptive plan)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from fill.fill_practice import MORNING, SLOT_START, cancel, load, settings
from fill.test_adaptive import plan
from fill.test_pricing import policy

MIN = dt.timedelta(minutes=1)


def made(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    rows = conn.execute("select send_at, expires_at, price_rule from slotoptim_private.offer order by id").fetchall()
    return [dict(r) for r in rows]


def test_a_burst_on_a_holiday_offers_twice_as_many_for_half_as_long(conn: psycopg.Connection[Any]) -> None:
    load(conn, 12)
    settings(conn, score_threshold=0, burst_size=3, burst_window="20 minutes")
    # The same policy on an ordinary day (the holiday is tomorrow): the usual wave.
    policy(conn, holidays=[SLOT_START.date() + dt.timedelta(days=1)])
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'burst', %s)", (gap, MORNING))
    usual = made(conn)
    assert len(usual) == 3 and {o["expires_at"] - o["send_at"] for o in usual} == {20 * MIN}
    conn.execute("delete from slotoptim_private.offer_campaign")
    conn.execute("delete from slotoptim_private.offer")
    conn.execute("update slotoptim_private.gap set status = 'open'")
    # The slot's day is a holiday: six offers, ten minutes each, at the surge price.
    policy(conn, holidays=[SLOT_START.date()])
    conn.execute("select slotoptim.start_offers(%s, 'burst', %s)", (gap, MORNING))
    surge = made(conn)
    assert len(surge) == 6 and {o["expires_at"] - o["send_at"] for o in surge} == {10 * MIN}
    assert all("holiday +20" in str(o["price_rule"]) for o in surge)
    # A disabled policy surges nothing.
    policy(conn, holidays=[SLOT_START.date()], enabled=False)
    row = conn.execute(
        "select slotoptim_private.surge_day(org_id, lower(during)) as s from slotoptim_private.gap where id = %s",
        (gap,),
    ).fetchone()
    assert row is not None and row["s"] is False


def test_the_adaptive_plan_shortens_its_window_and_widens_its_first_wave(conn: psycopg.Connection[Any]) -> None:
    load(conn, 40, consent={"sms": True, "whatsapp": False, "email": False})
    policy(conn, holidays=[SLOT_START.date() + dt.timedelta(days=1)])
    gap = cancel(conn)
    usual = plan(conn, gap, MORNING)
    policy(conn, holidays=[SLOT_START.date()])
    surge = plan(conn, gap, MORNING)
    assert usual[0]["response_window"] == 15 * MIN and surge[0]["response_window"] == dt.timedelta(minutes=7.5)
    assert surge[0]["offers"] > usual[0]["offers"], (usual, surge)
    assert surge[-1]["p_fill_cumulative"] >= 0.9
