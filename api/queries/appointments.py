"""Appointments: the rows behind /v1/appointments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import DictRow

from slotoptim.api.db import Conn
from slotoptim.api.errors import Conflict, Unprocessable, invalid, not_found
from slotoptim.api.pagination import decode_cursor, encode_cursor
from slotoptim.api.queries.refs import resolve
from slotoptim.api.schemas.appointments import (
    Appointment,
    AppointmentCreate,
    AppointmentPage,
    Cancellation,
    Reschedule,
    StatusChangeTo,
)
from slotoptim.listener.limits import LONGEST_APPOINTMENT, instant_problem

SELECT = """
select a.id, a.key, p.key as provider, s.key as service, c.key as customer, a.customer_id,
       lower(a.period) as start, upper(a.period) as "end", p.timezone, a.status, a.source,
       a.buffer_after_minutes, s.price::float8 as price, a.booked_at, a.cancelled_at
  from slotoptim_private.appointment as a
  join slotoptim_private.provider as p on p.id = a.provider_id
  join slotoptim_private.service as s on s.id = a.service_id
  left join slotoptim_private.customer as c on c.id = a.customer_id
 where a.org_id = slotoptim_private.current_org()
"""

# Which status may follow which (same status again is a no-op).
TRANSITIONS: dict[str, frozenset[str]] = {
    "confirmed": frozenset({"booked"}),
    "arrived": frozenset({"booked", "confirmed"}),
    "completed": frozenset({"booked", "confirmed", "arrived"}),
    "no_show": frozenset({"booked", "confirmed"}),
}


def _appointment(row: DictRow) -> Appointment:
    return Appointment(**row)


def get(conn: Conn, appointment_id: int) -> Appointment:
    row = conn.execute(SELECT + " and a.id = %s", (appointment_id,)).fetchone()
    if row is None:
        raise not_found(f"appointment {appointment_id}")
    return _appointment(row)


def create(conn: Conn, data: AppointmentCreate) -> Appointment:
    provider_id = resolve(conn, "provider", data.provider, "provider")
    service = conn.execute(
        "select s.id, s.minutes, s.active, exists (select 1 from slotoptim_private.provider_service as ps"
        "  where ps.provider_id = %s and ps.service_id = s.id) as offered"
        " from slotoptim_private.service as s where s.org_id = slotoptim_private.current_org() and s.key = %s",
        (provider_id, data.service),
    ).fetchone()
    if service is None:
        resolve(conn, "service", data.service, "service")  # raises the 404
        raise AssertionError("unreachable")
    if not service["offered"] or not service["active"]:
        raise Unprocessable(detail=f"service: provider {data.provider!r} does not offer {data.service!r}")
    customer_id = None if data.customer is None else resolve(conn, "customer", data.customer, "customer")
    end = _checked_end(data.start, data.end, dt.timedelta(minutes=int(service["minutes"])))
    booking = _Booking(provider_id, int(service["id"]), customer_id, data.start, end)
    with _explained_overlap(conn, booking):
        row = conn.execute(
            "insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, key, period,"
            " status, source) values (slotoptim_private.current_org(), %s, %s, %s, %s, tstzrange(%s, %s, '[)'), %s,"
            " 'staff') returning id",
            (provider_id, service["id"], customer_id, data.key, data.start, end, data.status),
        ).fetchone()
    assert row is not None
    return get(conn, int(row["id"]))


def _checked_end(start: dt.datetime, end: dt.datetime | None, default_length: dt.timedelta) -> dt.datetime:
    """The end of a booking (given, or start plus the default length), checked against the input
    rules the database enforces too: instants in 1900-2200, at most 24 hours long."""
    problem = instant_problem(start)
    if problem is not None:
        raise invalid("start", problem)
    if end is None:
        end = start + default_length  # cannot overflow: start is at most 2200-01-01
    elif (problem := instant_problem(end)) is not None:
        raise invalid("end", problem)
    if end <= start:
        raise invalid("end", "must be after start")
    if end - start > LONGEST_APPOINTMENT:
        raise invalid("end", "an appointment lasts at most 24 hours")
    return end


@dataclass(frozen=True)
class _Booking:
    """What a write asks for, to name what it would overlap when the database refuses it."""

    provider_id: int
    service_id: int
    customer_id: int | None
    start: dt.datetime
    end: dt.datetime
    moving: int | None = None  # the appointment being rescheduled


@contextmanager
def _explained_overlap(conn: Conn, booking: _Booking) -> Iterator[None]:
    """Runs a write in a savepoint; when the exclusion constraint refuses it, names the appointment
    it would overlap, or, when only this booking's own buffer runs into the next appointment, the
    buffer's parts (rules by name) and the minutes that do not fit. (Row-level security hides the
    conflicting key from the database's message.)"""
    try:
        with conn.transaction():
            yield
    except psycopg.errors.ExclusionViolation as exc:
        if exc.diag.constraint_name != "appointment_no_overlap":
            raise
        raise _overlap_conflict(conn, booking) from exc


