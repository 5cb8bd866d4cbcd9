"""Public queue pages: the waiting-room screen, a customer's own status page, their own check-in
link, and the kiosk. Server-rendered; live through Server-Sent Events from the process's one
queue listener (api/queue_hub.py) and a small script served with the other assets (/assets/queue-live.js, no inline
script, so a strict CSP holds); without JavaScript they refresh themselves every 30 seconds.

The screen shows tickets and first names only. The status page is reached by a signed link (the
token is the capability, as for claim links); it shows the customer's own ticket and wait only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncGenerator, Callable
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import anyio.to_thread
import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter
from litestar.response import Redirect, ServerSentEvent, Template
from litestar.response.sse import ServerSentEventMessage
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER, HTTP_404_NOT_FOUND

from slotoptim.api import queue_links, queue_tokens, queue_views
from slotoptim.api.db import Database
from slotoptim.api.identity import Actor, DbContext
from slotoptim.api.queries import queue as q
from slotoptim.api.queue_hub import Board, QueueHub, Topic
from slotoptim.api.routes.deps import Db, Now

PAGE = {"exclude_from_auth": True}
KEY = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
OrgPath = Annotated[str, PathParameter(pattern=KEY, description="organisation key")]
LocationPath = Annotated[str, PathParameter(pattern=KEY, description="location key")]
TokenPath = Annotated[str, PathParameter(max_length=64, description="a signed queue link")]
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
KEEPALIVE_SECONDS = 15.0


class PhoneForm(msgspec.Struct, kw_only=True):
    phone: Annotated[str, msgspec.Meta(max_length=40)] = ""


class HereForm(msgspec.Struct, kw_only=True):
    token: Annotated[str, msgspec.Meta(max_length=64)] = ""


def _address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def _missing(what: str) -> Template:
    return Template(
        template_name="queue_missing.html", context={"what": what}, status_code=HTTP_404_NOT_FOUND, headers=HEADERS
    )


def _find_location(db: Database, org: str | None, location: str) -> tuple[int, int, str, str] | None:
    """(org id, location id, practice name, location name) by keys; with no org key, the location
    key must be unique across organisations."""
    with db.owner() as conn:
        rows = conn.execute(
            "select o.id as org_id, l.id, o.name as org_name, l.name from slotoptim_private.location as l"
            " join slotoptim_private.organisation as o on o.id = l.org_id"
            " where l.key = %s and (%s::text is null or o.key = %s) limit 2",
            (location, org, org),
        ).fetchall()
    if len(rows) != 1:
        return None
    row = rows[0]
    return int(row["org_id"]), int(row["id"]), str(row["org_name"]), str(row["name"])


def board_for(db: Database, topic: Topic, at: dt.datetime) -> Board:
    with db.transaction(DbContext(topic[0], Actor("system", "queue-pages", None))) as conn:
        return q.board(conn, topic[0], topic[1], at)


def _screen(db: Database, org: str | None, location: str, now: dt.datetime) -> Template:
    found = _find_location(db, org, location)
    if found is None:
        return _missing("this queue")
    org_id, location_id, org_name, location_name = found
    org_key = org
    if org_key is None:
        with db.owner() as conn:
            row = conn.execute("select key from slotoptim_private.organisation where id = %s", (org_id,)).fetchone()
        org_key = str(row["key"]) if row else ""
    view = queue_views.screen(board_for(db, (org_id, location_id), now))
    return Template(
        template_name="queue_screen.html",
        context={
            "v": view,
            "org_name": org_name,
            "location_name": location_name,
            "events": f"/queue/{org_key}/{location}/events",
        },
        headers=HEADERS,
    )


@get("/queue/{location:str}", opt=PAGE, include_in_schema=False)
async def queue_screen_single(location: LocationPath, db: Db, now: Now) -> Template:
    """The screen by location key alone, when one practice on this server has that location."""
    return await anyio.to_thread.run_sync(_screen, db, None, location, now)


@get("/queue/{org:str}/{location:str}", opt=PAGE, include_in_schema=False)
async def queue_screen(org: OrgPath, location: LocationPath, db: Db, now: Now) -> Template:
    return await anyio.to_thread.run_sync(_screen, db, org, location, now)


def _screen_json(board: Board) -> str:
    """The screen's event data, serialised once per board however many screens watch it (the
    board dict is shared by every subscriber of the topic, and only the event loop touches it)."""
    cached = board.get("_screen_json")
    if cached is None:
        cached = board["_screen_json"] = json.dumps(queue_views.screen(board))
    return str(cached)


async def _stream(
    hub: QueueHub, topic: Topic, render: Callable[[Board], str]
) -> AsyncGenerator[ServerSentEventMessage]:
    subscription = await hub.subscribe(topic)
    try:
        while True:
            try:
                board = await asyncio.wait_for(subscription.boards.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ServerSentEventMessage(comment="keep-alive")
                continue
            yield ServerSentEventMessage(data=render(board), event="board")
    finally:
        hub.unsubscribe(subscription)


def _sse(hub: QueueHub, topic: Topic, render: Callable[[Board], str]) -> ServerSentEvent:
    return ServerSentEvent(
        _stream(hub, topic, render),
        retry_duration=2000,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@get("/queue/{org:str}/{location:str}/events", opt=PAGE, include_in_schema=False)
async def queue_screen_events(
    org: OrgPath, location: LocationPath, db: Db, state: State
) -> ServerSentEvent | Response[str]:
    found = await anyio.to_thread.run_sync(_find_location, db, org, location)
    if found is None:
        return Response("unknown queue", status_code=HTTP_404_NOT_FOUND, media_type="text/plain")
    return _sse(state.queue_hub, (found[0], found[1]), _screen_json)


def _entry_topic(db: Database, state: State, token: str, now: dt.datetime) -> tuple[int, Topic, str] | None:
    claims = queue_tokens.verify(queue_links.key(state, db), token, "status", now.timestamp())
    if claims is None:
        return None
    with db.owner() as conn:
        row = conn.execute(
            "select e.org_id, e.location_id, o.name from slotoptim_private.queue_entry as e"
            " join slotoptim_private.organisation as o on o.id = e.org_id where e.id = %s",
            (claims.id,),
        ).fetchone()
    if row is None:
        return None
    return claims.id, (int(row["org_id"]), row["location_id"]), str(row["name"])


def _status_page(db: Database, state: State, token: str, now: dt.datetime) -> Template:
    found = _entry_topic(db, state, token, now)
    if found is None:
        return _missing("this link")
    entry_id, topic, org_name = found
    view = queue_views.status(board_for(db, topic, now), entry_id)
    return Template(
        template_name="queue_status.html",
        context={"v": view, "org_name": org_name, "events": f"/q/{token}/events"},
        headers=HEADERS,
    )


@get("/q/{token:str}", opt=PAGE, include_in_schema=False)
async def queue_status(token: TokenPath, db: Db, now: Now, state: State) -> Template:
    return await anyio.to_thread.run_sync(_status_page, db, state, token, now)


@get("/q/{token:str}/events", opt=PAGE, include_in_schema=False)
async def queue_status_events(token: TokenPath, db: Db, now: Now, state: State) -> ServerSentEvent | Response[str]:
    found = await anyio.to_thread.run_sync(_entry_topic, db, state, token, now)
    if found is None:
        return Response("unknown link", status_code=HTTP_404_NOT_FOUND, media_type="text/plain")
    entry_id = found[0]
    return _sse(state.queue_hub, found[1], lambda board: json.dumps(queue_views.status(board, entry_id)))


def _here(db: Database, state: State, token: str, now: dt.datetime, submit: bool, address: str | None) -> Any:
    claims = queue_tokens.verify(queue_links.key(state, db), token, "check_in", now.timestamp())
    if claims is None:
        return _missing("this link")
    with db.owner() as conn:
        row = conn.execute(
            "select a.org_id, o.name, p.name as provider, lower(a.period) as starts, p.timezone"
            " from slotoptim_private.appointment as a join slotoptim_private.organisation as o on o.id = a.org_id"
            " join slotoptim_private.provider as p on p.id = a.provider_id where a.id = %s",
            (claims.id,),
        ).fetchone()
    if row is None:
        return _missing("this link")
    if not submit:
        local = row["starts"].astimezone(ZoneInfo(row["timezone"]))
        return Template(
            template_name="queue_here.html",
            context={
                "org_name": row["name"],
                "provider": row["provider"],
                "when": local.strftime("%I:%M %p").lstrip("0"),
                "token": token,
            },
            headers=HEADERS,
        )
    with db.transaction(DbContext(int(row["org_id"]), Actor("system", "queue-link", address))) as conn:
        made = conn.execute(
            "select slotoptim.queue_check_in(%s, %s, 'link', '{}', %s) as id", (row["org_id"], claims.id, now)
        ).fetchone()
        assert made is not None
        # A second statement: the row the function wrote is not visible to the statement that called it.
        entry = conn.execute(
            "select id, arrived_at from slotoptim_private.queue_entry where id = %s", (made["id"],)
        ).fetchone()
    assert entry is not None
    return Redirect(
        queue_links.status_path(queue_links.key(state, db), int(entry["id"]), entry["arrived_at"]),
        status_code=HTTP_303_SEE_OTHER,
        headers={"Cache-Control": "no-store"},
    )


@get("/here/{token:str}", opt=PAGE, include_in_schema=False)
async def queue_here(token: TokenPath, db: Db, now: Now, state: State) -> Any:
    return await anyio.to_thread.run_sync(_here, db, state, token, now, False, None)


@post("/here/{token:str}", opt=PAGE, include_in_schema=False, status_code=HTTP_303_SEE_OTHER)
async def queue_here_submit(
    request: Request[Any, Any, Any],
    token: TokenPath,
    db: Db,
    now: Now,
    state: State,
    data: Annotated[HereForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Any:
    if data.token != token:
        return _missing("this link")
    return await anyio.to_thread.run_sync(_here, db, state, token, now, True, _address(request))


def _kiosk(db: Database, org: str, location: str, now: dt.datetime, phone: str | None, address: str | None) -> Template:
    found = _find_location(db, org, location)
    if found is None:
        return _missing("this kiosk")
    org_id, _, org_name, location_name = found
    context: dict[str, Any] = {"org_name": org_name, "location_name": location_name, "error": None, "ticket": None}
    if phone is not None:
        digits = "".join(c for c in phone if c.isdigit())
        e164 = "+" + digits if phone.strip().startswith("+") else "+1" + digits  # a local number: North America
        if not 7 <= len(digits) <= 15:
            context["error"] = "Please enter the phone number your appointment was booked with."
        else:
            with db.transaction(DbContext(org_id, Actor("system", "queue-kiosk", address))) as conn:
                made = conn.execute(
                    "select slotoptim_private.queue_check_in_by_phone(%s, %s, %s, 'kiosk') as id", (org_id, e164, now)
                ).fetchone()
                row = None
                if made is not None and made["id"] is not None:
                    row = conn.execute(
                        "select ticket from slotoptim_private.queue_entry where id = %s", (made["id"],)
                    ).fetchone()
            if row is None:
                context["error"] = "We couldn't find a visit today for that number. Please ask at the desk."
            else:
                context["ticket"] = row["ticket"]
    status = HTTP_200_OK
    return Template(template_name="queue_kiosk.html", context=context, status_code=status, headers=HEADERS)


@get("/kiosk/{org:str}/{location:str}", opt=PAGE, include_in_schema=False)
async def queue_kiosk(org: OrgPath, location: LocationPath, db: Db, now: Now) -> Template:
    return await anyio.to_thread.run_sync(_kiosk, db, org, location, now, None, None)


@post("/kiosk/{org:str}/{location:str}", opt=PAGE, include_in_schema=False, status_code=HTTP_200_OK)
async def queue_kiosk_submit(
    request: Request[Any, Any, Any],
    org: OrgPath,
    location: LocationPath,
    db: Db,
    now: Now,
    data: Annotated[PhoneForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    return await anyio.to_thread.run_sync(_kiosk, db, org, location, now, data.phone, _address(request))
