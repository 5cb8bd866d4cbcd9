"""Front-desk tasks: the rows of slotoptim.staff_tasks for the caller's organisation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slotoptim.api.db import Conn
from slotoptim.api.errors import not_found
from slotoptim.api.schemas.staff_tasks import StaffTask, StaffTaskList

SELECT = """
select t.task_id, t.kind, t.due_at, t.done_at, t.appointment_id, t.appointment_start, t.customer_key
  from slotoptim.staff_tasks as t
  join slotoptim_private.organisation as o on o.key = t.org_key
 where o.id = slotoptim_private.current_org()"""


def _task(row: Any) -> StaffTask:
    return StaffTask(
        id=int(row["task_id"]),
        kind=row["kind"],
        due_at=row["due_at"],
        done_at=row["done_at"],
        appointment_id=int(row["appointment_id"]),
        appointment_start=row["appointment_start"],
        customer=row["customer_key"],
    )


def list_tasks(conn: Conn, include_done: bool) -> StaffTaskList:
    where = "" if include_done else " and t.done_at is null"
    rows = conn.execute(SELECT + where + " order by t.due_at, t.task_id limit 500").fetchall()
    return StaffTaskList(items=[_task(r) for r in rows])


def finish(conn: Conn, task_id: int, at: dt.datetime) -> StaffTask:
    done = conn.execute("select slotoptim.finish_staff_task(%s, %s) as done", (task_id, at)).fetchone()
    if done is None or not done["done"]:
        raise not_found(f"task {task_id}")
    row = conn.execute(SELECT + " and t.task_id = %s", (task_id,)).fetchone()
    if row is None:
        raise not_found(f"task {task_id}")
    return _task(row)
