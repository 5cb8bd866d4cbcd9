"""Authentication (API keys and OIDC bearer tokens) and the role guard.

Credentials: `Authorization: Bearer so_<prefix>_<secret>` or `X-API-Key: so_...` for API keys,
`Authorization: Bearer <JWT>` for OIDC. 401 when they are missing or invalid, 403 when the role
is too low. Routes opt out with `opt={"exclude_from_auth": True}` (health, metrics, webhooks,
which Twilio signs instead, and later the claim page, which its signed link authorises).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult

from slotoptim.api.apikeys import find_key, looks_like_key
from slotoptim.api.db import Database
from slotoptim.api.identity import Identity, Role, at_least
from slotoptim.api.keycache import ApiKeyCache
from slotoptim.api.oidc import OidcVerifier, TokenRejected

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="slotoptim"'}
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ORG_CACHE_SECONDS = 60.0


def unauthorized(detail: str) -> NotAuthorizedException:
    return NotAuthorizedException(detail=detail, headers=CHALLENGE)


class Authenticator:
    def __init__(self, db: Database, oidc: OidcVerifier | None, keys: ApiKeyCache | None = None) -> None:
        self.db = db
        self.oidc = oidc
        self.keys = keys
        self._orgs: dict[str, tuple[int | None, float]] = {}
        self._lock = threading.Lock()

    def cached(self, authorization: str | None, api_key: str | None) -> Identity | None:
        """The identity of an API key found in the key cache (no database, no thread), else None."""
        if self.keys is None:
            return None
        try:
            token = _credential(authorization, api_key)
        except NotAuthorizedException:
            return None
        key = self.keys.get(token) if looks_like_key(token) else None
        return None if key is None else Identity(key.org_id, key.org_key, key.role, "api_key", str(key.id))

    def authenticate(self, authorization: str | None, api_key: str | None) -> Identity:
        token = _credential(authorization, api_key)
        if looks_like_key(token):
            started = time.monotonic()
            with self.db.owner() as conn:
                key = find_key(conn, token)
            if key is None:
                raise unauthorized("invalid or revoked API key")
            if self.keys is not None:
                self.keys.put(token, key, started)
            return Identity(key.org_id, key.org_key, key.role, "api_key", str(key.id))
        if self.oidc is None:
            raise unauthorized("bearer tokens are not configured on this server; use an API key")
        try:
            claims = self.oidc.verify(token)
        except TokenRejected as exc:
            raise unauthorized(str(exc)) from None
        org_key = self.oidc.org_key(claims)
        if org_key is None:
            raise unauthorized("token names no organisation (org_key claim)")
        org_id = self._org_id(org_key)
        if org_id is None:
            raise unauthorized("token names an unknown organisation")
        role = self.oidc.role(claims)
        if role is None:
            raise PermissionDeniedException(detail="token carries no SlotOptim role (role or roles claim)")
        return Identity(org_id, org_key, role, "user", str(claims["sub"]), self.oidc.scopes(claims))

    def _org_id(self, org_key: str) -> int | None:
        now = time.monotonic()
        with self._lock:
            cached = self._orgs.get(org_key)
        if cached is not None and now - cached[1] < _ORG_CACHE_SECONDS:
            return cached[0]
        with self.db.owner() as conn:
            row = conn.execute("select id from slotoptim_private.organisation where key = %s", (org_key,)).fetchone()
        org_id = None if row is None else int(row["id"])
        with self._lock:
            self._orgs[org_key] = (org_id, now)
        return org_id


def _credential(authorization: str | None, api_key: str | None) -> str:
    bearer = None
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthorized("Authorization must be 'Bearer <API key or token>'")
        bearer = value.strip()
    key = None if api_key is None else api_key.strip()
    if bearer is not None and key is not None and bearer != key:
        raise unauthorized("two different credentials (Authorization and X-API-Key): send one")
    credential = bearer or key
    if not credential:
        raise unauthorized("credentials required: Authorization: Bearer <API key or token>, or X-API-Key")
    return credential


class AuthenticationMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        authenticator: Authenticator = connection.app.state.authenticator
        identity = authenticator.cached(connection.headers.get("authorization"), connection.headers.get("x-api-key"))
        if identity is not None:
            return AuthenticationResult(user=identity, auth=None)
        identity = await anyio.to_thread.run_sync(
            authenticator.authenticate, connection.headers.get("authorization"), connection.headers.get("x-api-key")
        )
        return AuthenticationResult(user=identity, auth=None)


def required_role(handler: BaseRouteHandler) -> Role:
    """A route's `opt["role"]`, else readonly for reads and staff for writes."""
    declared = handler.opt.get("role")
    if declared is not None:
        role: Role = declared
        return role
    methods: set[str] = set(getattr(handler, "http_methods", ()))
    return "readonly" if methods and methods <= READ_METHODS else "staff"


def role_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if handler.opt.get("exclude_from_auth") or connection.scope["path"].startswith("/schema"):
        return
    user = connection.scope.get("user")
    if not isinstance(user, Identity):
        raise unauthorized("credentials required")
    needed = required_role(handler)
    if not at_least(user.role, needed):
        raise PermissionDeniedException(detail=f"this needs the {needed} role; these credentials have {user.role}")
