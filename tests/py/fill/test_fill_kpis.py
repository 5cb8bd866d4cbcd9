"""slotoptim.fill_kpis counts freed intervals: the pieces left over when a booking splits a gap
are not new gaps, so one refilled cancellation is one gap opened and one filled."""

from __future__ import annotations

from typing import Any

import psycopg
from fill.test_same_day import CANCELLED_AT, DAY, practice

from slotoptim.listener.practice.importer import import_practice


def test_a_split_gap_is_one_freed_interval(conn: psycopg.Connection[Any]) -> None:
    import_practice(conn, practice())
    conn.execute(
        "select slotoptim.cancel_appointment((select id from slotoptim_private.appointment where key = 'at-four'), %s)",
        (CANCELLED_AT,),
    )
    conn.execute("select * from slotoptim.tick(%s)", (CANCELLED_AT,))
    offer = conn.execute(
        "select o.id, o.customer_id from slotoptim_private.offer as o"
        " join slotoptim_private.waitlist_entry as w on w.id = o.waitlist_entry_id where w.key = 'w1'"
    ).fetchone()
    assert offer is not None
    claimed = conn.execute(
        "select * from slotoptim.claim_offer(%s, %s, %s)", (offer["id"], offer["customer_id"], CANCELLED_AT)
    ).fetchone()
    assert claimed is not None and claimed["outcome"] == "booked"
    # The 14:35 booking splits the gap: what is left before and after it opens again.
    live = conn.execute("select count(*) as n from slotoptim_private.gap where status in ('open', 'offering')")
    assert live.fetchone() == {"n": 2}

    row = conn.execute(
        "select gaps_opened, gaps_filled, fill_rate::float8 as fill_rate from slotoptim.fill_kpis where day = %s",
        (DAY,),
    ).fetchone()
    assert row == {"gaps_opened": 1, "gaps_filled": 1, "fill_rate": 1.0}


def test_fill_kpis_explains_its_definition(conn: psycopg.Connection[Any]) -> None:
    comment = conn.execute("select obj_description('slotoptim.fill_kpis'::regclass, 'pg_class') as c").fetchone()
    assert comment is not None and "freed interval" in (comment["c"] or "")
    undocumented = conn.execute(
        "select a.attname from pg_attribute as a where a.attrelid = 'slotoptim.fill_kpis'::regclass"
        " and a.attnum > 0 and col_description(a.attrelid, a.attnum) is null"
    ).fetchall()
    assert undocumented == []
