"""The web front door, for every response: security headers on HTML pages, and a cross-site
request check (CSRF) on the forms of the dashboard, the claim page and the booking page.

- Content-Security-Policy: nothing but the page's own stylesheet (and, for /schema, the OpenAPI
  UI's own scripts), forms posting to this origin, and no framing (`frame-ancestors 'none'`);
  `Referrer-Policy: no-referrer` (claim links are capabilities), `X-Content-Type-Options: nosniff`,
  and HSTS when SLOTOPTIM_PUBLIC_URL is https.
- A POST to /dashboard/..., /c/... or /book/... is refused (403) when the browser says it comes from another
  site: `Sec-Fetch-Site` other than same-origin/none, or else an `Origin` that is neither this
  request's origin nor the public URL's. Clients that send neither (curl, scripts) are not
  browsers, and a cross-site form cannot be submitted without a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import redis
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from slotoptim.api.ratelimit import retry_after, rules

# Scripts and connections only from ourselves (the queue screens' small script and its event
# stream); no inline script or style anywhere. Forms post to ourselves; the claim page's form may
# end in a redirect to Stripe Checkout (browsers check form-action on redirects too).
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self' https://checkout.stripe.com; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Swagger UI sets style attributes from its scripts, so /schema needs inline styles (no inline script).
SCHEMA_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
OWN_HEADERS = {
    b"content-security-policy",
    b"x-content-type-options",
    b"referrer-policy",
    b"x-frame-options",
    b"strict-transport-security",
}
FORM_PREFIXES = ("/dashboard", "/c/", "/book/")
SAME_SITE = {b"same-origin", b"none"}
FORBIDDEN = b'{"status_code":403,"detail":"cross-site request refused"}'
TOO_MANY = b'{"status_code":429,"detail":"too many requests: try again later"}'


def _over_limit(scope: Scope, path: str) -> int | None:
    client: redis.Redis | None = scope["litestar_app"].state.redis if "litestar_app" in scope else None
    found = rules(str(scope.get("method", "")), path)
    if client is None or not found:
        return None
    address = str((scope.get("client") or ("unknown", 0))[0])
    try:
        waits = [retry_after(client, limit, address if key is None else key) for limit, key in found]
    except (redis.RedisError, OSError):
        return None  # Redis away: no limits, as without Redis
    blocked = [w for w in waits if w is not None]
    return max(blocked) if blocked else None


async def _refuse(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-store"), *extra],
    }
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(start)
    await send(end)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


def cross_site(scope: Scope, public_url: str | None) -> bool:
    fetch_site = _header(scope, b"sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.lower() not in SAME_SITE
    origin = _header(scope, b"origin")
    if origin is None:
        return False
    host = (_header(scope, b"host") or b"").decode("latin-1")
    allowed = {f"{scope.get('scheme', 'http')}://{host}".lower()}
    if public_url:
        allowed.add(_origin(public_url))
    return origin.decode("latin-1").lower() not in allowed


def front_door(public_url: str | None) -> Callable[[ASGIApp], ASGIApp]:
    """A Litestar middleware factory bound to the public URL."""
    https = bool(public_url and public_url.lower().startswith("https://"))

    def middleware(app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            path = str(scope.get("path", ""))
            wait = _over_limit(scope, path)
            if wait is not None:
                await _refuse(send, 429, TOO_MANY, [(b"retry-after", str(wait).encode())])
                return
            if scope.get("method") == "POST" and path.startswith(FORM_PREFIXES) and cross_site(scope, public_url):
                refusal: HTTPResponseStartEvent = {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-store")],
                }
                body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": FORBIDDEN, "more_body": False}
                await send(refusal)
                await send(body)
                return

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in OWN_HEADERS]
                    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                    if content_type.startswith(b"text/html"):
                        csp = SCHEMA_CSP if path.startswith("/schema") else PAGE_CSP
                        headers += [
                            (b"content-security-policy", csp.encode()),
                            (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"no-referrer"),
                            (b"x-frame-options", b"DENY"),
                        ]
                    else:
                        headers += [(b"x-content-type-options", b"nosniff")]
                    if https:
                        headers.append((b"strict-transport-security", HSTS.encode()))
                    message["headers"] = headers
                await send(message)

            await app(scope, receive, send_with_headers)

        return handle

    return middleware
