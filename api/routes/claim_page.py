"""/c/{token}: the claim page a customer opens from an offer's text, on a phone.

Server-rendered HTML; booking is a plain form POST (no JavaScript). The signed token is the
capability (no sign-in, no cookie); the form echoes it in a hidden field, and a POST whose field
differs from the path is refused. States: open, being confirmed by someone else, filled (with up
to three alternatives), expired, booked (already yours) and awaiting the practice's approval.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import anyio.to_thread
import msgspec
import redis
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_404_NOT_FOUND

from slotoptim.api.db import Database
from slotoptim.api.metrics import Metrics
from slotoptim.api.queries import claim_page as q
from slotoptim.api.queries.offers import hold_ms
from slotoptim.api.routes.deps import Db, Now, RedisClient

TokenPath = Annotated[str, PathParameter(max_length=64, description="the claim link's signed token")]

PAGE = {"exclude_from_auth": True}
# The security headers (CSP, nosniff, Referrer-Policy...) come from api/frontdoor.py for every page.
HEADERS = {"Cache-Control": "no-store"}


class ClaimForm(msgspec.Struct, kw_only=True):
    token: Annotated[str, msgspec.Meta(max_length=64)] = ""


def _address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def _not_found() -> Template:
    return Template(template_name="claim_missing.html", status_code=HTTP_404_NOT_FOUND, headers=HEADERS)


def _page(view: q.ClaimView, token: str) -> Template:
    return Template(
        template_name="claim.html",
        context={"v": view, "token": token},
        status_code=HTTP_200_OK,
        headers=HEADERS,
    )


# Litestar does not await a sync_to_thread handler that returns a Template: the handlers are
# async and run their blocking work in a worker thread themselves.
@get("/c/{token:str}", opt=PAGE, include_in_schema=False)
async def claim_page(token: TokenPath, db: Db, now: Now, redis_client: RedisClient) -> Template:
    return await anyio.to_thread.run_sync(_show, token, db, now, redis_client)


def _show(token: str, db: Database, now: dt.datetime, redis_client: redis.Redis | None) -> Template:
    link = q.find_link(db, token)
    if link is None:
        return _not_found()
    with db.transaction(q.context(link, None)) as conn:
        # Opening the link is the funnel's "clicked" step (the first time only).
        conn.execute(
            "update slotoptim_private.offer set clicked_at = %s where id = %s and clicked_at is null",
            (now, link.offer_id),
        )
        view = q.view(conn, redis_client, link, now)
    return _not_found() if view is None else _page(view, token)


@post("/c/{token:str}", opt=PAGE, include_in_schema=False, status_code=HTTP_200_OK)
async def claim_submit(
    request: Request[Any, Any, Any],
    token: TokenPath,
    db: Db,
    now: Now,
    redis_client: RedisClient,
    state: State,
    data: Annotated[ClaimForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    if data.token != token:
        return _not_found()
    metrics: Metrics = state.metrics
    return await anyio.to_thread.run_sync(_claim, token, db, now, redis_client, metrics, _address(request))


def _claim(
    token: str,
    db: Database,
    now: dt.datetime,
    redis_client: redis.Redis | None,
    metrics: Metrics,
    address: str | None,
) -> Template:
    link = q.find_link(db, token)
    if link is None:
        return _not_found()
    ctx = q.context(link, address)
    with db.session(ctx) as conn:
        outcome = q.claim(conn, redis_client, link, now, hold_ms(conn))
        view = None if outcome in q.NOT_FOUND else q.view(conn, redis_client, link, now, outcome)
    metrics.claim(outcome, "web")
    return _not_found() if view is None else _page(view, token)
