"""Per-request metrics and one structured log line per request (no personal data), and the
request checks every route shares."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from slotoptim.api.errors import http_status_of
from slotoptim.api.identity import Identity
from slotoptim.api.logs import log_event
from slotoptim.api.metrics import Metrics
from slotoptim.api.strict_body import refuse_lax_json_bodies

QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def request_metrics(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, send_and_note)
        except Exception as exc:
            # Raised past us (from the authentication middleware, say): count what the exception
            # handlers will answer, e.g. 503 while the database is down.
            status = http_status_of(exc)
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = str(scope.get("path_template") or "unmatched")
            method = str(scope.get("method", "?"))
            metrics: Metrics = scope["litestar_app"].state.metrics
            metrics.observe(method, route, status, elapsed)
            if route not in QUIET_ROUTES:
                _log(scope, method, route, status, elapsed)

    return middleware


async def check_request(request: Request[Any, Any, Any]) -> None:
    """The checks every route shares, before its handler runs."""
    refuse_repeated_query_parameters(request)
    refuse_bodies_that_are_not_json(request)
    await refuse_lax_json_bodies(request)


def refuse_bodies_that_are_not_json(request: Request[Any, Any, Any]) -> None:
    """The JSON API reads JSON only: a body sent as text/plain (or with no type) is 415, not parsed
    anyway. The claim page's form and Twilio's webhooks live outside /v1."""
    if not request.url.path.startswith("/v1/"):
        return
    headers = request.headers
    has_body = headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in headers
    if not has_body:
        return
    media_type = request.content_type[0].lower()
    if media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json")):
        return
    raise HTTPException(
        status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        detail=f"Content-Type: send JSON as application/json, not {media_type or 'nothing'}",
        extra=[{"key": "Content-Type", "message": "must be application/json", "source": "header"}],
    )


def refuse_repeated_query_parameters(request: Request[Any, Any, Any]) -> None:
    """No parameter of this API is a list: `?active=true&active=false` is ambiguous, so 400."""
    params = request.query_params
    repeated = sorted(k for k in params if len(params.getall(k)) > 1)
    if repeated:
        raise ValidationException(
            detail=f"{repeated[0]}: given more than once",
            extra=[{"key": k, "message": "given more than once", "source": "query"} for k in repeated],
        )


def _log(scope: Scope, method: str, route: str, status: int, elapsed: float) -> None:
    user: Any = scope.get("user")
    fields: dict[str, Any] = {"method": method, "route": route, "status": status, "ms": round(elapsed * 1000, 1)}
    if isinstance(user, Identity):
        # A token's subject may be an e-mail address: log a digest of it, never the value.
        actor_id = user.subject if user.kind == "api_key" else hashlib.sha256(user.subject.encode()).hexdigest()[:12]
        fields |= {"org": user.org_key, "actor": user.kind, "actor_id": actor_id}
    level = logging.ERROR if status >= 500 else logging.INFO
    log_event("http_request", level, **fields)