def _overlap_conflict(conn: Conn, booking: _Booking) -> Conflict:
    params = {
        "provider": booking.provider_id,
        "service": booking.service_id,
        "customer": booking.customer_id,
        "start": booking.start,
        "end": booking.end,
        "moving": booking.moving,
    }
    row = conn.execute(
        "select a.id, lower(a.period) as start, upper(a.period) as end, a.buffer_after_minutes, p.timezone,"
        "       tstzrange(%(start)s, %(end)s, '[)') && a.blocked as booking_overlaps,"
        "       coalesce(slotoptim_private.buffer_after(%(service)s, %(provider)s, %(customer)s, %(start)s), 0)"
        "         as own_buffer"
        "  from slotoptim_private.appointment as a"
        "  join slotoptim_private.provider as p on p.id = a.provider_id"
        " where a.org_id = slotoptim_private.current_org() and a.provider_id = %(provider)s"
        "   and a.status in ('booked', 'confirmed', 'arrived', 'completed')"
        "   and a.id is distinct from %(moving)s::bigint"
        "   and a.blocked && tstzrange(%(start)s, %(end)s::timestamptz + make_interval(mins => coalesce("
        "       slotoptim_private.buffer_after(%(service)s, %(provider)s, %(customer)s, %(start)s), 0)), '[)')"
        " order by lower(a.period) limit 1",
        params,
    ).fetchone()
    if row is None:
        return Conflict(detail="overlaps another active appointment of the same provider (buffers included)")
    zone = ZoneInfo(str(row["timezone"]))
    other_start, other_end = row["start"].astimezone(zone), row["end"].astimezone(zone)
    if row["booking_overlaps"]:
        return Conflict(
            detail=f"overlaps appointment {row['id']} ({other_start:%Y-%m-%d %H:%M}-{other_end:%H:%M} "
            f"{other_start:%Z} plus {row['buffer_after_minutes']} min buffer); buffers included"
        )
    # The booking itself is free; the buffer it needs after it runs into the next appointment.
    parts = conn.execute(
        "select e.part, e.name, e.minutes"
        " from slotoptim_private.buffer_explained(%(service)s, %(provider)s, %(customer)s, %(start)s) as e"
        " order by case e.part when 'base' then 1 when 'rule' then 2 else 3 end, e.name",
        params,
    ).fetchall()
    buffer = int(row["own_buffer"])
    needed_until = (booking.end + dt.timedelta(minutes=buffer)).astimezone(zone)
    overflow = ceil((needed_until - other_start).total_seconds() / 60)
    described = " + ".join(_buffer_part(p) for p in parts) or "no buffer"
    return Conflict(
        detail=f"the {buffer} min buffer after this booking ({described}) does not fit: it runs to "
        f"{needed_until:%H:%M}, but appointment {row['id']} starts at {other_start:%H:%M %Z}; "
        f"{overflow} min do not fit",
        extra={
            "appointment_id": row["id"],
            "buffer_minutes": buffer,
            "minutes_not_fitting": overflow,
            "buffer_parts": [dict(p) for p in parts],
        },
    )


