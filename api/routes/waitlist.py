"""/v1/waitlist/entries: who waits for what, and when they can come."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from slotoptim.api.pagination import DEFAULT_LIMIT, Cursor, Limit
from slotoptim.api.queries import waitlist as q
from slotoptim.api.routes.deps import Ctx, Db
from slotoptim.api.routes.params import CustomerFilter, ProviderFilter, ServiceFilter, id_path
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.common import Weekday
from slotoptim.api.schemas.waitlist import (
    EntryStatus,
    Tier,
    WaitlistEntry,
    WaitlistEntryCreate,
    WaitlistEntryPatch,
    WaitlistPage,
)

EntryId = Annotated[int, id_path("waitlist entry")]


class WaitlistController(Controller):
    path = "/v1/waitlist/entries"
    tags = ("waitlist",)

    @post(
        "/",
        operation_id="createWaitlistEntry",
        summary="Add a customer to the waitlist",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        responses=errors(conflict=True, unprocessable=True),
    )
    def create(self, db: Db, ctx: Ctx, data: JSONBody[WaitlistEntryCreate]) -> WaitlistEntry:
        with db.transaction(ctx) as conn:
            return q.create(conn, data)

    @get(
        "/",
        operation_id="listWaitlistEntries",
        summary="List waitlist entries",
        sync_to_thread=True,
        responses=errors(),
    )
    def list_entries(
        self,
        db: Db,
        ctx: Ctx,
        customer: CustomerFilter = None,
        service: ServiceFilter = None,
        provider: ProviderFilter = None,
        status: FromQuery[EntryStatus | None] = None,
        tier: FromQuery[Tier | None] = None,
        day: Annotated[Weekday | None, QueryParameter(description="entries available on this weekday")] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> WaitlistPage:
        with db.transaction(ctx) as conn:
            return q.listing(
                conn,
                customer=customer,
                service=service,
                provider=provider,
                status=status,
                tier=tier,
                day=day,
                limit=limit,
                cursor=cursor,
            )

    @get(
        "/{entry_id:str}",
        operation_id="getWaitlistEntry",
        summary="Read a waitlist entry",
        sync_to_thread=True,
        responses=errors(),
    )
    def read(self, db: Db, ctx: Ctx, entry_id: EntryId) -> WaitlistEntry:
        with db.transaction(ctx) as conn:
            return q.get(conn, entry_id)

    @patch(
        "/{entry_id:str}",
        operation_id="updateWaitlistEntry",
        summary="Change a waitlist entry",
        sync_to_thread=True,
        responses=errors(conflict=True, unprocessable=True),
    )
    def update(self, db: Db, ctx: Ctx, entry_id: EntryId, data: JSONBody[WaitlistEntryPatch]) -> WaitlistEntry:
        """Only the fields sent change; null clears an optional one."""
        with db.transaction(ctx) as conn:
            return q.update(conn, entry_id, data)

    @delete(
        "/{entry_id:str}",
        operation_id="deleteWaitlistEntry",
        summary="Take a customer off the waitlist",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        responses=errors(),
    )
    def remove(self, db: Db, ctx: Ctx, entry_id: EntryId) -> None:
        """The entry becomes `cancelled` and gets no more offers; it is kept, because its offers and
        the fill measures refer to it."""
        with db.transaction(ctx) as conn:
            q.cancel(conn, entry_id)
