"""A provider's calendar: its state (GET /v1/providers/{key}/calendar), the OAuth connect flow
(/v1/providers/{key}/calendar/connect -> consent -> /v1/calendar/oauth/callback), and the push
webhooks Google and Microsoft call (/webhooks/google/calendar, /webhooks/microsoft/calendar)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import anyio.to_thread
from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import QueryParameter

from slotoptim.api.errors import invalid
from slotoptim.api.queries import calendar as q
from slotoptim.api.routes.deps import Ctx, Db, Now
from slotoptim.api.routes.params import ProviderPath
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.calendar import CalendarConnected, CalendarConnection
from slotoptim.listener.calendar import oauth
from slotoptim.listener.integrations import connections, push
from slotoptim.listener.integrations.errors import ExternalError
from slotoptim.listener.integrations.secrets import SecretKeyError

PUBLIC = {"exclude_from_auth": True}
CALLBACK_PATH = "/v1/calendar/oauth/callback"


@get(
    "/v1/providers/{key:str}/calendar",
    operation_id="getProviderCalendar",
    summary="A provider's linked calendar: state, last sync, counts, last error",
    tags=["calendar"],
    sync_to_thread=True,
    responses=errors(),
)
def read_calendar(db: Db, ctx: Ctx, key: ProviderPath) -> CalendarConnection:
    """404 when the provider has no linked calendar. Never shows a token or a password."""
    with db.transaction(ctx) as conn:
        return q.connection(conn, key)


def _callback_url(request: Request[Any, Any, Any], state: State) -> str:
    base = state.settings.public_url or str(request.base_url)
    return base.rstrip("/") + CALLBACK_PATH


@get(
    "/v1/providers/{key:str}/calendar/connect",
    operation_id="connectProviderCalendar",
    summary="Start linking a provider's Google or Microsoft calendar: the consent page to open",
    tags=["calendar"],
    opt={"role": "staff"},
    sync_to_thread=True,
    responses=errors(),
)
def connect_calendar(
    request: Request[Any, Any, Any],
    db: Db,
    ctx: Ctx,
    state: State,
    now: Now,
    key: ProviderPath,
    kind: Annotated[str, QueryParameter(description="google or microsoft", pattern="^(google|microsoft)$")],
    calendar: Annotated[
        str, QueryParameter(description="calendar id (Google) or user (Microsoft)", max_length=300)
    ] = "primary",
) -> Response[dict[str, str]]:
    with db.transaction(ctx) as conn:
        provider_id = q.provider_id(conn, key)
    try:
        url = oauth.start(ctx.org_id, provider_id, kind, calendar, _callback_url(request, state), now)
    except SecretKeyError as exc:
        raise HTTPException(status_code=503, detail=f"calendar linking is not configured: {exc}") from None
    return Response({"authorization_url": url}, status_code=200)


@get(
    CALLBACK_PATH,
    operation_id="calendarOAuthCallback",
    include_in_schema=False,
    summary="Where the consent page sends the browser back",
    tags=["calendar"],
    opt=PUBLIC,
    sync_to_thread=True,
    responses=errors(not_found=False),
)
def oauth_callback(
    request: Request[Any, Any, Any],
    db: Db,
    state: State,
    now: Now,
    state_: Annotated[str, QueryParameter(name="state", max_length=4096)],
    code: Annotated[str | None, QueryParameter(max_length=4096)] = None,
    error: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> CalendarConnected:
    """The sealed state names the organisation and provider; the code is exchanged with the PKCE
    verifier for a refresh token, which is stored sealed."""
    if error is not None:
        raise invalid("error", f"the calendar's owner did not consent ({error})", "query")
    if code is None:
        raise invalid("code", "missing", "query")
    try:
        grant = oauth.finish(code, state_, _callback_url(request, state), now)
    except oauth.OAuthError as exc:
        raise invalid("state", str(exc), "query") from None
    except ExternalError as exc:
        raise HTTPException(status_code=502, detail=str(exc)) from None
    with db.owner() as conn:
        config = {"calendar_id": grant.calendar_id} if grant.kind == "google" else {"user": grant.calendar_id}
        connections.link(
            conn,
            org_id=grant.org_id,
            provider_id=grant.provider_id,
            purpose="calendar",
            kind=grant.kind,
            config=config,
            secret_values=grant.secret_values,
            at=now,
        )
        conn.execute(
            "select slotoptim.external_sync_requested(c.id, %s) from slotoptim_private.external_connection c"
            " where c.org_id = %s and c.provider_id = %s and c.purpose = 'calendar'",
            (now, grant.org_id, grant.provider_id),
        )
        row = conn.execute("select key from slotoptim_private.provider where id = %s", (grant.provider_id,)).fetchone()
    return CalendarConnected(
        provider=str(row["key"]) if row else "", kind=grant.kind, calendar_id=grant.calendar_id, status="connected"
    )


@post(
    "/webhooks/google/calendar",
    operation_id="googleCalendarPush",
    include_in_schema=False,
    summary="A Google Calendar watch-channel notification (no body)",
    tags=["webhooks"],
    opt=PUBLIC,
    sync_to_thread=True,
    status_code=200,
    media_type=MediaType.TEXT,
    responses=errors(not_found=False, unprocessable=False),
)
def google_push(request: Request[Any, Any, Any], db: Db, now: Now) -> Response[str]:
    """Verifies X-Goog-Channel-Token against the channel's stored digest and X-Goog-Resource-ID,
    ignores the initial `sync` message, and for `exists`/`not_exists` records a sync request (the
    service is woken by NOTIFY). Answers at once: the sync runs elsewhere."""
    headers = request.headers
    channel_key = headers.get("x-goog-channel-id")
    if not channel_key:
        raise HTTPException(status_code=400, detail="X-Goog-Channel-ID: missing")
    with db.owner() as conn:
        channel = push.verify(
            conn, channel_key, headers.get("x-goog-channel-token"), headers.get("x-goog-resource-id"), now
        )
        if channel is None:
            raise HTTPException(status_code=403, detail="unknown channel or wrong X-Goog-Channel-Token")
        if headers.get("x-goog-resource-state") in ("exists", "not_exists"):
            number = headers.get("x-goog-message-number") or "0"
            push.received(conn, channel, int(number) if number.isdigit() else 0, now)
    return Response("", media_type=MediaType.TEXT)


def _graph_notifications(db: Db, data: bytes, now: dt.datetime, lifecycle: bool) -> None:
    try:
        body = json.loads(data or b"{}")
        notifications = body.get("value") if isinstance(body, dict) else None
    except ValueError:
        notifications = None
    if not isinstance(notifications, list):
        raise HTTPException(status_code=400, detail="body: expected a change notification collection")
    with db.owner() as conn:
        for note in notifications:
            if not isinstance(note, dict):
                continue
            channel = push.verify(conn, str(note.get("subscriptionId") or ""), note.get("clientState"), None, now)
            if channel is None:
                # clientState does not match: not from our subscription; do not act on it.
                continue
            if lifecycle and note.get("lifecycleEvent"):
                conn.execute(
                    "select slotoptim.external_channel_lifecycle(%s, %s, %s)",
                    (channel.id, str(note["lifecycleEvent"]), now),
                )
            elif not lifecycle:
                push.received(conn, channel, 0, now)


def _validation(token: str | None) -> Response[str] | None:
    # The handshake: echo the (already URL-decoded) token as text/plain, 200, within 10 s.
    if token is None:
        return None
    return Response(token, status_code=200, media_type=MediaType.TEXT)


@post(
    "/webhooks/microsoft/calendar",
    operation_id="microsoftCalendarNotification",
    include_in_schema=False,
    summary="Microsoft Graph change notifications (and the subscription validation handshake)",
    tags=["webhooks"],
    opt=PUBLIC,
    status_code=202,
    media_type=MediaType.TEXT,
    responses=errors(not_found=False, unprocessable=False),
)
async def microsoft_notification(
    request: Request[Any, Any, Any],
    db: Db,
    now: Now,
    validation_token: Annotated[str | None, QueryParameter(name="validationToken", max_length=2048)] = None,
) -> Response[str]:
    """Notifications whose clientState does not match the subscription's are ignored; the others
    record a sync request. 202 at once: the sync runs in the service."""
    handshake = _validation(validation_token)
    if handshake is not None:
        return handshake
    # Graph posts the handshake with an empty body; notifications carry JSON.
    data = await request.body()
    await anyio.to_thread.run_sync(_graph_notifications, db, data, now, False)
    return Response("", status_code=202, media_type=MediaType.TEXT)


@post(
    "/webhooks/microsoft/calendar/lifecycle",
    operation_id="microsoftCalendarLifecycle",
    include_in_schema=False,
    summary="Microsoft Graph lifecycle notifications (reauthorizationRequired, subscriptionRemoved, missed)",
    tags=["webhooks"],
    opt=PUBLIC,
    status_code=202,
    media_type=MediaType.TEXT,
    responses=errors(not_found=False, unprocessable=False),
)
async def microsoft_lifecycle(
    request: Request[Any, Any, Any],
    db: Db,
    now: Now,
    validation_token: Annotated[str | None, QueryParameter(name="validationToken", max_length=2048)] = None,
) -> Response[str]:
    handshake = _validation(validation_token)
    if handshake is not None:
        return handshake
    data = await request.body()
    await anyio.to_thread.run_sync(_graph_notifications, db, data, now, True)
    return Response("", status_code=202, media_type=MediaType.TEXT)
