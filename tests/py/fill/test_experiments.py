"""Message experiments: deterministic variants, the funnel, and a readout that will not call a
winner before 200 sends per variant (sql/57n_fn_experiments.sql)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from fill.fill_practice import MORNING, cancel, load, settings


def experiment(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "insert into slotoptim_private.message_experiment (org_id, key, variable, started_at)"
        " select id, 'provider-name', 'provider_name', %s from slotoptim_private.organisation returning id",
        (MORNING - dt.timedelta(days=30),),
    ).fetchone()
    assert row is not None
    conn.execute(
        "insert into slotoptim_private.message_variant (org_id, experiment_id, key, template)"
        " select org_id, id, v.key, v.template from slotoptim_private.message_experiment,"
        " (values ('A', '{org}: an appointment is available {when}. {link}'),"
        "         ('B', '{org}: an appointment with {provider} is available {when}. {link}')) as v(key, template)"
    )
    return int(row["id"])


def sends(conn: psycopg.Connection[Any], variant: str, count: int, claimed: int) -> None:
    """``count`` offers of ``variant`` whose message went out, ``claimed`` of them claimed."""
    conn.execute(
        "with c as ("
        "  insert into slotoptim_private.offer_campaign (org_id, gap_id, strategy, status, started_at)"
        "  select g.org_id, g.id, 'burst', 'expired', %(at)s from slotoptim_private.gap as g, generate_series(1, %(n)s)"
        "  returning id, org_id, gap_id"
        "), numbered as (select c.*, row_number() over (order by c.id) as k from c),"
        " made as ("
        "  insert into slotoptim_private.offer (org_id, campaign_id, gap_id, waitlist_entry_id, customer_id,"
        "    service_id, slot, wave, score, score_detail, channel, status, created_at, send_at, expires_at, variant_id)"
        "  select n.org_id, n.id, n.gap_id, w.id, w.customer_id, w.service_ids[1],"
        "         tstzrange(lower(g.during), upper(g.during)), 1, 60, '{}', 'sms',"
        "         case when n.k <= %(claimed)s then 'claimed' else 'expired' end, %(at)s, %(at)s,"
        "         %(at)s + interval '15 minutes', v.id"
        "    from numbered as n join slotoptim_private.gap as g on g.id = n.gap_id"
        "    cross join (select * from slotoptim_private.waitlist_entry order by id limit 1) as w"
        "    join slotoptim_private.message_variant as v on v.key = %(variant)s"
        "  returning id, org_id, customer_id"
        ")"
        " insert into slotoptim_private.message (org_id, customer_id, offer_id, kind, channel, to_address, status,"
        "   not_before, created_at, sent_at)"
        " select m.org_id, m.customer_id, m.id, 'offer', 'sms', '+16175550001', 'sent', %(at)s, %(at)s, %(at)s"
        "   from made as m",
        {"at": MORNING - dt.timedelta(days=1), "n": count, "claimed": claimed, "variant": variant},
    )


def readout(conn: psycopg.Connection[Any], experiment_id: int) -> dict[str, dict[str, Any]]:
    rows = conn.execute("select * from slotoptim.experiment_readout(%s)", (experiment_id,)).fetchall()
    return {r["variant_key"]: dict(r) for r in rows}


def test_no_winner_below_200_sends_per_variant(conn: psycopg.Connection[Any]) -> None:
    load(conn, 3)
    cancel(conn)
    exp = experiment(conn)
    sends(conn, "A", 250, 25)
    sends(conn, "B", 199, 100)
    result = readout(conn, exp)
    assert result["A"]["verdict"] == "control"
    assert result["B"]["verdict"] == "no winner yet: 199 sends in the smallest variant, 200 needed per variant"
    # The difference and its interval are reported all the same.
    assert result["B"]["difference"] == pytest.approx(100 / 199 - 25 / 250, abs=1e-5)
    assert result["B"]["ci95_low"] < result["B"]["difference"] < result["B"]["ci95_high"]


def test_winner_with_its_interval_from_200_sends(conn: psycopg.Connection[Any]) -> None:
    load(conn, 3)
    cancel(conn)
    exp = experiment(conn)
    sends(conn, "A", 200, 20)
    sends(conn, "B", 200, 50)
    result = readout(conn, exp)
    b = result["B"]
    assert b["sent"] == 200 and b["claimed"] == 50 and b["claim_rate"] == pytest.approx(0.25)
    half = 1.96 * ((0.25 * 0.75 / 200) + (0.1 * 0.9 / 200)) ** 0.5
    assert b["ci95_low"] == pytest.approx(0.15 - half, abs=1e-5)
    assert b["ci95_high"] == pytest.approx(0.15 + half, abs=1e-5)
    assert b["verdict"] == "better than control"


def test_no_significant_difference(conn: psycopg.Connection[Any]) -> None:
    load(conn, 3)
    cancel(conn)
    exp = experiment(conn)
    sends(conn, "A", 200, 20)
    sends(conn, "B", 200, 24)
    assert readout(conn, exp)["B"]["verdict"] == "no significant difference"


def test_unknown_experiment_is_a_clear_error(conn: psycopg.Connection[Any]) -> None:
    load(conn, 1)
    with pytest.raises(psycopg.errors.NoDataFound, match="unknown experiment 999"):
        conn.execute("select * from slotoptim.experiment_readout(999)")


def test_assignment_is_deterministic_by_customer(conn: psycopg.Connection[Any]) -> None:
    load(conn, 30, consent={"sms": True, "whatsapp": False, "email": False})
    settings(conn, offer_strategy="broadcast")
    experiment(conn)
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, MORNING))
    first = {
        r["customer_id"]: r["variant_id"]
        for r in conn.execute("select customer_id, variant_id from slotoptim_private.offer").fetchall()
    }
    assert len(first) == 30 and None not in first.values()
    assert len(set(first.values())) == 2, "both variants are used"
    # The same customer gets the same variant whenever asked (a hash of experiment and customer).
    again = conn.execute(
        "select o.customer_id, slotoptim_private.experiment_variant(e.id, o.customer_id) as variant_id"
        "  from slotoptim_private.offer as o cross join slotoptim_private.message_experiment as e"
    ).fetchall()
    assert all(first[r["customer_id"]] == r["variant_id"] for r in again)
    funnel = conn.execute("select * from slotoptim.message_experiment_funnel order by variant_key").fetchall()
    assert [r["variant_key"] for r in funnel] == ["A", "B"]


def test_offer_message_uses_the_variant_wording(conn: psycopg.Connection[Any], fresh_db: str) -> None:
    from slotoptim.listener.sender import Sender, SenderConfig
    from slotoptim.listener.simulation import RecordingChannel

    load(conn, 6, consent={"sms": True, "whatsapp": False, "email": False})
    experiment(conn)
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, MORNING))
    channels = {name: RecordingChannel(name) for name in ("sms", "whatsapp", "email", "console")}
    sender = Sender(fresh_db, channels, SenderConfig(threads=1), clock=lambda: MORNING, worker="test")
    try:
        sender.drain()
    finally:
        sender.close()
    bodies = {m.body for m in channels["sms"].sent}
    assert len(channels["sms"].sent) == 6
    assert any(b.startswith("Fill Clinic: an appointment with Dr. Fill is available") for b in bodies)
    assert any(b.startswith("Fill Clinic: an appointment is available") for b in bodies)
    assert all(b.endswith("Reply STOP to opt out") for b in bodies)
