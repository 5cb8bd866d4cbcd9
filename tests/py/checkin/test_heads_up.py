"""Running late, told early: one text per late booked customer not yet here, with consent, inside
the send window, rendered in one SMS segment by the outbox sender."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import psycopg
from checkin.conftest import QueueDb
from checkin.queue_practice import local
from checkin.test_forecast import learn

from slotoptim.listener.channels.console_channel import ConsoleChannel
from slotoptim.listener.channels.sms_text import gsm7_septets
from slotoptim.listener.sender import Sender, SenderConfig
from slotoptim.listener.templates import MessageFacts, render


def running_late(conn: psycopg.Connection[Any], at: dt.datetime) -> int:
    row = conn.execute("select slotoptim.queue_heads_up(%s)", (at,)).fetchone()
    assert row is not None
    return int(row[0])


def late_day(conn: psycopg.Connection[Any], q: QueueDb) -> None:
    """Dr. A's visits take 30 minutes on 20-minute slots; a0 is in service since 09:00."""
    learn(conn, q, [30.0] * 12)
    entry = conn.execute(
        "select slotoptim.queue_check_in(%s, %s, 'staff', '{}', %s)", (q.org_id, q.ids["a0"], local(8, 55))
    ).fetchone()[0]
    conn.execute("select slotoptim.queue_move(%s, %s, 'start', %s)", (q.org_id, entry, local(9)))


def test_late_customers_get_one_heads_up_each(qconn: psycopg.Connection[Any], queue_db: QueueDb) -> None:
    q = queue_db
    late_day(qconn, q)
    assert running_late(qconn, local(9, 5)) == 0  # not enabled: nothing
    qconn.execute(
        "insert into slotoptim_private.queue_settings (org_id, heads_up_enabled, heads_up_minutes)"
        " values (%s, true, 20)",
        (q.org_id,),
    )
    qconn.execute("update slotoptim_private.customer set opted_out_at = %s where key = 'c4'", (local(7),))
    sent = running_late(qconn, local(9, 5))
    rows = qconn.execute(
        "select a.key, h.predicted_delay_minutes, m.kind, m.channel, m.status from slotoptim_private.queue_heads_up h"
        " join slotoptim_private.appointment a on a.id = h.appointment_id"
        " join slotoptim_private.message m on m.id = h.message_id order by a.key"
    ).fetchall()
    keys = [r[0] for r in rows]
    assert sent == len(rows) > 0
    # About 7 minutes later per visit (30-minute visits, each booked customer 90 % likely to come):
    # a1 (09:20) and a2 (09:40) stay under 20 minutes late, a3 (10:00) and later pass it; a4 opted out.
    assert keys[0] == "a3" and "a4" not in keys
    assert all(r[1] >= 20 and r[2:] == ("running_late", "sms", "queued") for r in rows)
    assert running_late(qconn, local(9, 6)) == 0  # once per appointment


def test_no_heads_up_outside_the_send_window(qconn: psycopg.Connection[Any], queue_db: QueueDb) -> None:
    q = queue_db
    late_day(qconn, q)
    qconn.execute(
        "insert into slotoptim_private.queue_settings (org_id, heads_up_enabled) values (%s, true)", (q.org_id,)
    )
    qconn.execute(
        "update slotoptim_private.organisation_settings set send_window_start = '09:30' where org_id = %s", (q.org_id,)
    )
    assert running_late(qconn, local(9, 5)) == 0


def test_the_sender_renders_one_segment(qconn: psycopg.Connection[Any], queue_db: QueueDb) -> None:
    q = queue_db
    late_day(qconn, q)
    qconn.execute(
        "insert into slotoptim_private.queue_settings (org_id, heads_up_enabled) values (%s, true)", (q.org_id,)
    )
    assert running_late(qconn, local(9, 5)) > 0
    out = io.StringIO()
    sender = Sender(
        queue_db.url,
        {"console": ConsoleChannel(out), "sms": ConsoleChannel(out, "sms")},
        SenderConfig(threads=2),
        clock=lambda: local(9, 5),
        worker="test",
    )
    try:
        assert sender.drain() > 0
    finally:
        sender.close()
    bodies = [json.loads(line)["body"] for line in out.getvalue().splitlines()]
    assert bodies and all("Dr. A is running about" in b and "Reply STOP" in b for b in bodies)
    assert "Your 10:00 AM visit" in " ".join(bodies)
    long_names = MessageFacts(
        kind="running_late",
        channel="sms",
        org_name="The Very Long Name Family Practice and Walk-in Clinic",
        provider_name="Dr. Alexandra Konstantinopoulou-Smythe",
        starts=local(10, 20),
        expires=None,
        customer_tz="America/New_York",
        link=None,
        delay_minutes=35,
    )
    assert gsm7_septets(render(long_names)) <= 160
