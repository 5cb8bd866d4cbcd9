"""/v1/appointments/{id}/move-up: "earlier if possible" for a booked appointment (issue 12)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, put
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from slotoptim.api.queries import moveup as q
from slotoptim.api.routes.deps import Ctx, Db, Now
from slotoptim.api.routes.params import id_path
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.moveup import MoveUp, MoveUpRequest
from slotoptim.api.transactions import in_transaction

AppointmentId = Annotated[int, id_path("appointment")]


class MoveUpController(Controller):
    path = "/v1/appointments/{appointment_id:str}/move-up"
    tags = ("appointments",)

    @put(
        "/",
        operation_id="enrolMoveUp",
        summary="Offer this customer earlier openings (move-up)",
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=errors(conflict=True, unprocessable=True),
    )
    def enrol(self, db: Db, ctx: Ctx, now: Now, appointment_id: AppointmentId, data: JSONBody[MoveUpRequest]) -> MoveUp:
        """Enrols a booked, future appointment: earlier openings of the same service are offered to its
        customer, who keeps this appointment until they claim one (claiming books the new slot and
        cancels this one in one transaction). Sending it again replaces the preferences."""
        return in_transaction(db, ctx, lambda conn: q.enrol(conn, appointment_id, data, now))

    @delete(
        "/",
        operation_id="leaveMoveUp",
        summary="Stop offering earlier openings for this appointment",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        responses=errors(),
    )
    def leave(self, db: Db, ctx: Ctx, appointment_id: AppointmentId) -> None:
        """Ends the enrolment; the appointment stays as it is."""
        in_transaction(db, ctx, lambda conn: q.leave(conn, appointment_id))
