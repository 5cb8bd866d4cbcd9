"""OIDC bearer tokens verified against a JWKS the test serves from a local HTTP server, with keys
the test generates (RS256 and ES256): issuer, audience, expiry, key rotation, claims to roles."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from litestar.testing import TestClient

from slotoptim.api.settings import OidcSettings

ISSUER = "https://login.example-idp.test/"
AUDIENCE = "https://api.clinic.example"


@dataclass
class Jwks:
    keys: dict[str, Any] = field(default_factory=dict)  # kid -> private key
    url: str = ""
    fetches: int = 0

    def add(self, kid: str, private: Any) -> None:
        self.keys[kid] = private

    def document(self) -> dict[str, Any]:
        out = []
        for kid, private in self.keys.items():
            if isinstance(private, rsa.RSAPrivateKey):
                jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True) | {"alg": "RS256"}
            else:
                jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True) | {"alg": "ES256"}
            out.append(jwk | {"kid": kid, "use": "sig"})
        return {"keys": out}

    def token(self, kid: str, claims: dict[str, Any] | None = None, **overrides: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "auth0|staff-1", "iat": now, "exp": now + 300}
        body |= {"org_key": "acme", "role": "staff"} if claims is None else claims
        body |= overrides
        private = self.keys[kid]
        alg = "RS256" if isinstance(private, rsa.RSAPrivateKey) else "ES256"
        return jwt.encode(
            {k: v for k, v in body.items() if v is not None}, private, algorithm=alg, headers={"kid": kid}
        )


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    keys = Jwks()
    keys.add("rsa-1", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    keys.add("ec-1", ec.generate_private_key(ec.SECP256R1()))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            keys.fetches += 1
            payload = json.dumps(keys.document()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    keys.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    yield keys
    server.shutdown()
    server.server_close()


def _settings(jwks: Jwks, **changes: Any) -> OidcSettings:
    return OidcSettings(jwks_url=jwks.url, issuer=ISSUER, audience=AUDIENCE, **changes)


@pytest.fixture
def oidc_client(make_client: Callable[..., TestClient[Any]], jwks: Jwks) -> TestClient[Any]:
    return make_client(oidc=_settings(jwks))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_acts_for_its_organisation_and_role(oidc_client: TestClient[Any], jwks: Jwks) -> None:
    staff = _bearer(jwks.token("rsa-1"))
    booking = {"provider": "dr-a", "service": "short", "start": "2026-11-24T09:00:00-05:00"}
    assert oidc_client.post("/v1/appointments", headers=staff, json=booking).status_code == 201
    assert oidc_client.patch("/v1/services/short", headers=staff, json={"name": "S"}).status_code == 403
    # Namespaced claims, a list of roles (the highest wins), an EC key.
    admin = _bearer(jwks.token("ec-1", {"https://slotoptim/org": "acme", "roles": ["readonly", "admin", "other"]}))
    assert oidc_client.patch("/v1/services/short", headers=admin, json={"name": "S"}).status_code == 200
    assert jwks.fetches == 1  # keys are cached


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "https://evil.example/"}, "issuer"),
        ({"aud": "https://another-api.example"}, "audience"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"exp": None}, "invalid token"),
        ({"org_key": None}, "organisation"),
        ({"org_key": "no-such-practice"}, "unknown organisation"),
    ],
)
def test_invalid_tokens_are_401(
    oidc_client: TestClient[Any], jwks: Jwks, overrides: dict[str, Any], reason: str
) -> None:
    answer = oidc_client.get("/v1/providers", headers=_bearer(jwks.token("rsa-1", **overrides)))
    assert answer.status_code == 401, answer.text
    assert reason in answer.json()["detail"]


def test_forged_and_confused_tokens_are_401(oidc_client: TestClient[Any], jwks: Jwks) -> None:
    good = jwks.token("rsa-1")
    head, body, signature = good.split(".")
    tampered = ".".join([head, body, signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")])
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    unknown_kid = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60, "org_key": "acme", "role": "admin"},
        stranger,
        algorithm="RS256",
        headers={"kid": "rsa-9"},
    )
    hmac_with_public_key = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60, "org_key": "acme", "role": "admin"},
        "not-a-public-key-but-a-shared-secret-of-length",
        algorithm="HS256",
        headers={"kid": "rsa-1"},
    )
    for token in (tampered, unknown_kid, hmac_with_public_key, "not.a.jwt"):
        assert oidc_client.get("/v1/providers", headers=_bearer(token)).status_code == 401, token


def test_a_token_without_a_role_is_403(oidc_client: TestClient[Any], jwks: Jwks) -> None:
    answer = oidc_client.get(
        "/v1/providers", headers=_bearer(jwks.token("rsa-1", {"org_key": "acme", "roles": ["nurse"]}))
    )
    assert answer.status_code == 403 and "role" in answer.json()["detail"]


def test_unknown_key_ids_do_not_hammer_the_provider(oidc_client: TestClient[Any], jwks: Jwks) -> None:
    assert oidc_client.get("/v1/providers", headers=_bearer(jwks.token("rsa-1"))).status_code == 200
    jwks.add("rsa-2", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    for _ in range(5):
        assert oidc_client.get("/v1/providers", headers=_bearer(jwks.token("rsa-2"))).status_code == 401
    assert jwks.fetches == 1  # within the refetch cooldown


def test_rotated_keys_are_fetched_again(make_client: Callable[..., TestClient[Any]], jwks: Jwks) -> None:
    client = make_client(oidc=_settings(jwks, jwks_refetch_cooldown_seconds=0.0))
    assert client.get("/v1/providers", headers=_bearer(jwks.token("rsa-1"))).status_code == 200
    jwks.add("rsa-2", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert client.get("/v1/providers", headers=_bearer(jwks.token("rsa-2"))).status_code == 200
    assert jwks.fetches == 2
