"""SMART Backend Services (the client-credentials grant with a signed JWT client assertion).

We hold a private key (a JWK, RS384 or ES384) and publish its public half as a JWKS the EHR
registers for our client id. To get an access token we POST grant_type=client_credentials with a
short-lived assertion {iss = sub = client id, aud = token URL, jti, exp <= 5 min} signed with the
key. Tokens are cached until shortly before they expire. A refused assertion (invalid_client,
invalid_grant) is an `EhrAuthError`: the connection must be marked broken and shown to staff
(a silent stop is how calendar integrations lose bookings), not retried forever.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ALGORITHMS = ("RS384", "ES384")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_SECONDS = 300
REFRESH_MARGIN_SECONDS = 30


class EhrAuthError(Exception):
    """The EHR refused our credentials (the message is its error code and description)."""


class EhrUnavailable(Exception):
    """The token endpoint could not be reached or answered 5xx/429: retry later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def generate_key(alg: str = "RS384", kid: str | None = None) -> dict[str, Any]:
    """A new private JWK for `alg`, with kid and alg set."""
    if alg not in ALGORITHMS:
        raise ValueError(f"alg must be one of {', '.join(ALGORITHMS)}")
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if alg == "RS384":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private))
    else:
        private = ec.generate_private_key(ec.SECP384R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private))
    jwk.update({"kid": kid or secrets.token_hex(8), "alg": alg, "use": "sig"})
    return dict(jwk)


def public_jwks(private_jwk: dict[str, Any]) -> dict[str, Any]:
    """The JWKS (public keys only) to register with the EHR."""
    private_fields = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
    public = {k: v for k, v in private_jwk.items() if k not in private_fields}
    public["key_ops"] = ["verify"]
    return {"keys": [public]}


@dataclass(frozen=True)
class BackendCredentials:
    token_url: str
    client_id: str
    private_jwk: dict[str, Any]
    scope: str = "system/*.read system/Appointment.write"

    @property
    def alg(self) -> str:
        alg = str(self.private_jwk.get("alg", ""))
        if alg not in ALGORITHMS:
            raise EhrAuthError(f"the private key's alg must be one of {', '.join(ALGORITHMS)}, not {alg!r}")
        return alg

    def assertion(self, now: float) -> str:
        key = jwt.PyJWK(self.private_jwk, algorithm=self.alg).key
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "jti": str(uuid.uuid4()),
            "iat": int(now),
            "exp": int(now) + ASSERTION_SECONDS,
        }
        return jwt.encode(claims, key, algorithm=self.alg, headers={"kid": str(self.private_jwk["kid"])})


@dataclass
class TokenSource:
    """Access tokens for one connection, fetched when needed and cached until near expiry.
    The clock is wall time: token lifetimes are the EHR's, not the simulation's."""

    credentials: BackendCredentials
    http: httpx.Client
    _token: str | None = None
    _expires: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def token(self) -> str:
        with self._lock:
            now = time.time()
            if self._token is None or now >= self._expires - REFRESH_MARGIN_SECONDS:
                self._token, lifetime = self._fetch(now)
                self._expires = now + lifetime
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self, now: float) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "scope": self.credentials.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.credentials.assertion(now),
        }
        try:
            response = self.http.post(self.credentials.token_url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise EhrUnavailable(f"token endpoint unreachable: {type(exc).__name__}") from None
        if response.status_code == 429 or response.status_code >= 500:
            retry = response.headers.get("Retry-After")
            raise EhrUnavailable(
                f"token endpoint answered {response.status_code}", float(retry) if retry and retry.isdigit() else None
            )
        try:
            body = response.json()
        except ValueError:
            raise EhrAuthError(f"token endpoint answered {response.status_code} without JSON") from None
        if response.status_code != 200 or "access_token" not in body:
            error = body.get("error", response.status_code)
            raise EhrAuthError(f"{error}: {body.get('error_description', 'token refused')}")
        return str(body["access_token"]), float(body.get("expires_in", 300))
