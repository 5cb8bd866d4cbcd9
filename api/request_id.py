"""A request id for every HTTP request: taken from a well-formed `X-Request-Id` (a proxy's), or made
here; returned in the `X-Request-Id` header and written into every log line of the request, so a
500 a user reports can be found in the log without the log holding personal data."""

from __future__ import annotations

import contextvars
import re
import uuid

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
# A proxy's id is kept when it is short and plain; anything else could smuggle text into the logs.
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name.lower() == HEADER.encode():
            text = value.decode("latin-1")
            return text if _WELL_FORMED.match(text) else None
    return None


def request_ids(app: ASGIApp) -> ASGIApp:
    """Outermost middleware: every answer, errors included, carries the id."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request_id = _incoming(scope) or uuid.uuid4().hex
        token = current_request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableScopeHeaders.from_message(message)
                headers[HEADER] = request_id
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)

    return middleware
