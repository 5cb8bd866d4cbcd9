"""The route guard that checks X-Twilio-Signature before a webhook is read.

Twilio signs the URL it called (scheme, host, path, query) and every form field. Behind a proxy
or load balancer the app sees another URL, so the URL is rebuilt from SLOTOPTIM_PUBLIC_URL (the
public base, which may carry a path prefix) plus the request's path and query string; only when
that is unset is the request's own URL used. Forwarded headers are never trusted for this: a
client could set them. Unsigned, wrongly signed, or unconfigured (no TWILIO_AUTH_TOKEN): 403.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from slotoptim.api.settings import ApiSettings
from slotoptim.listener.channels.signature import SIGNATURE_HEADER, valid_twilio_signature


def signed_url(public_url: str | None, request: Request[Any, Any, Any]) -> str:
    if not public_url:
        return str(request.url)
    query = request.scope.get("query_string", b"").decode("latin-1")
    return public_url.rstrip("/") + request.scope["path"] + (f"?{query}" if query else "")


def form_fields(body: bytes) -> dict[str, list[str]]:
    """Every field with every value, exactly as sent (blank ones too: they are signed)."""
    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    return fields


async def twilio_signature_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not isinstance(connection, Request):
        raise PermissionDeniedException(detail="not a webhook request")
    settings: ApiSettings = connection.app.state.settings
    if not settings.twilio_auth_token:
        raise PermissionDeniedException(detail="Twilio webhooks are not configured (TWILIO_AUTH_TOKEN)")
    fields = form_fields(await connection.body())
    url = signed_url(settings.public_url, connection)
    if not valid_twilio_signature(settings.twilio_auth_token, url, fields, connection.headers.get(SIGNATURE_HEADER)):
        raise PermissionDeniedException(detail="missing or invalid X-Twilio-Signature")
