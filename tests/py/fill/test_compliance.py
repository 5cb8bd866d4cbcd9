"""Consent, STOP, quiet hours, frequency caps, fatigue, duplicate webhooks, and message texts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from fill.fill_practice import MORNING, SLOT_START, TZ, cancel, load, offers, settings

from slotoptim.listener.channels.sms_text import gsm7_septets, is_gsm7
from slotoptim.listener.templates import MessageFacts, render


def tick(conn: psycopg.Connection[Any], at: dt.datetime) -> None:
    conn.execute("select * from slotoptim.tick(%s)", (at,))


def candidate_keys(conn: psycopg.Connection[Any], gap: int, at: dt.datetime = MORNING) -> set[str]:
    return {r["customer_key"] for r in conn.execute("select * from slotoptim.candidates(%s, %s)", (gap, at)).fetchall()}


def test_no_consent_no_candidate(conn: psycopg.Connection[Any]) -> None:
    load(conn, 4, consent={"sms": False, "whatsapp": False, "email": False})
    gap = cancel(conn)
    assert candidate_keys(conn, gap) == set()
    conn.execute("update slotoptim_private.customer set consent_email = true where key = 'c002'")
    assert candidate_keys(conn, gap) == {"c002"}


def test_stop_opts_out_of_every_channel_at_once(conn: psycopg.Connection[Any]) -> None:
    load(conn, 4)
    gap = cancel(conn)
    tick(conn, MORNING)
    target = offers(conn)[0]
    phone = conn.execute(
        "select phone, org_id from slotoptim_private.customer where id = %s", (target["customer_id"],)
    ).fetchone()
    assert phone is not None
    done = conn.execute(
        "select * from slotoptim.inbound_text(%s, %s, 'stop', %s)", (phone["org_id"], phone["phone"], MORNING)
    ).fetchone()
    assert done is not None and done["action"] == "opted_out"
    customer = conn.execute(
        "select * from slotoptim_private.customer where id = %s", (target["customer_id"],)
    ).fetchone()
    assert customer is not None and customer["opted_out_at"] is not None
    queued = conn.execute(
        "select status from slotoptim_private.message where customer_id = %s", (target["customer_id"],)
    ).fetchall()
    assert queued and all(m["status"] == "cancelled" for m in queued)
    key = conn.execute("select key from slotoptim_private.customer where id = %s", (target["customer_id"],)).fetchone()
    assert key is not None and key["key"] not in candidate_keys(conn, gap)
    # Nothing goes out to them, on any channel, even a message queued before the STOP.
    claimed = conn.execute("select * from slotoptim.claim_messages('t', 100, %s)", (MORNING,)).fetchall()
    assert all(m["customer_id"] != target["customer_id"] for m in claimed)
    again = conn.execute(
        "select * from slotoptim.inbound_text(%s, %s, 'start', %s)", (phone["org_id"], phone["phone"], MORNING)
    ).fetchone()
    assert again is not None and again["action"] == "opted_in"


def test_yes_claims_the_latest_open_offer(conn: psycopg.Connection[Any]) -> None:
    load(conn, 4)
    cancel(conn)
    tick(conn, MORNING)
    target = offers(conn)[0]
    phone = conn.execute(
        "select phone, org_id from slotoptim_private.customer where id = %s", (target["customer_id"],)
    ).fetchone()
    assert phone is not None
    reply = conn.execute(
        "select * from slotoptim.inbound_text(%s, %s, 'yes', %s)",
        (phone["org_id"], phone["phone"], MORNING + dt.timedelta(minutes=2)),
    ).fetchone()
    assert reply is not None and reply["outcome"] == "booked" and reply["offer_id"] == target["id"]


def test_quiet_hours_defer_or_skip(conn: psycopg.Connection[Any]) -> None:
    load(conn, 3)
    late_evening = dt.datetime(2026, 11, 23, 22, 30, tzinfo=TZ)
    cancel(conn, at=late_evening)
    tick(conn, late_evening)
    made = offers(conn)
    assert made, "the slot is tomorrow afternoon: offers wait for 08:00"
    assert all(o["send_at"] == dt.datetime(2026, 11, 24, 8, 0, tzinfo=TZ) for o in made)
    messages = conn.execute("select not_before from slotoptim_private.message").fetchall()
    assert all(m["not_before"] == dt.datetime(2026, 11, 24, 8, 0, tzinfo=TZ) for m in messages)
    assert (
        conn.execute("select count(*) as n from slotoptim.claim_messages('t', 10, %s)", (late_evening,)).fetchone()["n"]
        == 0
    )


def test_quiet_hours_skip_when_the_offer_would_expire_first(conn: psycopg.Connection[Any]) -> None:
    load(conn, 3)
    # Send window 08:00-13:50: by the time anyone may be texted the 14:00 slot has no 15 minutes left.
    settings(conn, send_window_start=dt.time(13, 50), send_window_end=dt.time(21, 0))
    cancel(conn)
    tick(conn, MORNING)
    assert offers(conn) == []


def test_frequency_caps(conn: psycopg.Connection[Any]) -> None:
    load(conn, 1)
    settings(conn, max_offers_per_day=2, score_threshold=0)
    gap = cancel(conn)
    assert candidate_keys(conn, gap) == {"c001"}
    # Earlier today c001 was offered another opening twice (Wednesday's, in two campaigns).
    wednesday = SLOT_START + dt.timedelta(days=1)
    conn.execute(
        "insert into slotoptim_private.appointment (org_id, provider_id, service_id, period, key)"
        " select p.org_id, p.id, s.id, tstzrange(%s, %s), 'wed' from slotoptim_private.provider p"
        " join slotoptim_private.service s on s.org_id = p.org_id",
        (wednesday, wednesday + dt.timedelta(minutes=30)),
    )
    other = conn.execute(
        "select * from slotoptim.cancel_appointment((select id from slotoptim_private.appointment where key = 'wed'),"
        " %s)",
        (MORNING - dt.timedelta(hours=3),),
    ).fetchone()["cancel_appointment"]
    for hours in (1, 2):
        campaign = conn.execute(
            "insert into slotoptim_private.offer_campaign (org_id, gap_id, strategy, started_at, status)"
            " select org_id, id, 'sequential', %s, 'cancelled' from slotoptim_private.gap where id = %s returning id",
            (MORNING - dt.timedelta(hours=hours), other),
        ).fetchone()
        conn.execute(
            "insert into slotoptim_private.offer (org_id, campaign_id, gap_id, waitlist_entry_id, customer_id,"
            " service_id, slot, wave, score, score_detail, channel, created_at, send_at, expires_at, status)"
            " select w.org_id, %s, %s, w.id, w.customer_id, w.service_ids[1], tstzrange(%s, %s), 1, 90, '{}',"
            " 'sms', %s, %s, %s, 'expired' from slotoptim_private.waitlist_entry w where w.key = 'w001'",
            (
                campaign["id"],
                other,
                wednesday,
                wednesday + dt.timedelta(minutes=30),
                MORNING - dt.timedelta(hours=hours),
                MORNING - dt.timedelta(hours=hours),
                MORNING,
            ),
        )
    assert candidate_keys(conn, gap) == set(), "two offers today: the daily cap is reached"
    settings(conn, max_offers_per_day=3)
    assert candidate_keys(conn, gap) == {"c001"}
    settings(conn, max_offers_per_week=2)
    assert candidate_keys(conn, gap) == set(), "the weekly cap counts the same offers"


def test_fatigue_stops_offers_and_asks_for_preferences(conn: psycopg.Connection[Any]) -> None:
    load(conn, 2)
    conn.execute("update slotoptim_private.waitlist_entry set consecutive_ignored = 4 where key = 'w001'")
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, MORNING))
    tick(conn, MORNING + dt.timedelta(minutes=31))
    entry = conn.execute(
        "select consecutive_ignored from slotoptim_private.waitlist_entry where key = 'w001'"
    ).fetchone()
    assert entry is not None and entry["consecutive_ignored"] == 5
    ask = conn.execute(
        "select count(*) as n from slotoptim_private.message m join slotoptim_private.customer c"
        " on c.id = m.customer_id where c.key = 'c001' and m.kind = 'preferences'"
    ).fetchone()
    assert ask is not None and ask["n"] == 1
    second = cancel_after(conn)
    assert "c001" not in candidate_keys(conn, second, MORNING + dt.timedelta(minutes=40))


def cancel_after(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "select * from slotoptim.cancel_appointment((select id from slotoptim_private.appointment where key = 'after'),"
        " %s)",
        (MORNING + dt.timedelta(minutes=40),),
    ).fetchone()
    assert row is not None
    return int(row["cancel_appointment"])


def test_duplicate_status_callbacks_change_nothing(conn: psycopg.Connection[Any]) -> None:
    load(conn, 2)
    cancel(conn)
    tick(conn, MORNING)
    message = conn.execute("select * from slotoptim.claim_messages('t', 1, %s)", (MORNING,)).fetchone()
    assert message is not None
    conn.execute("select slotoptim.message_sent(%s, 'SM0001', 'hello', %s)", (message["id"], MORNING))
    for _ in range(2):
        conn.execute("select slotoptim.message_status('SM0001', 'delivered', %s)", (MORNING + dt.timedelta(minutes=1),))
    row = conn.execute(
        "select status, delivered_at from slotoptim_private.message where id = %s", (message["id"],)
    ).fetchone()
    assert row is not None and row["status"] == "delivered"
    assert row["delivered_at"] == MORNING + dt.timedelta(minutes=1)
    with pytest.raises(psycopg.errors.UniqueViolation):
        other = conn.execute("select * from slotoptim.claim_messages('t', 1, %s)", (MORNING,)).fetchone()
        assert other is not None
        conn.execute("select slotoptim.message_sent(%s, 'SM0001', 'hello', %s)", (other["id"], MORNING))


LONG = "Dr. Maximiliana Alexandra Featherstonehaugh-Worthington III"


@pytest.mark.parametrize("kind", ["offer", "filled", "booked", "preferences", "opt_out", "opt_in", "help"])
@pytest.mark.parametrize("org", ["Harbourview Health", "The Greater Metropolitan Family Dental and Orthodontic Group"])
def test_sms_fits_one_gsm7_segment_and_says_no_health_details(kind: str, org: str) -> None:
    facts = MessageFacts(
        kind=kind,
        channel="sms",
        org_name=org,
        provider_name=LONG,
        starts=SLOT_START,
        expires=SLOT_START - dt.timedelta(hours=3),
        customer_tz="America/Los_Angeles",
        link="https://book.example.com/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    )
    text = render(facts)
    assert is_gsm7(text) and gsm7_septets(text) <= 160, text
    if kind not in ("opt_out",):
        assert "STOP" in text
    if kind == "offer":
        assert (
            "https://book.example.com/c/" in text
            and "PST" in text
            and "11:00 AM" in text.replace("11:00AM", "11:00 AM")
        )
