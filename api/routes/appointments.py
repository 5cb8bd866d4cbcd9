"""/v1/appointments: book, read, list, cancel, reschedule, mark arrived/completed/no-show."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from slotoptim.api.pagination import DEFAULT_LIMIT, Cursor, Limit
from slotoptim.api.queries import appointments as q
from slotoptim.api.routes.deps import Ctx, Db, Now
from slotoptim.api.routes.params import ProviderFilter, id_path
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.appointments import (
    Appointment,
    AppointmentCreate,
    AppointmentPage,
    AppointmentStatus,
    Cancellation,
    Reschedule,
    StatusChange,
)
from slotoptim.api.transactions import in_transaction

AppointmentId = Annotated[int, id_path("appointment")]


class AppointmentController(Controller):
    path = "/v1/appointments"
    tags = ("appointments",)

    @post(
        "/",
        operation_id="createAppointment",
        summary="Book an appointment",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        responses=errors(conflict=True, unprocessable=True),
    )
    def create(self, db: Db, ctx: Ctx, data: JSONBody[AppointmentCreate]) -> Appointment:
        """Books a provider's time. 409 when it overlaps another appointment, buffers included: the
        database's exclusion constraint decides."""
        return in_transaction(db, ctx, lambda conn: q.create(conn, data))

    @get(
        "/",
        operation_id="listAppointments",
        summary="List appointments",
        sync_to_thread=True,
        responses=errors(),
    )
    def list_appointments(
        self,
        db: Db,
        ctx: Ctx,
        provider: ProviderFilter = None,
        day: Annotated[dt.date | None, QueryParameter(description="local date in the provider's time zone")] = None,
        status: FromQuery[AppointmentStatus | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> AppointmentPage:
        """Appointments by start time, filtered by provider, local day and status; paginated."""
        with db.transaction(ctx) as conn:
            return q.listing(conn, provider=provider, day=day, status=status, limit=limit, cursor=cursor)

    @get(
        "/{appointment_id:str}",
        operation_id="getAppointment",
        summary="Read an appointment",
        sync_to_thread=True,
        responses=errors(),
    )
    def read(self, db: Db, ctx: Ctx, appointment_id: AppointmentId) -> Appointment:
        with db.transaction(ctx) as conn:
            return q.get(conn, appointment_id)

    @post(
        "/{appointment_id:str}/cancel",
        operation_id="cancelAppointment",
        summary="Cancel an appointment",
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=errors(conflict=True),
    )
    def cancel(self, db: Db, ctx: Ctx, now: Now, appointment_id: AppointmentId) -> Cancellation:
        """Cancels a booked or confirmed appointment; the freed time becomes open gaps, which the
        fill engine starts offering."""
        return in_transaction(db, ctx, lambda conn: q.cancel(conn, appointment_id, now))

    @post(
        "/{appointment_id:str}/reschedule",
        operation_id="rescheduleAppointment",
        summary="Move an appointment",
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=errors(conflict=True, unprocessable=True),
    )
    def reschedule(self, db: Db, ctx: Ctx, appointment_id: AppointmentId, data: JSONBody[Reschedule]) -> Appointment:
        """Moves a booked or confirmed appointment (keeping its length unless `end` is given); the
        time it leaves becomes gaps."""
        return in_transaction(db, ctx, lambda conn: q.reschedule(conn, appointment_id, data))

    @post(
        "/{appointment_id:str}/status",
        operation_id="setAppointmentStatus",
        summary="Mark confirmed, arrived, completed or no-show",
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=errors(conflict=True),
    )
    def set_status(
        self, db: Db, ctx: Ctx, now: Now, appointment_id: AppointmentId, data: JSONBody[StatusChange]
    ) -> Appointment:
        """booked → confirmed → arrived → completed, or booked/confirmed → no_show (which frees the
        time). Setting the current status again changes nothing."""
        return in_transaction(db, ctx, lambda conn: q.change_status(conn, appointment_id, data.status, now))
