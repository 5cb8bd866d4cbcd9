"""The audit trail through real flows: a claim and an opt-out made by the API role write one row per
change with the API's actor; concurrent writers of two organisations never fork or deadlock a
chain; the rows hold no personal details; nobody can change them."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import psycopg
import pytest
from fill.fill_practice import MORNING
from isolation.tenants import ACTOR, Conn, Tenants, acting_for
from psycopg.rows import dict_row

from slotoptim.listener.retraction import retract_claimed_gaps


def _last_id(conn: Conn) -> int:
    row = conn.execute("select coalesce(max(id), 0) as id from slotoptim_private.audit_event").fetchone()
    assert row is not None
    return int(row["id"])


def _since(conn: Conn, last_id: int) -> list[dict[str, Any]]:
    rows = conn.execute("select * from slotoptim_private.audit_event where id > %s order by id", (last_id,))
    return [dict(r) for r in rows]


def _verified(conn: Conn, tenants: Tenants) -> None:
    for org in (tenants.a, tenants.b):
        assert conn.execute("select * from slotoptim.verify_audit_chain(%s)", (org.key,)).fetchall() == [], org.key
        chain = conn.execute(
            "select count(*) as n, max(e.seq) as last, (select h.seq from slotoptim_private.audit_chain as h"
            " where h.org_id = %s) as head from slotoptim_private.audit_event as e where e.org_id = %s",
            (org.id, org.id),
        ).fetchone()
        assert chain is not None and chain["n"] == chain["last"] == chain["head"], org.key


def test_a_claim_writes_one_row_per_change_with_the_callers_identity(
    conn: Conn, fresh_db: str, tenants: Tenants
) -> None:
    a = tenants.a
    offer = a.open_offer
    others = [
        r["id"]
        for r in conn.execute(
            "select id from slotoptim_private.offer where gap_id = %s and status = 'open' and id <> %s",
            (a.gap_id, offer["id"]),
        )
    ]
    entry = conn.execute(
        "select waitlist_entry_id, campaign_id from slotoptim_private.offer where id = %s", (offer["id"],)
    ).fetchone()
    assert others and entry is not None
    start = _last_id(conn)
    with acting_for(fresh_db, a.id, commit=True) as app:
        claimed = app.execute(
            "select * from slotoptim.claim_offer(%s, %s, %s)", (offer["id"], offer["customer_id"], MORNING)
        ).fetchone()
    assert claimed is not None and claimed["outcome"] == "booked"
    # The other offers are retracted after the claim's commit, by the engine, in the claimant's name.
    retract_claimed_gaps(conn)

    rows = _since(conn, start)
    assert {(r["org_id"], r["actor_kind"], r["actor_id"], r["actor_address"]) for r in rows} == {
        (a.id, ACTOR["kind"], ACTOR["id"], ACTOR["address"])
    }
    # The claimed offer changes twice (claimed, then linked to its appointment); every other offer of
    # the gap is retracted once; the appointment is booked; the waitlist entry is fulfilled; the
    # campaign is filled.
    expected = Counter(
        {("offer", "update", offer["id"]): 2, ("appointment", "insert", claimed["appointment_id"]): 1}
        | {("offer", "update", o): 1 for o in others}
        | {("waitlist_entry", "update", entry["waitlist_entry_id"]): 1}
        | {("offer_campaign", "update", entry["campaign_id"]): 1}
    )
    assert Counter((r["entity"], r["action"], r["entity_id"]) for r in rows) == expected
    statuses = [
        (r["old_values"]["status"], r["new_values"]["status"])
        for r in rows
        if (r["entity"], r["entity_id"]) == ("offer", offer["id"])
    ]
    assert statuses == [("open", "claimed"), ("claimed", "claimed")]
    _verified(conn, tenants)


def test_an_opt_out_and_a_settings_change_are_audited(conn: Conn, fresh_db: str, tenants: Tenants) -> None:
    a = tenants.a
    start = _last_id(conn)
    with acting_for(fresh_db, a.id, commit=True) as app:
        action = app.execute(
            "select action from slotoptim.inbound_text(%s, %s, 'stop', %s)", (a.id, a.phone, MORNING)
        ).fetchone()
        app.execute("update slotoptim_private.organisation_settings set max_offers_per_day = 3")
    assert action is not None and action["action"] == "opted_out"
    rows = _since(conn, start)
    customers = [r for r in rows if r["entity"] == "customer"]
    assert [r["entity_id"] for r in customers] == [a.open_offer["customer_id"]]
    assert customers[0]["old_values"]["opted_out_at"] is None
    assert customers[0]["new_values"]["opted_out_at"] is not None
    assert set(customers[0]["new_values"]) == {"id", "consent_sms", "consent_whatsapp", "consent_email", "opted_out_at"}
    settings = [r for r in rows if r["entity"] == "organisation_settings"]
    assert [(r["old_values"]["max_offers_per_day"], r["new_values"]["max_offers_per_day"]) for r in settings] == [
        (2, 3)
    ]
    # The opt-out also retracted the customer's open offer and paused their waitlist entry.
    assert {r["entity"] for r in rows} == {"customer", "offer", "waitlist_entry", "organisation_settings"}
    _verified(conn, tenants)


def test_audit_rows_hold_no_personal_details(conn: Conn, fresh_db: str, tenants: Tenants) -> None:
    with acting_for(fresh_db, tenants.a.id, commit=True) as app:
        sent = app.execute("select id from slotoptim.claim_messages('audit', 5, %s)", (MORNING,)).fetchall()
        for m in sent:
            app.execute(
                "select slotoptim.message_sent(%s, %s, 'Dr. Fill can see you today at 2 PM, reply YES', %s)",
                (m["id"], f"SM{m['id']:032d}", MORNING),
            )
        app.execute(
            "update slotoptim_private.customer set consent_whatsapp = true where id = %s",
            (tenants.a.open_offer["customer_id"],),
        )
        app.execute(
            "select * from slotoptim.claim_offer(%s, %s, %s)",
            (tenants.a.open_offer["id"], tenants.a.open_offer["customer_id"], MORNING),
        )
    trail = "\n".join(str(r["t"]) for r in conn.execute("select e::text as t from slotoptim_private.audit_event as e"))
    secrets = conn.execute(
        "select name, phone, email from slotoptim_private.customer"
        " union all select name, null, null from slotoptim_private.provider"
        " union all select body, to_address, null from slotoptim_private.message"
    ).fetchall()
    values = {v for r in secrets for v in r.values() if v}
    assert any(v.startswith("Dr. Fill can see you") for v in values)
    assert [v for v in values if v in trail] == []


def test_nobody_changes_or_removes_audit_rows(conn: Conn, fresh_db: str, tenants: Tenants) -> None:
    for statement in (
        "update slotoptim_private.audit_event set actor_id = 'nobody'",
        "delete from slotoptim_private.audit_event",
        "truncate slotoptim_private.audit_event",
        "update slotoptim_private.audit_chain set seq = 0",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), acting_for(fresh_db, tenants.a.id) as app:
            app.execute(statement.encode())
    for statement in (
        "update slotoptim_private.audit_event set actor_id = 'nobody'",
        "delete from slotoptim_private.audit_event",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement.encode())
    _verified(conn, tenants)


def test_concurrent_writers_of_two_organisations_keep_every_chain(conn: Conn, fresh_db: str, tenants: Tenants) -> None:
    """Each transaction changes a customer of A and one of B, half of them in the order A then B,
    half B then A, all committing together: the chains stay whole and nobody deadlocks."""
    customers = {
        org.id: [
            int(r["id"])
            for r in conn.execute("select id from slotoptim_private.customer where org_id = %s order by id", (org.id,))
        ]
        for org in (tenants.a, tenants.b)
    }
    writers, rounds = 6, 8
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []
    start = _last_id(conn)

    def write(index: int) -> None:
        orgs = [tenants.a.id, tenants.b.id][:: 1 if index % 2 == 0 else -1]
        try:
            with psycopg.connect(fresh_db, row_factory=dict_row) as writer:
                barrier.wait()
                for _ in range(rounds):
                    with writer.transaction():
                        writer.execute(
                            "select set_config('slotoptim.actor', %s, true)",
                            (f'{{"kind": "system", "id": "w{index}"}}',),
                        )
                        for org in orgs:
                            writer.execute(
                                "update slotoptim_private.customer set consent_email = not consent_email where id = %s",
                                (customers[org][index],),
                            )
        except BaseException as exc:  # collected and re-raised by the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = _since(conn, start)
    assert len(rows) == writers * rounds * 2
    _verified(conn, tenants)
