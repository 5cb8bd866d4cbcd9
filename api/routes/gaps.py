"""/v1/gaps: the PRD's gap analysis, and the gaps the fill engine is working on."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from slotoptim.api.errors import invalid, malformed
from slotoptim.api.pagination import DEFAULT_LIMIT, Cursor, Limit
from slotoptim.api.queries import gaps as q
from slotoptim.api.routes.deps import Ctx, Db, Reads
from slotoptim.api.routes.params import ProviderFilter, ProviderQuery, id_path
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.gaps import GapAnalysis, GapDetail, GapPage, GapStatus

MAX_WINDOW = dt.timedelta(days=31)
GapId = Annotated[int, id_path("gap")]


class GapController(Controller):
    path = "/v1/gaps"
    tags = ("gaps",)

    @get(
        "/analyze",
        operation_id="analyzeGaps",
        summary="Free time of a provider in a window",
        responses=errors(),
    )
    async def analyze(
        self,
        reads: Reads,
        ctx: Ctx,
        provider: ProviderQuery,
        start: Annotated[dt.datetime, QueryParameter(description="window start, ISO 8601 with a UTC offset")],
        end: Annotated[dt.datetime, QueryParameter(description="window end, ISO 8601 with a UTC offset")],
        customer: Annotated[
            str | None,
            QueryParameter(description="a customer key: services fit with this customer's buffer", max_length=128),
        ] = None,
    ) -> GapAnalysis:
        """The provider's maximal free intervals in [start, end) (working hours minus closures minus
        appointments with their buffers), each `bookable` or `fragment`, with the services that fit.
        With `customer`, a service fits when it does with that customer's buffer (a rule for new
        customers may add minutes), so a booking of it there is accepted. Backed by
        `slotoptim.gaps`. At most 31 days. Served by the read replica when the deployment has one, so a
        change of the last seconds may not show yet."""
        for name, value in (("start", start), ("end", end)):
            if value.tzinfo is None:
                raise malformed(name, "needs a UTC offset, e.g. 2026-11-24T08:00:00-05:00", "query")
        if end <= start:
            raise invalid("end", "must be after start", "query")
        if end - start > MAX_WINDOW:
            raise invalid("end", "the window may span at most 31 days", "query")
        # Read-only: served by the read replica when one is configured (it may lag the primary), on the
        # event loop in one round trip (aioreads).
        rows = await reads.fetch(ctx, q.ANALYSE, q.analyse_params(provider, start, end, customer))
        return q.analysis_of(rows, provider, start, end, customer)

    @get("/", operation_id="listGaps", summary="List gaps", sync_to_thread=True, responses=errors())
    def list_gaps(
        self,
        db: Db,
        ctx: Ctx,
        provider: ProviderFilter = None,
        status: FromQuery[GapStatus | None] = None,
        live: Annotated[bool, QueryParameter(description="only open and offering gaps")] = True,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> GapPage:
        """Gaps recorded when time was freed, newest first."""
        with db.transaction(ctx) as conn:
            return q.listing(conn, provider=provider, status=status, live=live, limit=limit, cursor=cursor)

    @get(
        "/{gap_id:str}", operation_id="getGap", summary="A gap and its offers", sync_to_thread=True, responses=errors()
    )
    def read(self, db: Db, ctx: Ctx, gap_id: GapId) -> GapDetail:
        with db.transaction(ctx) as conn:
            return q.detail(conn, gap_id)
