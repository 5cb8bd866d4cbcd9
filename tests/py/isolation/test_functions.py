"""The slotoptim functions under slotoptim_app: they work for the organisation named, and every one
that takes an id gets nothing of another organisation's (an error, an empty answer, or no change)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from fill.fill_practice import MORNING, TZ
from isolation.tenants import Conn, Tenants, acting_for, digest

DAY = (dt.datetime(2026, 11, 24, tzinfo=TZ), dt.datetime(2026, 11, 25, tzinfo=TZ))
LATER = MORNING + dt.timedelta(days=1)


def _rows(conn: Conn, query: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(query, params)]


def test_the_functions_work_for_the_organisation_named(conn: Conn, fresh_db: str, tenants: Tenants) -> None:
    a = tenants.a
    with acting_for(fresh_db, a.id, commit=True) as app:
        gaps = _rows(app, "select * from slotoptim.gaps('dr-fill', tstzrange(%s, %s))", DAY)
        assert any(g["kind"] == "bookable" for g in gaps)
        offer = a.open_offer
        claimed = _rows(
            app, "select * from slotoptim.claim_offer(%s, %s, %s)", (offer["id"], offer["customer_id"], MORNING)
        )
        assert claimed[0]["outcome"] == "booked"
    with acting_for(fresh_db, a.id, commit=True) as app:
        opened = _rows(app, "select * from slotoptim.cancel_appointment(%s, %s)", (a.appointment_id, MORNING))
        assert len(opened) == 1
        ticked = _rows(app, "select * from slotoptim.tick(%s)", (MORNING,))
        assert ticked[0]["campaigns_started"] == 1
        assert _rows(app, "select * from slotoptim.claim_messages('isolation', 100, %s)", (LATER,))
    # B offers for staff approval, five at a time: its gap still has a candidate to rank.
    with acting_for(fresh_db, tenants.b.id) as app:
        assert _rows(app, "select * from slotoptim.candidates(%s, %s)", (tenants.b.gap_id, MORNING))
    booked = conn.execute(
        "select count(*) as n from slotoptim_private.appointment where org_id = %s and source = 'waitlist'", (a.id,)
    ).fetchone()
    assert booked is not None and booked["n"] == 1


def _refused(url: str, org_id: int, query: str, params: tuple[Any, ...], sqlstate: str) -> None:
    with pytest.raises(psycopg.Error) as error, acting_for(url, org_id) as app:
        app.execute(query, params)
    assert error.value.sqlstate == sqlstate, error.value


def test_another_organisations_ids_get_nothing(conn: Conn, fresh_db: str, tenants: Tenants) -> None:
    a, b = tenants.a, tenants.b
    awaiting = conn.execute(
        "select id from slotoptim_private.offer where org_id = %s and status = 'awaiting_approval'", (b.id,)
    ).fetchone()
    assert awaiting is not None
    b_provider = conn.execute("select id from slotoptim_private.provider where org_id = %s", (b.id,)).fetchone()
    assert b_provider is not None
    # One of B's messages has gone out, so that its delivery status could be reported.
    conn.execute(
        "update slotoptim_private.message set status = 'sent', provider_id = 'SM-other-org' where id = %s",
        (b.message_id,),
    )
    before = digest(conn, b.id)
    b_audit = conn.execute(
        "select count(*) as n from slotoptim_private.audit_event where org_id = %s", (b.id,)
    ).fetchone()

    # Errors: the id or key is unknown to the organisation named.
    _refused(fresh_db, a.id, "select * from slotoptim.cancel_appointment(%s, %s)", (b.appointment_id, MORNING), "P0002")
    _refused(fresh_db, a.id, "select slotoptim.start_offers(%s, 'broadcast', %s)", (b.gap_id, MORNING), "P0002")
    _refused(fresh_db, a.id, "select * from slotoptim.decide_claim(%s, true, %s)", (awaiting["id"], MORNING), "23514")
    _refused(fresh_db, a.id, "select * from slotoptim.gaps('otherco/dr-fill', tstzrange(%s, %s))", DAY, "P0002")
    _refused(fresh_db, a.id, "select * from slotoptim.verify_audit_chain('otherco')", (), "P0002")

    # Answers that say "nothing here", committed, so that any change would show in B's rows.
    offer = b.open_offer
    checks: list[tuple[str, tuple[Any, ...], Callable[[list[dict[str, Any]]], bool]]] = [
        (
            "select * from slotoptim.claim_offer(%s, %s, %s)",
            (offer["id"], offer["customer_id"], MORNING),
            lambda r: r[0]["outcome"] == "unknown",
        ),
        (
            "select slotoptim.decline_offer(%s, %s, %s) as ok",
            (offer["id"], offer["customer_id"], MORNING),
            lambda r: r[0]["ok"] is False,
        ),
        ("select * from slotoptim.alternatives(%s, %s)", (offer["id"], MORNING), lambda r: r == []),
        # B's gap has a candidate left (see above): A's role gets none of it.
        ("select * from slotoptim.candidates(%s, %s)", (b.gap_id, MORNING), lambda r: r == []),
        (
            "select * from slotoptim.inbound_text(%s, %s, 'stop', %s)",
            (b.id, b.phone, MORNING),
            lambda r: r[0]["action"] == "unknown_number",
        ),
        (
            "select * from slotoptim.inbound_text(%s, %s, 'yes', %s)",
            (b.id, b.phone, MORNING),
            lambda r: r[0]["action"] == "unknown_number",
        ),
        (
            "select slotoptim.message_sent(%s, 'SM-forged', 'hello', %s) as ok",
            (b.message_id, MORNING),
            lambda r: r[0]["ok"] is None,
        ),
        (
            "select slotoptim.message_status('SM-other-org', 'delivered', %s) as ok",
            (MORNING,),
            lambda r: r[0]["ok"] is None,
        ),
        (
            "select slotoptim.message_failed(%s, 'boom', true, %s, true, %s) as outcome",
            (b.message_id, MORNING, MORNING),
            lambda r: r[0]["outcome"] == "ignored",
        ),
        (
            "select * from slotoptim_private.free_time(array[%s]::bigint[], tstzrange(%s, %s))",
            (b_provider["id"], *DAY),
            lambda r: r == [],
        ),
        (
            # While A's offers are open (a day later they have expired and their texts are dropped).
            "select * from slotoptim.claim_messages('isolation', 1000, %s)",
            (MORNING + dt.timedelta(minutes=1),),
            lambda r: bool(r) and all(m["org_id"] == a.id for m in r),
        ),
        ("select * from slotoptim.tick(%s)", (LATER,), lambda r: len(r) == 1),
        ("select * from slotoptim.gaps(tstzrange(%s, %s))", DAY, lambda r: bool(r)),
    ]
    for query, params, expected in checks:
        with acting_for(fresh_db, a.id, commit=True) as app:
            rows = _rows(app, query, params)
        assert expected(rows), (query, rows)

    after = digest(conn, b.id)
    assert {t: d for t, d in after.items() if before[t] != d} == {}
    assert (
        conn.execute("select count(*) as n from slotoptim_private.audit_event where org_id = %s", (b.id,)).fetchone()
        == b_audit
    )


def test_gaps_resolve_keys_within_the_organisation_named(conn: Conn, fresh_db: str, tenants: Tenants) -> None:
    # Both practices call their provider dr-fill: the key resolves to the organisation's own.
    with conn.transaction():
        conn.execute("select set_config('slotoptim.org_id', %s, true)", (str(tenants.a.id),))
        owner = _rows(conn, "select * from slotoptim.gaps(tstzrange(%s, %s))", DAY)
    with acting_for(fresh_db, tenants.a.id) as app:
        assert _rows(app, "select * from slotoptim.gaps('dr-fill', tstzrange(%s, %s))", DAY) == owner
        assert _rows(app, "select * from slotoptim.gaps(tstzrange(%s, %s))", DAY) == owner
