"""/v1/queue: check in, walk in, call next, move an entry, read a provider's queue and the measures.

Staff (and admins) act; readonly callers read. Every change notifies the live pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from slotoptim.api import queue_links
from slotoptim.api.identity import Identity
from slotoptim.api.queries import queue as q
from slotoptim.api.queries.queue import StatusUrl
from slotoptim.api.routes.deps import Ctx, Db, Now
from slotoptim.api.routes.params import ProviderPath, id_path
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.queue import (
    Called,
    CheckIn,
    CheckInLink,
    MetricsRow,
    Move,
    ProviderQueue,
    QueueEntry,
    WalkIn,
)

EntryId = Annotated[int, id_path("queue entry")]
AppointmentId = Annotated[int, id_path("appointment")]


def _links(state: State, db: Db) -> StatusUrl:
    return lambda entry_id, arrived_at: queue_links.status_url(state, db, entry_id, arrived_at)


def _caller(request: Request[Identity, None, State]) -> str:
    user = request.scope.get("user")
    return f"{user.kind}:{user.subject}" if isinstance(user, Identity) else "unknown"


class QueueController(Controller):
    path = "/v1/queue"
    tags = ("queue",)

    @post(
        "/check-ins",
        operation_id="queueCheckIn",
        summary="Check a booked customer in",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        responses=errors(),
    )
    def check_in(self, db: Db, ctx: Ctx, now: Now, state: State, data: JSONBody[CheckIn]) -> QueueEntry:
        """Puts today's appointment in its provider's queue (idempotent: a second check-in returns the
        same entry). 422 when the appointment is not today or cannot check in; the entry's
        status_url is the customer's own live page."""
        with db.transaction(ctx) as conn:
            return q.check_in(conn, ctx.org_id, data, now, _links(state, db))

    @post(
        "/walk-ins",
        operation_id="queueWalkIn",
        summary="Add a walk-in",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        responses=errors(),
    )
    def walk_in(self, db: Db, ctx: Ctx, now: Now, state: State, data: JSONBody[WalkIn]) -> QueueEntry:
        """A walk-in joins a provider's queue, or a location's pool. 422 when the practice takes no
        walk-ins or the queue is at its overflow threshold."""
        with db.transaction(ctx) as conn:
            return q.walk_in(conn, ctx.org_id, data, now, _links(state, db))

    @post(
        "/providers/{provider:str}/call-next",
        operation_id="queueCallNext",
        summary="Call the next customer",
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=errors(unprocessable=False),
    )
    def call_next(
        self, request: Request[Identity, None, State], db: Db, ctx: Ctx, now: Now, state: State, provider: ProviderPath
    ) -> Called:
        """Calls the provider's best waiting customer; entry is null when nobody waits. Two desks
        calling at once never call the same person."""
        with db.transaction(ctx) as conn:
            return Called(entry=q.call_next(conn, ctx.org_id, provider, _caller(request), now, _links(state, db)))

    @post(
        "/entries/{entry_id:str}/moves",
        operation_id="queueMove",
        summary="Start, finish, mark a no-show, mark left or recall",
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=errors(),
    )
    def move(self, db: Db, ctx: Ctx, now: Now, state: State, entry_id: EntryId, data: JSONBody[Move]) -> QueueEntry:
        """start (called or waiting -> in_service, the appointment's actual_start), done (-> done,
        actual_end, completed), no_show, left, recall (called -> waiting). 422 names the entry's
        status when the move does not apply."""
        with db.transaction(ctx) as conn:
            return q.move(conn, ctx.org_id, entry_id, data.action, now, _links(state, db))

    @get(
        "/appointments/{appointment_id:str}/check-in-link",
        operation_id="queueCheckInLink",
        summary="The customer's own check-in link for an appointment",
        sync_to_thread=True,
        responses=errors(unprocessable=False),
    )
    def check_in_link(self, db: Db, ctx: Ctx, state: State, appointment_id: AppointmentId) -> CheckInLink:
        """A signed link (/here/{token}) the customer opens at the practice to check in; it works
        until two hours after the appointment ends. Put it in the day's reminder."""
        with db.transaction(ctx) as conn:
            row = conn.execute(
                "select upper(period) as ends from slotoptim_private.appointment"
                " where id = %s and org_id = slotoptim_private.current_org()",
                (appointment_id,),
            ).fetchone()
        if row is None:
            raise NotFoundException(detail=f"appointment_id: unknown appointment {appointment_id}")
        return CheckInLink(
            appointment_id=appointment_id,
            url=queue_links.check_in_url(state, db, appointment_id, row["ends"]),
            expires_at=row["ends"] + queue_links.CHECK_IN_GRACE,
        )

    @get(
        "/entries/{entry_id:str}",
        operation_id="queueEntry",
        summary="Read a queue entry",
        sync_to_thread=True,
        responses=errors(unprocessable=False),
    )
    def read(self, db: Db, ctx: Ctx, state: State, entry_id: EntryId) -> QueueEntry:
        with db.transaction(ctx) as conn:
            return q.entry(conn, entry_id, _links(state, db))

    @get(
        "/providers/{provider:str}",
        operation_id="queueForecast",
        summary="A provider's queue with wait estimates",
        sync_to_thread=True,
        responses=errors(unprocessable=False),
    )
    def forecast(self, db: Db, ctx: Ctx, now: Now, provider: ProviderPath) -> ProviderQueue:
        """Who is in service, called and waiting, and the booked customers still expected: minutes
        until each is called with an 80 % interval, and how late the provider runs."""
        with db.transaction(ctx) as conn:
            return q.provider_queue(conn, ctx.org_id, provider, now)

    @get(
        "/metrics",
        operation_id="queueMetrics",
        summary="Queue measures per provider, day and hour",
        sync_to_thread=True,
        responses=errors(not_found=False),
    )
    def metrics(
        self,
        db: Db,
        ctx: Ctx,
        now: Now,
        day: Annotated[dt.date | None, QueryParameter(description="local date; all days when absent")] = None,
    ) -> list[MetricsRow]:
        """Arrivals, served, no-shows, mean and max wait, mean service time, peak and mean queue length."""
        with db.transaction(ctx) as conn:
            return q.metrics(conn, day, now)
