"""The reminder plan: default steps at their times, quiet hours move a reminder earlier, high-risk
steps only above the threshold (a call is a staff task), consent and opt-out respected, and the
text fits one GSM-7 segment without health details."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from moveup.moveup_practice import TZ, appointment_id, load

from slotoptim.listener.channels.sms_text import gsm7_septets, is_gsm7
from slotoptim.listener.templates import MessageFacts, render

Db = psycopg.Connection[Any]
# h1 holds Wednesday 2026-11-25 10:00 local.
START = dt.datetime(2026, 11, 25, 10, 0, tzinfo=TZ)


def _setup(conn: Db, risk: float | None = None) -> int:
    load(conn, holders=1)
    conn.execute("update slotoptim_private.organisation_settings set reminders_enabled = true")
    held = appointment_id(conn, "a-h1")
    conn.execute(
        "update slotoptim_private.appointment set booked_at = %s, no_show_risk = %s where id = %s",
        (START - dt.timedelta(days=10), risk, held),
    )
    return held


def _sent(conn: Db, held: int) -> list[tuple[str, dt.datetime]]:
    rows = conn.execute(
        "select channel, not_before from slotoptim_private.message"
        " where kind = 'reminder' and appointment_id = %s order by not_before, channel",
        (held,),
    ).fetchall()
    return [(str(r["channel"]), r["not_before"]) for r in rows]


def _run_until(conn: Db, end: dt.datetime, step: dt.timedelta = dt.timedelta(minutes=30)) -> None:
    at = START - dt.timedelta(days=3)
    while at <= end:
        conn.execute("select slotoptim.send_due_reminders(%s)", (at,))
        at += step


def test_default_plan_email_48h_sms_24h_and_2h(conn: Db) -> None:
    held = _setup(conn)
    _run_until(conn, START)
    assert _sent(conn, held) == [
        ("email", START - dt.timedelta(hours=48)),
        ("sms", START - dt.timedelta(hours=24)),
        # 08:00 local is the send window's first minute: 2 hours before 10:00.
        ("sms", START - dt.timedelta(hours=2)),
    ]


def test_quiet_hours_move_a_reminder_earlier_and_high_risk_adds_a_step(conn: Db) -> None:
    held = _setup(conn, risk=0.8)
    conn.execute(
        "insert into slotoptim_private.reminder_rule (org_id, channel, before, high_risk_only)"
        " select id, c, b, r from slotoptim_private.organisation,"
        " (values ('sms', interval '3 hours', false), ('sms', interval '6 hours', true),"
        "         ('call', interval '2 days', true)) as v(c, b, r)"
    )
    _run_until(conn, START, step=dt.timedelta(minutes=1))
    sent = _sent(conn, held)
    # 3 hours before 10:00 is 07:00, before the window opens: the evening before at 20:59.
    assert ("sms", dt.datetime(2026, 11, 24, 20, 59, tzinfo=TZ)) in sent
    # 6 hours before is 04:00: also the evening before, the same minute: one text for both steps.
    assert len(sent) == 1
    tasks = conn.execute("select kind, due_at from slotoptim.staff_tasks").fetchall()
    assert tasks == [{"kind": "reminder_call", "due_at": START - dt.timedelta(days=2)}]


def test_low_risk_gets_no_risk_step_and_opted_out_gets_nothing(conn: Db) -> None:
    held = _setup(conn, risk=0.1)
    conn.execute(
        "insert into slotoptim_private.reminder_rule (org_id, channel, before, high_risk_only)"
        " select id, 'sms', interval '6 hours', true from slotoptim_private.organisation"
    )
    _run_until(conn, START)
    assert _sent(conn, held) == []
    conn.execute(
        "update slotoptim_private.appointment set no_show_risk = 0.9, booked_at = %s where id = %s",
        (START - dt.timedelta(days=10), held),
    )
    conn.execute(
        "update slotoptim_private.customer set opted_out_at = %s where key = 'h1'", (START - dt.timedelta(days=5),)
    )
    conn.execute("delete from slotoptim_private.reminder")
    _run_until(conn, START)
    assert _sent(conn, held) == []


@pytest.mark.parametrize("provider", ["Dr. Up", "Dr. Maximiliana Ortega-Villanueva de la Cruz"])
@pytest.mark.parametrize("org", ["Up Clinic", "The Greater Riverside Family Practice and Wellness Centre"])
def test_reminder_text_is_one_gsm7_segment(provider: str, org: str) -> None:
    text = render(
        MessageFacts(
            kind="reminder",
            channel="sms",
            org_name=org,
            provider_name=provider,
            starts=START,
            expires=None,
            customer_tz="America/New_York",
            link=None,
        )
    )
    assert is_gsm7(text) and gsm7_septets(text) <= 160, (len(text), text)
    assert "Reply STOP" in text and "C" in text and "EARLIER" in text


LONG = "Dr. Maximiliana Alexandra Featherstonehaugh-Worthington III"


@pytest.mark.parametrize("org", ["Up Clinic", "The Greater Metropolitan Family Dental and Orthodontic Group"])
def test_move_up_offer_says_what_it_replaces_in_one_segment(org: str) -> None:
    text = render(
        MessageFacts(
            kind="offer",
            channel="sms",
            org_name=org,
            provider_name=LONG,
            starts=START - dt.timedelta(days=1),
            expires=START - dt.timedelta(days=1, hours=3),
            customer_tz="America/Los_Angeles",
            link="https://book.example.com/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            replaces=START + dt.timedelta(days=7),
        )
    )
    assert is_gsm7(text) and gsm7_septets(text) <= 160, text
    assert "12/2" in text and "https://book.example.com/c/" in text and "STOP" in text


def test_email_reminder_does_not_ask_for_email_replies() -> None:
    text = render(
        MessageFacts(
            kind="reminder",
            channel="email",
            org_name="Up Clinic",
            provider_name="Dr. Up",
            starts=START,
            expires=None,
            customer_tz="America/New_York",
            link=None,
        )
    )
    assert "Dr. Up" in text and "call us" in text and "Reply Y" not in text
