"""Wait estimates: learned durations, the visit in service, customers still expected, intervals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from checkin.conftest import QueueDb
from checkin.queue_practice import local

HISTORY_DAY = dt.date(2026, 11, 17)


def learn(conn: psycopg.Connection[Any], q: QueueDb, minutes: list[float]) -> None:
    """Completed visits of Dr. A a week earlier, each as long as given (booked 20 minutes)."""
    customer = conn.execute(
        "select id from slotoptim_private.customer where org_id = %s limit 1", (q.org_id,)
    ).fetchone()
    service = conn.execute("select id from slotoptim_private.service where org_id = %s", (q.org_id,)).fetchone()
    assert customer is not None and service is not None
    for i, length in enumerate(minutes):
        start = local(8, 0, HISTORY_DAY) + dt.timedelta(minutes=20 * i)
        conn.execute(
            "insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period, status,"
            " actual_start, actual_end) values (%s, %s, %s, %s, tstzrange(%s, %s), 'completed', %s, %s)",
            (
                q.org_id,
                q.ids["dr-a"],
                service[0],
                customer[0],
                start,
                start + dt.timedelta(minutes=20),
                start,
                start + dt.timedelta(minutes=length),
            ),
        )


def forecast(conn: psycopg.Connection[Any], q: QueueDb, at: dt.datetime) -> list[tuple[Any, ...]]:
    return conn.execute(
        "select kind, entry_id, appointment_id, expected_minutes, low_minutes, high_minutes, delay_minutes"
        " from slotoptim.queue_forecast(%s, %s, %s)",
        (q.org_id, q.ids["dr-a"], at),
    ).fetchall()


def test_learned_durations_set_the_pace(qconn: psycopg.Connection[Any], queue_db: QueueDb) -> None:
    q = queue_db
    learn(qconn, q, [10.0] * 12)  # Dr. A's visits take 10 minutes, not the booked 20
    entries = [
        qconn.execute(
            "select slotoptim.queue_check_in(%s, %s, 'staff', '{}', %s)", (q.org_id, q.ids[k], local(8, 40))
        ).fetchone()[0]
        for k in ("a0", "a1", "a2")
    ]
    rows = {r[1]: r for r in forecast(qconn, q, local(9)) if r[0] == "waiting"}
    assert [rows[e][3] for e in entries] == [0.0, 10.0, 20.0]
    # Without history the booked 20 minutes apply.
    qconn.execute(
        "insert into slotoptim_private.queue_settings (org_id, use_historical_data) values (%s, false)", (q.org_id,)
    )
    rows = {r[1]: r for r in forecast(qconn, q, local(9)) if r[0] == "waiting"}
    assert [rows[e][3] for e in entries] == [0.0, 20.0, 40.0]


def test_the_visit_in_service_counts_by_what_is_left_of_it(qconn: psycopg.Connection[Any], queue_db: QueueDb) -> None:
    q = queue_db
    learn(qconn, q, [10.0] * 12 + [30.0] * 12)  # half short, half long
    first, second = (
        qconn.execute(
            "select slotoptim.queue_check_in(%s, %s, 'staff', '{}', %s)", (q.org_id, q.ids[k], local(8, 40))
        ).fetchone()[0]
        for k in ("a0", "a1")
    )
    qconn.execute("select slotoptim.queue_call_next(%s, %s, null, %s)", (q.org_id, q.ids["dr-a"], local(9)))
    qconn.execute("select slotoptim.queue_move(%s, %s, 'start', %s)", (q.org_id, first, local(9)))
    # 15 minutes in: only the 30-minute visits are left, so 15 more minutes, not mean 20 - 15 = 5.
    rows = {r[1]: r for r in forecast(qconn, q, local(9, 15))}
    assert rows[second][3] == 15.0
    assert rows[first][0] == "in_service"


def test_customers_still_expected_go_ahead_of_early_arrivals_and_get_a_delay(
    qconn: psycopg.Connection[Any], queue_db: QueueDb
) -> None:
    q = queue_db
    learn(qconn, q, [25.0] * 12)  # visits run 25 minutes on 20-minute slots: the day drifts late
    early = qconn.execute(
        "select slotoptim.queue_check_in(%s, %s, 'staff', '{}', %s)", (q.org_id, q.ids["a2"], local(8, 45))
    ).fetchone()[0]  # 09:40 appointment
    # Dr. A is busy with a walk-in since 08:45 until about 09:10.
    walk_in = qconn.execute(
        "select slotoptim.queue_walk_in(%s, %s, null, %s, 'Wes', null, '{}', %s)",
        (q.org_id, q.ids["dr-a"], q.ids["visit"], local(8, 40)),
    ).fetchone()[0]
    qconn.execute("select slotoptim.queue_move(%s, %s, 'start', %s)", (q.org_id, walk_in, local(8, 45)))
    rows = forecast(qconn, q, local(8, 50))
    expected = [r for r in rows if r[0] == "expected"]
    waiting = [r for r in rows if r[0] == "waiting"]
    # a0 (09:00) and a1 (09:20), not here yet, will be by the time Dr. A is free, and go first.
    assert [r[2] for r in expected[:2]] == [q.ids["a0"], q.ids["a1"]]
    assert waiting[0][1] == early and waiting[0][3] > 50
    assert waiting[0][4] < waiting[0][3] < waiting[0][5]  # an interval around the estimate
    # Later appointments are predicted later and later behind their booked start.
    delays = [r[6] for r in expected]
    assert delays[-1] > delays[2] > 0


def test_running_late_is_the_median_lateness_of_todays_starts(
    qconn: psycopg.Connection[Any], queue_db: QueueDb
) -> None:
    q = queue_db
    for key, arrived, start in (("a0", local(8, 55), local(9, 10)), ("a1", local(9, 15), local(9, 40))):
        entry = qconn.execute(
            "select slotoptim.queue_check_in(%s, %s, 'staff', '{}', %s)", (q.org_id, q.ids[key], arrived)
        ).fetchone()[0]
        qconn.execute("select slotoptim.queue_move(%s, %s, 'start', %s)", (q.org_id, entry, start))
        qconn.execute(
            "select slotoptim.queue_move(%s, %s, 'done', %s)", (q.org_id, entry, start + dt.timedelta(minutes=20))
        )
    late = qconn.execute(
        "select slotoptim.provider_running_late(%s, %s, %s)", (q.org_id, q.ids["dr-a"], local(10, 5))
    ).fetchone()
    assert late == (15.0,)  # 10 and 20 minutes late
