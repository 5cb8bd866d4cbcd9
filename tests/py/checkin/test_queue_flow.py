"""The queue in SQL: check-in, order, call next, start, done, no-show, with each step's time, and
what they write on the appointment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from checkin.conftest import QueueDb
from checkin.queue_practice import local


def check_in(
    conn: psycopg.Connection[Any], q: QueueDb, key: str, at: dt.datetime, flags: list[str] | None = None
) -> int:
    row = conn.execute(
        "select slotoptim.queue_check_in(%s, %s, 'staff', %s, %s)", (q.org_id, q.ids[key], flags or [], at)
    ).fetchone()
    assert row is not None
    return int(row[0])


def order(conn: psycopg.Connection[Any], q: QueueDb, at: dt.datetime, provider: str = "dr-a") -> list[int]:
    rows = conn.execute(
        "select entry_id from slotoptim.queue_order(%s, %s, %s) order by queue_position",
        (q.org_id, q.ids[provider], at),
    ).fetchall()
    return [int(r[0]) for r in rows]


def call_next(conn: psycopg.Connection[Any], q: QueueDb, at: dt.datetime, provider: str = "dr-a") -> int | None:
    row = conn.execute(
        "select slotoptim.queue_call_next(%s, %s, 'desk', %s)", (q.org_id, q.ids[provider], at)
    ).fetchone()
    assert row is not None
    return None if row[0] is None else int(row[0])


def move(conn: psycopg.Connection[Any], q: QueueDb, entry: int, action: str, at: dt.datetime) -> str:
    row = conn.execute("select slotoptim.queue_move(%s, %s, %s, %s)", (q.org_id, entry, action, at)).fetchone()
    assert row is not None
    return str(row[0])


def test_a_visit_goes_through_every_step_and_writes_the_appointment(
    qconn: psycopg.Connection[Any], queue_db: QueueDb
) -> None:
    q = queue_db
    entry = check_in(qconn, q, "a0", local(8, 55))
    assert check_in(qconn, q, "a0", local(8, 56)) == entry  # idempotent
    assert call_next(qconn, q, local(9, 0)) == entry
    assert move(qconn, q, entry, "start", local(9, 1)) == "in_service"
    assert move(qconn, q, entry, "done", local(9, 19)) == "done"
    row = qconn.execute(
        "select e.ticket, e.first_name, e.arrived_at, e.called_at, e.started_at, e.ended_at, a.status,"
        " a.actual_start, a.actual_end from slotoptim_private.queue_entry e"
        " join slotoptim_private.appointment a on a.id = e.appointment_id where e.id = %s",
        (entry,),
    ).fetchone()
    assert row is not None
    assert row[0] == "A001" and row[1] == "Name0"
    assert row[2:6] == (local(8, 55), local(9, 0), local(9, 1), local(9, 19))
    assert row[6:] == ("completed", local(9, 1), local(9, 19))
    # The learned durations read it.
    learned = qconn.execute(
        "select actual_minutes from slotoptim_private.duration_records(%s, %s)", (q.org_id, local(10))
    ).fetchall()
    assert [r[0] for r in learned] == [18.0]


def test_order_follows_appointments_flags_and_lateness(qconn: psycopg.Connection[Any], queue_db: QueueDb) -> None:
    q = queue_db
    early = check_in(qconn, q, "a3", local(9, 0))  # 10:00 appointment, an hour early
    on_time = check_in(qconn, q, "a1", local(9, 18))  # 09:20 appointment
    late = check_in(qconn, q, "a0", local(9, 25))  # 09:00 appointment, 25 minutes late: queues as a walk-in
    assert order(qconn, q, local(9, 25)) == [on_time, early, late]
    elderly = check_in(qconn, q, "a2", local(9, 26), ["elderly"])  # 09:40 appointment, priority flag
    assert order(qconn, q, local(9, 26))[0] == elderly
    detail = qconn.execute(
        "select punctuality from slotoptim.queue_order(%s, %s, %s) order by entry_id",
        (q.org_id, q.ids["dr-a"], local(9, 26)),
    ).fetchall()
    assert [r[0] for r in detail] == ["early", "on_time", "late", "on_time"]


def test_no_show_and_left(qconn: psycopg.Connection[Any], queue_db: QueueDb) -> None:
    q = queue_db
    first = check_in(qconn, q, "a0", local(8, 58))
    second = check_in(qconn, q, "a1", local(9, 10))
    assert call_next(qconn, q, local(9, 0)) == first
    assert move(qconn, q, first, "no_show", local(9, 5)) == "left"
    assert move(qconn, q, second, "left", local(9, 12)) == "left"
    assert call_next(qconn, q, local(9, 13)) is None
    statuses = qconn.execute(
        "select a.key, a.status, e.left_reason from slotoptim_private.queue_entry e"
        " join slotoptim_private.appointment a on a.id = e.appointment_id order by a.key"
    ).fetchall()
    assert statuses == [("a0", "no_show", "no_show"), ("a1", "arrived", "left")]


def test_bad_moves_are_refused_with_the_field(qconn: psycopg.Connection[Any], queue_db: QueueDb) -> None:
    q = queue_db
    entry = check_in(qconn, q, "a0", local(8, 58))
    with pytest.raises(psycopg.errors.CheckViolation, match=r"entry: .* is waiting, so it cannot done"):
        move(qconn, q, entry, "done", local(9))
    with pytest.raises(psycopg.errors.CheckViolation, match="action: fly is not one of"):
        move(qconn, q, entry, "fly", local(9))
    with pytest.raises(psycopg.errors.NoDataFound, match="entry: unknown queue entry"):
        move(qconn, q, entry + 1000, "start", local(9))
    with pytest.raises(psycopg.errors.CheckViolation, match="flags: unknown flag vip"):
        check_in(qconn, q, "a1", local(9), ["vip"])
    with pytest.raises(psycopg.errors.CheckViolation, match="is not today"):
        check_in(qconn, q, "a2", local(9) + dt.timedelta(days=1))


def test_walk_ins_join_until_the_overflow_threshold(qconn: psycopg.Connection[Any], queue_db: QueueDb) -> None:
    q = queue_db
    qconn.execute(
        "insert into slotoptim_private.queue_settings (org_id, overflow_threshold) values (%s, 2)", (q.org_id,)
    )
    sql = "select slotoptim.queue_walk_in(%s, %s, null, null, %s, null, '{}', %s)"
    first = qconn.execute(sql, (q.org_id, q.ids["dr-b"], "Ann Example", local(9))).fetchone()
    qconn.execute(sql, (q.org_id, q.ids["dr-b"], "Bo", local(9, 1)))
    with pytest.raises(psycopg.errors.CheckViolation, match="walk_in: the queue is full"):
        qconn.execute(sql, (q.org_id, q.ids["dr-b"], "Cy", local(9, 2)))
    assert first is not None
    ticket = qconn.execute(
        "select ticket, first_name from slotoptim_private.queue_entry where id = %s", (first[0],)
    ).fetchone()
    assert ticket == ("W001", "Ann")
    qconn.execute("update slotoptim_private.queue_settings set allow_walk_ins = false where org_id = %s", (q.org_id,))
    with pytest.raises(psycopg.errors.CheckViolation, match="does not take walk-ins"):
        qconn.execute(sql, (q.org_id, q.ids["dr-b"], "Di", local(9, 3)))


def test_a_pool_entry_is_called_by_either_provider_and_becomes_theirs(
    qconn: psycopg.Connection[Any], queue_db: QueueDb
) -> None:
    q = queue_db
    row = qconn.execute(
        "select slotoptim.queue_walk_in(%s, null, %s, null, 'Pat', null, '{}', %s)", (q.org_id, q.ids["main"], local(9))
    ).fetchone()
    assert row is not None
    pooled = int(row[0])
    assert order(qconn, q, local(9, 1), "dr-a") == [pooled] == order(qconn, q, local(9, 1), "dr-b")
    assert call_next(qconn, q, local(9, 2), "dr-b") == pooled
    assert qconn.execute(
        "select provider_id from slotoptim_private.queue_entry where id = %s", (pooled,)
    ).fetchone() == (q.ids["dr-b"],)
