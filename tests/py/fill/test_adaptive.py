"""The adaptive strategy's decisions on constructed cases (sql/55n_fn_adaptive.sql)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import psycopg
from fill.fill_practice import MORNING, cancel, load, offers, settings

MIN = dt.timedelta(minutes=1)
# Seed 002's prior for an SMS sent 08:00-10:00 local: 34 % x 38 % / 30 %.
PRIOR_SMS_MORNING = 0.34 * 0.38 / 0.30


def plan(conn: psycopg.Connection[Any], gap: int, at: dt.datetime) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute("select * from slotoptim.offer_plan(%s, %s)", (gap, at)).fetchall()]


def needed_alone(p: float, target: float) -> int:
    """Offers of acceptance p that one wave needs to reach the target by itself."""
    return math.ceil(math.log(1 - target) / math.log(1 - p) - 1e-9)


def test_plan_reaches_the_target_over_the_horizon(conn: psycopg.Connection[Any]) -> None:
    load(conn, 30, consent={"sms": True, "whatsapp": False, "email": False})
    gap = cancel(conn)
    waves = plan(conn, gap, MORNING)
    # Default horizon 20 minutes; by 8 minutes 80 % of SMS answers are in, so a wave every 8 minutes:
    # two waves share what the 0.9 target needs, each offer open for a 15-minute window.
    assert [w["wave"] for w in waves] == [1, 2]
    assert [w["send_at"] - MORNING for w in waves] == [0 * MIN, 8 * MIN]
    assert waves[-1]["p_fill_cumulative"] >= 0.9
    assert waves[0]["p_fill_cumulative"] < 0.9, "the first wave alone does not spend the whole budget"
    # The last wave has only 12 of its 15 minutes inside the horizon: it may need one offer more.
    assert (
        needed_alone(PRIOR_SMS_MORNING, 0.9)
        <= sum(w["offers"] for w in waves)
        <= needed_alone(PRIOR_SMS_MORNING, 0.9) + 1
    )
    assert all(w["response_window"] == 15 * MIN for w in waves)
    assert "fill probability" in waves[0]["note"]


def test_one_wave_when_the_horizon_allows_one(conn: psycopg.Connection[Any]) -> None:
    load(conn, 30, consent={"sms": True, "whatsapp": False, "email": False})
    settings(conn, adaptive_horizon=dt.timedelta(minutes=15))
    gap = cancel(conn)
    waves = plan(conn, gap, MORNING)
    assert len(waves) == 1
    assert waves[0]["offers"] == needed_alone(PRIOR_SMS_MORNING, 0.9)
    assert waves[0]["p_fill_cumulative"] >= 0.9


def test_late_claimant_cap_splits_waves(conn: psycopg.Connection[Any]) -> None:
    load(conn, 30, consent={"sms": True, "whatsapp": False, "email": False})
    settings(conn, adaptive_horizon=dt.timedelta(minutes=60), adaptive_max_late_claims=0)
    gap = cancel(conn)
    waves = plan(conn, gap, MORNING)
    assert waves and all(w["offers"] == 1 for w in waves), "no late claimant allowed: one offer per wave"
    assert all(abs(w["expected_late_claims_per_fill"]) < 1e-6 for w in waves)


def test_near_the_deadline_the_window_shrinks(conn: psycopg.Connection[Any]) -> None:
    load(conn, 30, consent={"sms": True, "whatsapp": False, "email": False})
    settings(conn, adaptive_min_notice=dt.timedelta(minutes=60))
    gap = cancel(conn)
    # 12:50 local for a 14:00 slot with an hour's notice needed: 10 minutes to the 13:00 deadline.
    at = MORNING.replace(hour=12, minute=50)
    waves = plan(conn, gap, at)
    assert len(waves) == 1 and waves[0]["response_window"] == 10 * MIN


def test_lower_predicted_acceptance_means_larger_waves(conn: psycopg.Connection[Any]) -> None:
    load(conn, 40, consent={"sms": True, "whatsapp": False, "email": False})
    gap = cancel(conn)
    before = plan(conn, gap, MORNING)
    org = conn.execute("select id from slotoptim_private.organisation").fetchone()
    assert org is not None
    # A trained model that found this organisation's customers accept a quarter as often.
    version = conn.execute(
        "insert into slotoptim_private.model_version (org_id, kind, version, trained_at, metadata, active)"
        " values (%s, 'acceptance', 'test', %s, '{}', true) returning id",
        (org["id"], MORNING),
    ).fetchone()
    assert version is not None
    conn.execute(
        "insert into slotoptim_private.acceptance_factor (org_id, model_version_id, factor, level, observed,"
        " expected, multiplier) values (%s, %s, 'organisation', 'all', 10, 40, 0.25)",
        (org["id"], version["id"]),
    )
    after = plan(conn, gap, MORNING)
    assert after[0]["offers"] > before[0]["offers"]
    assert sum(w["offers"] for w in after) >= needed_alone(PRIOR_SMS_MORNING * 0.25, 0.9)
    assert after[-1]["p_fill_cumulative"] >= 0.9


def test_engine_offers_the_first_wave_with_its_prediction(conn: psycopg.Connection[Any]) -> None:
    load(conn, 30, consent={"sms": True, "whatsapp": False, "email": False})
    settings(conn, offer_strategy="adaptive")
    gap = cancel(conn)
    first = plan(conn, gap, MORNING)[0]
    conn.execute("select * from slotoptim.tick(%s)", (MORNING,))
    made = [o for o in offers(conn) if o["status"] == "open"]
    assert len(made) == first["offers"]
    assert all(abs(o["p_accept"] - PRIOR_SMS_MORNING) < 1e-4 for o in made)
    assert all(o["acceptance_model_version_id"] is None for o in made), "no model yet: the prior"
    assert all(o["expires_at"] - o["send_at"] == 15 * MIN for o in made)
    # Nobody answers: 8 minutes on, the next wave goes while the first wave's offers stay open.
    conn.execute("select * from slotoptim.tick(%s)", (MORNING + 7 * MIN,))
    assert len([o for o in offers(conn) if o["status"] == "open"]) == len(made)
    conn.execute("select * from slotoptim.tick(%s)", (MORNING + 8 * MIN,))
    second = [o for o in offers(conn) if o["status"] == "open" and o["id"] not in {m["id"] for m in made}]
    assert second and {o["customer_id"] for o in second}.isdisjoint({o["customer_id"] for o in made})
    assert all(o["status"] == "open" for o in offers(conn) if o["id"] in {m["id"] for m in made})
    campaign = conn.execute("select strategy, status from slotoptim_private.offer_campaign").fetchone()
    assert campaign is not None and campaign["strategy"] == "adaptive" and campaign["status"] == "running"


def test_adaptive_is_a_known_strategy(conn: psycopg.Connection[Any]) -> None:
    load(conn, 5)
    gap = cancel(conn)
    row = conn.execute("select slotoptim.start_offers(%s, 'adaptive', %s) as id", (gap, MORNING)).fetchone()
    assert row is not None and row["id"] is not None
