"""/c/{token}: the claim page a customer opens from an offer's text, on a phone.

Server-rendered HTML; booking is a plain form POST (no JavaScript). The signed token is the
capability (no sign-in, no cookie); the form echoes it in a hidden field, and a POST whose field
differs from the path is refused. States: open, being confirmed by someone else, filled (with up
to three alternatives), expired, booked (already yours) and awaiting the practice's approval.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

import anyio.to_thread
import msgspec
import psycopg
import redis
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_303_SEE_OTHER,
    HTTP_404_NOT_FOUND,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from psycopg_pool import PoolTimeout

from slotoptim.api.db import Database
from slotoptim.api.errors import status_for
from slotoptim.api.logs import log_event
from slotoptim.api.metrics import Metrics
from slotoptim.api.queries import claim_page as q
from slotoptim.api.queries.offers import hold_ms
from slotoptim.api.request_id import current_request_id
from slotoptim.api.routes.deps import Db, Now, RedisClient
from slotoptim.listener.payments import checkout

TokenPath = Annotated[str, PathParameter(max_length=64, description="the claim link's signed token")]

PAGE = {"exclude_from_auth": True}
# The security headers (CSP, nosniff, Referrer-Policy...) come from api/frontdoor.py for every page.
HEADERS = {"Cache-Control": "no-store"}


class ClaimForm(msgspec.Struct, kw_only=True):
    token: Annotated[str, msgspec.Meta(max_length=64)] = ""


class AnswerForm(msgspec.Struct, kw_only=True):
    token: Annotated[str, msgspec.Meta(max_length=64)] = ""
    action: Annotated[str, msgspec.Meta(max_length=16)] = ""


# What the page confirms after each answer (POST /c/{token}/answer).
NOTICES = {
    "decline": "Thanks for letting us know. We'll offer this time to someone else; you stay on the waiting list.",
    "keep": "You stay on the waiting list for your other requests.",
    "close": "Your other waiting-list requests are closed.",
    "stop": "You won't get any more messages from us, by text or email. To get them again, ask the practice.",
}


def _address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def _not_found() -> Template:
    return Template(template_name="claim_missing.html", status_code=HTTP_404_NOT_FOUND, headers=HEADERS)


def _unavailable(exc: Exception) -> Template:
    """The page's own error state: HTML a customer can read, never the API's JSON. A busy or
    unreachable database is a 503 worth retrying; anything else is a bug, logged by class."""
    busy = isinstance(exc, PoolTimeout) or (isinstance(exc, psycopg.Error) and status_for(exc) == 503)
    event = "claim_page_busy" if busy else "claim_page_error"
    log_event(event, logging.WARNING if busy else logging.ERROR, error=type(exc).__name__, sqlstate=_state(exc))
    return Template(
        template_name="claim_unavailable.html",
        context={"request_id": current_request_id.get() or "-"},
        status_code=HTTP_503_SERVICE_UNAVAILABLE if busy else HTTP_500_INTERNAL_SERVER_ERROR,
        headers={**HEADERS, "Retry-After": "5"} if busy else HEADERS,
    )


def _state(exc: Exception) -> str | None:
    return exc.sqlstate if isinstance(exc, psycopg.Error) else None


def _page(view: q.ClaimView, token: str, notice: str = "", status: int = HTTP_200_OK) -> Template:
    return Template(
        template_name="claim.html",
        context={"v": view, "token": token, "notice": notice, "lang": view.language},
        status_code=status,
        headers=HEADERS,
    )


# Litestar does not await a sync_to_thread handler that returns a Template: the handlers are
# async and run their blocking work in a worker thread themselves.
@get("/c/{token:str}", opt=PAGE, include_in_schema=False)
async def claim_page(token: TokenPath, db: Db, now: Now, redis_client: RedisClient) -> Template:
    try:
        return await anyio.to_thread.run_sync(_show, token, db, now, redis_client)
    except Exception as exc:  # the customer sees a page, whatever went wrong
        return _unavailable(exc)


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
) -> Template | Redirect:
    if data.token != token:
        return _not_found()
    metrics: Metrics = state.metrics
    base = (state.settings.public_url or str(request.base_url)).rstrip("/")
    try:
        return await anyio.to_thread.run_sync(_claim, token, db, now, redis_client, metrics, _address(request), base)
    except Exception as exc:  # the customer sees a page, whatever went wrong
        return _unavailable(exc)


def _claim(
    token: str,
    db: Database,
    now: dt.datetime,
    redis_client: redis.Redis | None,
    metrics: Metrics,
    address: str | None,
    base: str,
) -> Template | Redirect:
    link = q.find_link(db, token)
    if link is None:
        return _not_found()
    ctx = q.context(link, address)
    with db.session(ctx) as conn:
        outcome = q.claim(conn, redis_client, link, now, hold_ms(conn))
        if outcome == "payment_required":
            # The policy protects this booking: the customer goes to Stripe Checkout; the webhook books.
            step = checkout.payment_step(
                conn,
                redis_client,
                link.offer_id,
                now,
                success_url=f"{base}/c/{token}",
                cancel_url=f"{base}/c/{token}",
                product=q.checkout_product(conn, link.offer_id),
            )
            if step.state == "redirect" and step.url:
                metrics.claim("payment_redirect", "web")
                return Redirect(path=step.url, status_code=HTTP_303_SEE_OTHER, headers=HEADERS)
            outcome = {"held": "being_confirmed", "unavailable": "payment_unavailable"}.get(step.state, outcome)
        view = None if outcome in q.NOT_FOUND else q.view(conn, redis_client, link, now, outcome)
    metrics.claim(outcome, "web")
    return _not_found() if view is None else _page(view, token)


@post("/c/{token:str}/answer", opt=PAGE, include_in_schema=False, status_code=HTTP_200_OK)
async def claim_answer(
    request: Request[Any, Any, Any],
    token: TokenPath,
    db: Db,
    now: Now,
    redis_client: RedisClient,
    data: Annotated[AnswerForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """The page's other buttons: "No thanks" (decline), keep or close the other waitlist entries
    after a booking, and "Stop all messages" (revokes consent on every channel)."""
    if data.token != token:
        return _not_found()
    try:
        return await anyio.to_thread.run_sync(_answer, token, db, now, redis_client, data.action, _address(request))
    except Exception as exc:  # the customer sees a page, whatever went wrong
        return _unavailable(exc)


def _answer(
    token: str, db: Database, now: dt.datetime, redis_client: redis.Redis | None, action: str, address: str | None
) -> Template:
    link = q.find_link(db, token)
    if link is None:
        return _not_found()
    with db.transaction(q.context(link, address)) as conn:
        known = action in NOTICES
        if known:
            q.answer(conn, link, action, now)
        view = q.view(conn, redis_client, link, now)
    if view is None:
        return _not_found()
    if not known:
        return _page(view, token, "Action: choose one of the buttons on this page.", HTTP_422_UNPROCESSABLE_ENTITY)
    return _page(view, token, NOTICES[action])
