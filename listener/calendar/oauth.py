"""OAuth 2.0 authorization code with PKCE (RFC 7636, S256) for Google and Microsoft calendars.

The flow keeps no server-side state: the `state` parameter is an AES-GCM sealed, expiring
envelope (same key as connection secrets) holding the organisation, provider, calendar and the
PKCE verifier. The browser carries it, cannot read it, and cannot alter it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets as pysecrets
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from slotoptim.listener.calendar import endpoints
from slotoptim.listener.integrations import secrets
from slotoptim.listener.integrations.errors import ConnectionBroken, PermanentError, TransientError

STATE_CONTEXT = b"slotoptim-oauth-state"
STATE_LIFETIME = dt.timedelta(minutes=15)


class OAuthError(ValueError):
    """The callback is not one we can accept (expired, forged, refused by the user)."""


@dataclass(frozen=True)
class Grant:
    org_id: int
    provider_id: int
    kind: str
    calendar_id: str
    secret_values: dict[str, str]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def challenge(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode()).digest())


def _microsoft_base() -> str:
    return f"{endpoints.microsoft_login()}/{os.environ.get('MICROSOFT_TENANT', 'common')}/oauth2/v2.0"


def authorize_url(kind: str) -> str:
    return endpoints.google_authorize_url() if kind == "google" else f"{_microsoft_base()}/authorize"


def token_url(kind: str) -> str:
    return endpoints.google_token_url() if kind == "google" else f"{_microsoft_base()}/token"


def start(org_id: int, provider_id: int, kind: str, calendar_id: str, redirect_uri: str, now: dt.datetime) -> str:
    """The URL to send the practice's browser to for consent."""
    if kind not in ("google", "microsoft"):
        raise OAuthError(f"kind must be google or microsoft, not {kind!r}")
    verifier = _b64(pysecrets.token_bytes(48))
    envelope = {
        "org": org_id,
        "provider": provider_id,
        "kind": kind,
        "calendar": calendar_id,
        "verifier": verifier,
        "exp": int((now + STATE_LIFETIME).timestamp()),
    }
    sealed = secrets.seal({"v": json.dumps(envelope)}, STATE_CONTEXT)
    state = _b64(sealed.key_id.encode() + b"." + sealed.ciphertext)
    params = {
        "response_type": "code",
        "client_id": endpoints.client_id(kind),
        "redirect_uri": redirect_uri,
        "scope": endpoints.GOOGLE_SCOPE if kind == "google" else endpoints.MICROSOFT_SCOPES,
        "state": state,
        "code_challenge": challenge(verifier),
        "code_challenge_method": "S256",
    }
    if kind == "google":
        # A refresh token is only issued with offline access, and again only on a fresh consent.
        params |= {"access_type": "offline", "prompt": "consent"}
    return f"{authorize_url(kind)}?{urlencode(params)}"


def read_state(state: str, now: dt.datetime) -> dict[str, object]:
    try:
        raw = _unb64(state)
        key_id, _, ciphertext = raw.partition(b".")
        envelope = json.loads(secrets.unseal(ciphertext, key_id.decode(), STATE_CONTEXT)["v"])
    except (ValueError, KeyError, UnicodeDecodeError, secrets.SecretKeyError):
        raise OAuthError("state is not valid") from None
    if int(envelope["exp"]) < now.timestamp():
        raise OAuthError("state has expired: start the connection again")
    return dict(envelope)


def finish(code: str, state: str, redirect_uri: str, now: dt.datetime, client: httpx.Client | None = None) -> Grant:
    """Exchanges the code (with the PKCE verifier) for tokens."""
    envelope = read_state(state, now)
    kind = str(envelope["kind"])
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": endpoints.client_id(kind),
        "client_secret": endpoints.client_secret(kind),
        "code_verifier": str(envelope["verifier"]),
    }
    if kind == "microsoft":
        form["scope"] = endpoints.MICROSOFT_SCOPES
    http = client or httpx.Client(timeout=30)
    try:
        response = http.post(token_url(kind), data=form)
    except httpx.TransportError as exc:
        raise TransientError(f"{kind} token endpoint unreachable: {type(exc).__name__}") from None
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200:
        error = str(body.get("error") or response.status_code)
        if error == "invalid_grant":
            raise ConnectionBroken(f"{kind} refused the code: invalid_grant")
        raise PermanentError(f"{kind} token endpoint answered {error}")
    if not body.get("refresh_token"):
        raise PermanentError(f"{kind} issued no refresh token (offline access not granted)")
    expiry = now + dt.timedelta(seconds=int(body.get("expires_in") or 0))
    return Grant(
        org_id=int(str(envelope["org"])),
        provider_id=int(str(envelope["provider"])),
        kind=kind,
        calendar_id=str(envelope["calendar"]),
        secret_values={
            "refresh_token": str(body["refresh_token"]),
            "access_token": str(body.get("access_token") or ""),
            "expiry": expiry.isoformat(),
        },
    )
