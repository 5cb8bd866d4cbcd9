"""/dashboard: the staff dashboard (server-rendered HTML, inline SVG, no JavaScript).

Staff sign in with the same identities as the API: an `Authorization: Bearer` (or X-API-Key)
header, or a session cookie set by /dashboard/login from an API key or OIDC token. Without
credentials the page redirects to the login form; with wrong ones it answers 401. Every number
is read inside the caller's tenant transaction, so row-level security confines it to their
organisation.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import anyio.to_thread
import msgspec
import redis
from litestar import Request, get, post
from litestar.datastructures import Cookie, State
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_303_SEE_OTHER,
    HTTP_401_UNAUTHORIZED,
    HTTP_404_NOT_FOUND,
    HTTP_429_TOO_MANY_REQUESTS,
)

from slotoptim.api import ratelimit, sessions
from slotoptim.api.auth import Authenticator
from slotoptim.api.db import Database
from slotoptim.api.identity import Identity, context_of
from slotoptim.api.queries import dashboard as q
from slotoptim.api.queries import gap_page
from slotoptim.api.routes.deps import Db, Now

PAGE = {"exclude_from_auth": True}
LOGIN = "/dashboard/login"
# The security headers (CSP, nosniff, Referrer-Policy...) come from api/frontdoor.py for every page.
HEADERS = {"Cache-Control": "no-store"}


class LoginForm(msgspec.Struct, kw_only=True):
    api_key: Annotated[str, msgspec.Meta(max_length=8192)] = ""


def _session_key(state: State, db: Database) -> bytes:
    key: bytes | None = state.get("session_key")
    if key is None:
        with db.owner() as conn:
            key = sessions.session_key(conn)
        state["session_key"] = key
    return key


def _live(db: Database, session: sessions.Session) -> bool:
    """An API key's session lasts only while the key is not revoked."""
    if session.kind != "api_key":
        return True
    with db.owner() as conn:
        row = conn.execute(
            "select 1 from slotoptim_private.api_key where id = %s and org_id = %s and revoked_at is null",
            (int(session.subject), session.org_id),
        ).fetchone()
    return row is not None


def _identity(request: Request[Any, Any, Any], state: State, db: Database, now: dt.datetime) -> Identity | None:
    """The caller, from a header or the session cookie; None when there are no credentials.
    Wrong header credentials raise 401."""
    authorization, api_key = request.headers.get("authorization"), request.headers.get("x-api-key")
    if authorization is not None or api_key is not None:
        authenticator: Authenticator = state.authenticator
        return authenticator.authenticate(authorization, api_key)
    cookie = request.cookies.get(sessions.COOKIE)
    if not cookie:
        return None
    session = sessions.verify(_session_key(state, db), cookie, now.timestamp())
    if session is None or not _live(db, session):
        return None
    return session.identity()


def _show(request: Request[Any, Any, Any], state: State, db: Database, now: dt.datetime) -> Template | Redirect:
    identity = _identity(request, state, db, now)
    if identity is None:
        return Redirect(LOGIN, status_code=HTTP_303_SEE_OTHER, headers={"Cache-Control": "no-store"})
    with db.transaction(context_of(identity, request.client.host if request.client else None)) as conn:
        ctx = q.context(conn, now)
        cards = q.cards(conn, ctx)
    return Template(
        template_name="dashboard.html",
        context={"ctx": ctx, "cards": cards, "role": identity.role, "session": _has_session(request)},
        headers=HEADERS,
    )


def _has_session(request: Request[Any, Any, Any]) -> bool:
    return request.cookies.get(sessions.COOKIE) is not None


def _show_gap(
    request: Request[Any, Any, Any], state: State, db: Database, now: dt.datetime, gap_id: int
) -> Template | Redirect:
    identity = _identity(request, state, db, now)
    if identity is None:
        return Redirect(LOGIN, status_code=HTTP_303_SEE_OTHER, headers={"Cache-Control": "no-store"})
    with db.transaction(context_of(identity, request.client.host if request.client else None)) as conn:
        ctx = q.context(conn, now)
        page = gap_page.gap_page(conn, ctx, gap_id)
    return Template(
        template_name="dashboard_gap.html",
        context={"ctx": ctx, "p": page, "gap_id": gap_id, "role": identity.role, "session": _has_session(request)},
        status_code=HTTP_200_OK if page is not None else HTTP_404_NOT_FOUND,
        headers=HEADERS,
    )


