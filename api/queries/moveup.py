"""Move-up enrolment of an appointment: slotoptim.enrol_moveup and slotoptim.leave_moveup."""

from __future__ import annotations

import datetime as dt

from slotoptim.api.db import Conn
from slotoptim.api.errors import Conflict, invalid
from slotoptim.api.queries.appointments import get
from slotoptim.api.schemas.common import weekday_number
from slotoptim.api.schemas.moveup import MoveUp, MoveUpRequest


def enrol(conn: Conn, appointment_id: int, data: MoveUpRequest, at: dt.datetime) -> MoveUp:
    current = get(conn, appointment_id)  # 404 for another organisation's or an unknown id
    if current.status not in ("booked", "confirmed"):
        raise Conflict(detail=f"appointment {appointment_id} is {current.status} and cannot move earlier")
    if current.start <= at:
        raise Conflict(detail=f"appointment {appointment_id} has started and cannot move earlier")
    if current.customer is None:
        raise Conflict(detail=f"appointment {appointment_id} has no customer to offer an earlier time to")
    if data.window is not None and data.window.start >= data.window.end:
        raise invalid("window", "start must be before end")
    days = None if data.days is None else sorted({weekday_number(d) for d in data.days})
    row = conn.execute(
        "select slotoptim.enrol_moveup(%s, %s, %s::smallint[], %s::time, %s::time, %s, %s) as id",
        (
            appointment_id,
            at,
            days,
            None if data.window is None else data.window.start,
            None if data.window is None else data.window.end,
            data.lead_time_minutes,
            data.any_provider,
        ),
    ).fetchone()
    assert row is not None
    return MoveUp(appointment_id=appointment_id, waitlist_entry_id=int(row["id"]), enrolled=True)


def leave(conn: Conn, appointment_id: int) -> None:
    get(conn, appointment_id)
    conn.execute("select slotoptim.leave_moveup(%s)", (appointment_id,))
