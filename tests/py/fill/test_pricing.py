"""Last-minute pricing fixed on each offer, audited, and counted in recovered revenue (sql/56n_fn_pricing.sql)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from fill.fill_practice import MORNING, SLOT_START, cancel, load, settings

MIN = dt.timedelta(minutes=1)


def org_id(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("select id from slotoptim_private.organisation").fetchone()
    assert row is not None
    return int(row["id"])


def policy(conn: psycopg.Connection[Any], **values: Any) -> None:
    names = ", ".join(f"{k} => %({k})s" for k in values)
    conn.execute(f"select slotoptim.set_pricing_policy(%(org)s, {names})", {"org": org_id(conn), **values})


def prices(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    rows = conn.execute(
        "select o.price_cents, o.list_price_cents, o.currency, o.price_rule, w.tier"
        "  from slotoptim_private.offer as o join slotoptim_private.waitlist_entry as w on w.id = o.waitlist_entry_id"
        " order by o.id"
    ).fetchall()
    return [dict(r) for r in rows]


def test_no_policy_no_price(conn: psycopg.Connection[Any]) -> None:
    load(conn, 3)
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, MORNING))
    assert all(p["price_cents"] is None and p["currency"] is None for p in prices(conn))


def test_last_minute_tier_and_holiday(conn: psycopg.Connection[Any]) -> None:
    load(conn, 4)
    conn.execute("update slotoptim_private.waitlist_entry set tier = 'gold' where key = 'w001'")
    policy(
        conn,
        last_minute_hours=6,
        last_minute_discount_pct=25,
        tier_discount_pct=psycopg.types.json.Jsonb({"gold": 10}),
        holiday_surge_pct=20,
        holidays=[SLOT_START.date()],
    )
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, MORNING))  # 5 hours ahead
    by_tier = {p["tier"]: p for p in prices(conn)}
    # $100 visit: -25 % last minute, +20 % holiday = $90; gold also -10 % = $81.
    assert by_tier["standard"]["price_cents"] == 9000 and by_tier["standard"]["list_price_cents"] == 10000
    assert by_tier["gold"]["price_cents"] == 8100
    assert by_tier["gold"]["price_rule"] == "list 10000, last-minute -25.00%, gold tier -10%, holiday +20.00%"
    assert {p["currency"] for p in prices(conn)} == {"USD"}


def test_price_is_fixed_when_offered_and_counts_as_revenue(conn: psycopg.Connection[Any]) -> None:
    load(conn, 3)
    settings(conn, score_threshold=0)
    policy(conn, last_minute_hours=24, last_minute_discount_pct=40)
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, MORNING))
    first = conn.execute("select id, customer_id, price_cents from slotoptim_private.offer order by id").fetchone()
    assert first is not None and first["price_cents"] == 6000
    # A later change of policy does not touch the price already quoted.
    policy(conn, last_minute_hours=24, last_minute_discount_pct=10)
    claimed = conn.execute(
        "select * from slotoptim.claim_offer(%s, %s, %s)", (first["id"], first["customer_id"], MORNING + MIN)
    ).fetchone()
    assert claimed is not None
    revenue = conn.execute("select sum(revenue) as r from slotoptim.revenue_recovered").fetchone()
    assert revenue is not None and revenue["r"] == pytest.approx(60.0)
    audited = conn.execute(
        "select count(*) as n from slotoptim_private.audit_event where entity = 'pricing_policy'"
    ).fetchone()
    assert audited is not None and audited["n"] >= 2


def test_bad_tier_discount_names_the_field(conn: psycopg.Connection[Any]) -> None:
    load(conn, 1)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="tier_discount_pct"):
        policy(conn, tier_discount_pct=psycopg.types.json.Jsonb({"diamond": 10}))
