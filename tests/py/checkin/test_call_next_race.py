"""Two desks pressing "call next" at once call two different people, never one twice."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from checkin.conftest import QueueDb
from checkin.queue_practice import local

CALL = "select slotoptim.queue_call_next(%s, %s, %s, %s)"


def test_an_open_call_is_skipped_not_waited_for(queue_db: QueueDb) -> None:
    q = queue_db
    with psycopg.connect(q.url, autocommit=True) as conn:
        for key in ("a0", "a1"):
            conn.execute(
                "select slotoptim.queue_check_in(%s, %s, 'staff', '{}', %s)", (q.org_id, q.ids[key], local(8, 50))
            )
    with psycopg.connect(q.url) as desk1, psycopg.connect(q.url) as desk2:
        desk2.execute("set lock_timeout = '5s'")  # a blocked desk would fail here instead of hanging
        first = desk1.execute(CALL, (q.org_id, q.ids["dr-a"], "desk1", local(9))).fetchone()
        second = desk2.execute(CALL, (q.org_id, q.ids["dr-a"], "desk2", local(9))).fetchone()  # desk1 not committed
        desk1.commit()
        desk2.commit()
    assert first is not None and second is not None
    assert first[0] is not None and second[0] is not None and first[0] != second[0]


def test_many_desks_at_once_call_each_waiting_person_once(queue_db: QueueDb) -> None:
    q = queue_db
    with psycopg.connect(q.url, autocommit=True) as conn:
        for i in range(8):
            conn.execute(
                "select slotoptim.queue_check_in(%s, %s, 'staff', '{}', %s)", (q.org_id, q.ids[f"a{i}"], local(8, 50))
            )
    desks = 6
    barrier = threading.Barrier(desks)
    called: list[Any] = []
    lock = threading.Lock()

    def desk(n: int) -> None:
        with psycopg.connect(q.url, autocommit=True) as conn:
            barrier.wait()
            for _ in range(3):
                provider = q.ids["dr-a"]
                row = conn.execute(CALL, (q.org_id, provider, f"desk{n}", local(9))).fetchone()
                with lock:
                    called.append(row[0] if row else None)

    threads = [threading.Thread(target=desk, args=(n,)) for n in range(desks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    people = [c for c in called if c is not None]
    assert len(people) == 8 and len(set(people)) == 8, called
    assert called.count(None) == desks * 3 - 8
