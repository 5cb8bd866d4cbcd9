"""Queue measures per provider, day and hour (seed 001's QueueMetrics) from the queue's own times."""

from __future__ import annotations

from typing import Any

import psycopg
from checkin.conftest import QueueDb
from checkin.queue_practice import local


def test_hourly_measures(qconn: psycopg.Connection[Any], queue_db: QueueDb) -> None:
    q = queue_db

    def run(sql: str, *args: Any) -> Any:
        row = qconn.execute(sql, args).fetchone()
        return None if row is None else row[0]

    first = run("select slotoptim.queue_check_in(%s, %s, 'staff', '{}', %s)", q.org_id, q.ids["a0"], local(9, 0))
    second = run("select slotoptim.queue_check_in(%s, %s, 'staff', '{}', %s)", q.org_id, q.ids["a1"], local(9, 10))
    third = run("select slotoptim.queue_check_in(%s, %s, 'staff', '{}', %s)", q.org_id, q.ids["a2"], local(9, 20))
    # 09:00-09:30 first waits 30 min; second from 09:10 to 09:50 (40 min); third called at 10:05 and no-show.
    for entry, called, start, end in (
        (first, local(9, 30), local(9, 31), local(9, 49)),
        (second, local(9, 50), local(9, 50), local(10, 2)),
    ):
        run("select slotoptim.queue_call_next(%s, %s, null, %s)", q.org_id, q.ids["dr-a"], called)
        run("select slotoptim.queue_move(%s, %s, 'start', %s)", q.org_id, entry, start)
        run("select slotoptim.queue_move(%s, %s, 'done', %s)", q.org_id, entry, end)
    run("select slotoptim.queue_call_next(%s, %s, null, %s)", q.org_id, q.ids["dr-a"], local(10, 5))
    run("select slotoptim.queue_move(%s, %s, 'no_show', %s)", q.org_id, third, local(10, 10))
    rows = qconn.execute(
        "select hour, arrivals, served, no_shows, mean_wait_minutes, max_wait_minutes, mean_service_minutes,"
        " peak_queue_length, mean_queue_length from slotoptim.queue_metrics(%s)"
        " where provider_key = 'dr-a' order by hour",
        (local(12),),
    ).fetchall()
    # 09:00 hour: three arrivals, waits 30, 40, 45 (called 10:05); two started and finished in it
    # (18 and 12 minutes); at most 3 waiting (09:20-09:30); waiting minutes 30 + 40 + 40 = 110 over 60.
    assert rows[0][:4] == (9, 3, 2, 1)  # a2's no-show is booked at 09:40
    assert [float(v) for v in rows[0][4:7]] == [38.3, 45.0, 15.0]
    assert rows[0][7] == 3 and float(rows[0][8]) == round(110 / 60, 2)
    # 10:00 hour: nobody arrives; the third waits until 10:05.
    assert rows[1][:4] == (10, 0, 0, 0) and rows[1][7] == 1 and float(rows[1][8]) == round(5 / 60, 2)
