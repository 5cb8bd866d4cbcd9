"""GET /v1/kpis: fill rate, minutes to fill, revenue recovered and the offer funnel of a period."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import get
from litestar.params import QueryParameter

from slotoptim.api.errors import invalid
from slotoptim.api.queries import kpis as q
from slotoptim.api.routes.deps import Ctx, Db, Now
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.kpis import Kpis

MAX_DAYS = 366
# Without dates: the last week, today included.
DEFAULT_DAYS = 7


@get(
    "/v1/kpis",
    operation_id="getKpis",
    summary="What the fill engine achieved",
    tags=["kpis"],
    sync_to_thread=True,
    responses=errors(not_found=False),
)
def kpis(
    db: Db,
    ctx: Ctx,
    now: Now,
    from_: Annotated[
        dt.date | None, QueryParameter(name="from", description="first day (default: six days before `to`)")
    ] = None,
    to: Annotated[
        dt.date | None, QueryParameter(description="last day, inclusive (default: today in the practice's zone)")
    ] = None,
) -> Kpis:
    """Over [from, to] (local days; by default the last 7 days, today included): freed intervals
    opened and filled, fill rate, minutes to fill, revenue recovered (prices of appointments
    booked through offers) and the offer funnel. From the views slotoptim.fill_kpis (fill rate per
    freed interval: the pieces of a split gap are not new gaps), revenue_recovered and
    offer_funnel_daily."""
    with db.transaction(ctx) as conn:
        end = to or q.local_today(conn, now)
        start = from_ or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise invalid("from", "must not be after 'to'", "query")
        if (end - start).days >= MAX_DAYS:
            raise invalid("from", f"the period may span at most {MAX_DAYS} days", "query")
        return q.kpis(conn, start, end)
