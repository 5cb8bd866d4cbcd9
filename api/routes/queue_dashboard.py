"""/dashboard/queue: the front desk's queue page. Per provider: who is in service, called and
waiting with their estimates, how late the provider runs, and the buttons (call next, start, done,
no-show, left); today's booked customers not yet here, to check in; today's queue measures by hour.

Plain forms (POST, then a redirect back), no JavaScript needed; staff sign in as on /dashboard.
Readonly callers see the page without the buttons.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import anyio.to_thread
import msgspec
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from slotoptim.api.db import Database
from slotoptim.api.identity import at_least, context_of
from slotoptim.api.queries import queue_dashboard as q
from slotoptim.api.routes.dashboard import HEADERS, LOGIN, _identity
from slotoptim.api.routes.deps import Db, Now

PAGE = {"exclude_from_auth": True}
BACK = "/dashboard/queue"


class QueueAction(msgspec.Struct, kw_only=True):
    op: Literal["call_next", "start", "done", "no_show", "left", "recall", "check_in"]
    provider: Annotated[str, msgspec.Meta(max_length=63)] = ""
    entry: Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)] = 0
    appointment: Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)] = 0


def _show(request: Request[Any, Any, Any], state: State, db: Database, now: dt.datetime) -> Template | Redirect:
    identity = _identity(request, state, db, now)
    if identity is None:
        return Redirect(LOGIN, status_code=HTTP_303_SEE_OTHER, headers={"Cache-Control": "no-store"})
    with db.transaction(context_of(identity, request.client.host if request.client else None)) as conn:
        page = q.page(conn, identity.org_id, now)
    return Template(
        template_name="queue_dashboard.html",
        context={
            "d": page,
            "role": identity.role,
            "can_act": at_least(identity.role, "staff"),
            "notice": request.query_params.get("notice"),
        },
        headers=HEADERS,
    )


@get(BACK, opt=PAGE, include_in_schema=False)
async def queue_dashboard(request: Request[Any, Any, Any], state: State, db: Db, now: Now) -> Template | Redirect:
    return await anyio.to_thread.run_sync(_show, request, state, db, now)


def _act(request: Request[Any, Any, Any], state: State, db: Database, now: dt.datetime, data: QueueAction) -> Redirect:
    identity = _identity(request, state, db, now)
    if identity is None:
        return Redirect(LOGIN, status_code=HTTP_303_SEE_OTHER)
    if not at_least(identity.role, "staff"):
        raise PermissionDeniedException(detail=f"this needs the staff role; these credentials have {identity.role}")
    with db.transaction(context_of(identity, request.client.host if request.client else None)) as conn:
        notice = q.act(
            conn,
            identity.org_id,
            data.op,
            data.provider,
            data.entry,
            data.appointment,
            f"{identity.kind}:{identity.subject}",
            now,
        )
    return Redirect(
        BACK, status_code=HTTP_303_SEE_OTHER, query_params={"notice": notice}, headers={"Cache-Control": "no-store"}
    )


@post(BACK, opt=PAGE, include_in_schema=False, status_code=HTTP_303_SEE_OTHER)
async def queue_dashboard_act(
    request: Request[Any, Any, Any],
    state: State,
    db: Db,
    now: Now,
    data: Annotated[QueueAction, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    result: Redirect = await anyio.to_thread.run_sync(_act, request, state, db, now, data)
    return result