# Litestar does not await a sync_to_thread handler that returns a Template: the handlers are
# async and run their blocking work in a worker thread themselves.
@get("/dashboard", opt=PAGE, include_in_schema=False)
async def dashboard(request: Request[Any, Any, Any], state: State, db: Db, now: Now) -> Template | Redirect:
    return await anyio.to_thread.run_sync(_show, request, state, db, now)


@get("/dashboard/gaps/{gap_id:int}", opt=PAGE, include_in_schema=False)
async def dashboard_gap(
    request: Request[Any, Any, Any],
    state: State,
    db: Db,
    now: Now,
    gap_id: Annotated[int, Parameter(ge=1, le=2**63 - 1)],
) -> Template | Redirect:
    """A gap's own page: its campaigns, offers and messages, and why the waitlist is not offered it."""
    return await anyio.to_thread.run_sync(_show_gap, request, state, db, now, gap_id)


def _login_page(error: str | None = None, status: int = HTTP_200_OK) -> Template:
    return Template(template_name="dashboard_login.html", context={"error": error}, status_code=status, headers=HEADERS)


@get(LOGIN, opt=PAGE, include_in_schema=False)
async def login_form() -> Template:
    return _login_page()


def _public_https(state: State) -> bool:
    public_url = state.settings.public_url
    return bool(public_url and public_url.lower().startswith("https://"))


@get("/", opt=PAGE, include_in_schema=False)
async def home() -> Redirect:
    """The front door leads to the dashboard (which asks for a key when there is no session)."""
    return Redirect("/dashboard", status_code=HTTP_303_SEE_OTHER)


def _key_wait(state: State, credential: str, failed: bool = False) -> int | None:
    """Seconds to wait while this key has failed too often (None: go ahead, or no Redis). With
    failed=True, records a failed attempt."""
    client: redis.Redis | None = state.get("redis")
    if client is None:
        return None
    who = ratelimit.login_subject(credential)
    try:
        if failed:
            return ratelimit.retry_after(client, ratelimit.LOGIN_KEY, who)
        return ratelimit.blocked_for(client, ratelimit.LOGIN_KEY, who)
    except (redis.RedisError, OSError):
        return None  # Redis away: no limits, as without Redis (as the front door does)


def _login(request: Request[Any, Any, Any], state: State, db: Database, now: dt.datetime, credential: str) -> Any:
    credential = credential.strip()
    if not credential:
        return _login_page("Enter your API key.", HTTP_401_UNAUTHORIZED)
    # The front door limits sign-ins per address; the key tried is only known here, from the form.
    wait = _key_wait(state, credential)
    if wait is not None:
        return Template(
            template_name="dashboard_login.html",
            context={"error": f"Too many sign-in attempts with this key. Try again in {wait} seconds."},
            status_code=HTTP_429_TOO_MANY_REQUESTS,
            headers={**HEADERS, "Retry-After": str(wait)},
        )
    authenticator: Authenticator = state.authenticator
    try:
        identity = authenticator.authenticate(None, credential)
    except (NotAuthorizedException, PermissionDeniedException):
        _key_wait(state, credential, failed=True)
        return _login_page("That key was not accepted. Check it and try again.", HTTP_401_UNAUTHORIZED)
    value = sessions.sign(_session_key(state, db), identity, now.timestamp())
    cookie = Cookie(
        key=sessions.COOKIE,
        value=value,
        max_age=sessions.LIFETIME_SECONDS,
        path="/dashboard",
        # Secure whenever the service is public over https, even behind a proxy speaking http to it.
        secure=request.url.scheme == "https" or _public_https(state),
        httponly=True,
        samesite="strict",
    )
    return Redirect(
        "/dashboard", status_code=HTTP_303_SEE_OTHER, cookies=[cookie], headers={"Cache-Control": "no-store"}
    )


@post(LOGIN, opt=PAGE, include_in_schema=False, status_code=HTTP_303_SEE_OTHER)
async def login(
    request: Request[Any, Any, Any],
    state: State,
    db: Db,
    now: Now,
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template | Redirect:
    result: Template | Redirect = await anyio.to_thread.run_sync(_login, request, state, db, now, data.api_key)
    return result


@post("/dashboard/logout", opt=PAGE, include_in_schema=False, status_code=HTTP_303_SEE_OTHER)
async def logout() -> Redirect:
    gone = Cookie(key=sessions.COOKIE, value="", max_age=0, path="/dashboard", httponly=True, samesite="strict")
    return Redirect(LOGIN, status_code=HTTP_303_SEE_OTHER, cookies=[gone])