def _buffer_part(part: DictRow) -> str:
    if part["part"] == "rule":
        return f"rule {part['name']!r} {part['minutes']:+d} min"
    if part["part"] == "cap":
        return f"{part['name']} {part['minutes']:+d} min"
    return f"{part['name']} {part['minutes']} min"


def listing(
    conn: Conn,
    *,
    provider: str | None,
    day: dt.date | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> AppointmentPage:
    if provider is not None:
        resolve(conn, "provider", provider, "provider")
    after = decode_cursor(cursor, (str, int))
    after_start = None
    if after is not None:
        try:
            after_start = dt.datetime.fromisoformat(after[0])
        except ValueError:
            raise invalid("cursor", "not a cursor this API issued", "query") from None
    params: dict[str, Any] = {
        "provider": provider,
        "day": day,
        "status": status,
        "after_start": after_start,
        "after_id": None if after is None else after[1],
        "limit": limit + 1,
    }
    rows = conn.execute(
        SELECT
        + """
   and (%(provider)s::text is null or p.key = %(provider)s)
   and (%(day)s::date is null or (lower(a.period) at time zone p.timezone)::date = %(day)s::date)
   and (%(status)s::text is null or a.status = %(status)s)
   and (%(after_start)s::timestamptz is null or (lower(a.period), a.id) > (%(after_start)s, %(after_id)s::bigint))
 order by lower(a.period), a.id
 limit %(limit)s""",
        params,
    ).fetchall()
    items = [_appointment(r) for r in rows[:limit]]
    next_cursor = encode_cursor([items[-1].start.isoformat(), items[-1].id]) if len(rows) > limit else None
    return AppointmentPage(items=items, next_cursor=next_cursor)


def cancel(conn: Conn, appointment_id: int, at: dt.datetime) -> Cancellation:
    current = get(conn, appointment_id)
    if current.status not in ("booked", "confirmed"):
        raise Conflict(detail=f"appointment {appointment_id} is {current.status} and cannot be cancelled")
    rows = conn.execute("select * from slotoptim.cancel_appointment(%s, %s) as gap_id", (appointment_id, at)).fetchall()
    return Cancellation(appointment=get(conn, appointment_id), gap_ids=[int(r["gap_id"]) for r in rows])


def reschedule(conn: Conn, appointment_id: int, data: Reschedule) -> Appointment:
    current = get(conn, appointment_id)
    if current.status not in ("booked", "confirmed"):
        raise Conflict(detail=f"appointment {appointment_id} is {current.status} and cannot be rescheduled")
    end = _checked_end(data.start, data.end, current.end - current.start)
    row = conn.execute(
        "select provider_id, service_id, customer_id from slotoptim_private.appointment"
        " where org_id = slotoptim_private.current_org() and id = %s",
        (appointment_id,),
    ).fetchone()
    assert row is not None
    booking = _Booking(row["provider_id"], row["service_id"], row["customer_id"], data.start, end, appointment_id)
    with _explained_overlap(conn, booking):
        conn.execute(
            "update slotoptim_private.appointment set period = tstzrange(%s, %s, '[)')"
            " where org_id = slotoptim_private.current_org() and id = %s",
            (data.start, end, appointment_id),
        )
    return get(conn, appointment_id)


def change_status(conn: Conn, appointment_id: int, status: StatusChangeTo, at: dt.datetime) -> Appointment:
    current = get(conn, appointment_id)
    if current.status == status:
        return current
    if current.status not in TRANSITIONS[status]:
        raise Conflict(detail=f"appointment {appointment_id} is {current.status} and cannot become {status}")
    conn.execute(
        "update slotoptim_private.appointment"
        "   set status = %(status)s,"
        "       actual_start = case when %(status)s = 'arrived' then coalesce(actual_start, %(at)s)"
        "                      else actual_start end,"
        "       actual_end = case when %(status)s = 'completed' and actual_start is not null and actual_start <= %(at)s"
        "                         then coalesce(actual_end, %(at)s) else actual_end end"
        " where org_id = slotoptim_private.current_org() and id = %(id)s",
        {"status": status, "at": at, "id": appointment_id},
    )
    return get(conn, appointment_id)
