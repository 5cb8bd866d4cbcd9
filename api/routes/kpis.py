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
        dt.date | None, QueryParameter(name="from", description="first day (default: 30 days ago)")
    ] = None,
    to: Annotated[dt.date | None, QueryParameter(description="last day, inclusive (default: today)")] = None,
) -> Kpis:
    """Over [from, to] (local days): gaps opened and filled, fill rate, minutes to fill, revenue
    recovered (prices of appointments booked through offers) and the offer funnel. From the views
    slotoptim.fill_kpis, revenue_recovered and offer_funnel_daily."""
    end = to or now.date()
    start = from_ or end - dt.timedelta(days=29)
    if start > end:
        raise invalid("from", "must not be after 'to'", "query")
    if (end - start).days >= MAX_DAYS:
        raise invalid("from", f"the period may span at most {MAX_DAYS} days", "query")
    with db.transaction(ctx) as conn:
        return q.kpis(conn, start, end)
