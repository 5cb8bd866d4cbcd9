"""OIDC bearer tokens (Auth0, Okta, ...): signature against the provider's JWKS, then issuer,
audience and expiry.

Keys are fetched from the JWKS URL and cached for five minutes; a token signed with an unknown
`kid` triggers a refetch (at most one per 30 seconds), so key rotation needs no restart. Only
asymmetric algorithms are accepted (RS256, ES256 by default): an HMAC token "signed" with a public
key is refused before any key is used.

Claims: the organisation's key comes from the first present of `org_key`, `https://slotoptim/org`
(or the claim named by SLOTOPTIM_OIDC_ORG_CLAIM); the role from `role`, `roles`,
`https://slotoptim/role`, `https://slotoptim/roles` (or SLOTOPTIM_OIDC_ROLE_CLAIM), a string or
a list; the highest SlotOptim role named wins. A token without one is refused (403): least privilege.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import jwt

from slotoptim.api.identity import ROLE_RANK, Role
from slotoptim.api.settings import OidcSettings


class TokenRejected(Exception):
    """The token is not valid for this API; the message says why (safe to show the caller)."""


class OidcVerifier:
    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        # The key set is cached for jwks_cache_seconds, so a key the provider withdraws stops
        # working within that time (no per-kid cache that would keep it forever). An unknown kid
        # refetches at most once per cooldown, so forged kids cannot make us hammer the provider.
        options: dict[str, Any] = {"cache_keys": False, "lifespan": settings.jwks_cache_seconds, "timeout": 5}
        if "cooldown_duration" in inspect.signature(jwt.PyJWKClient).parameters:  # PyJWT >= 2.11
            options["cooldown_duration"] = settings.jwks_refetch_cooldown_seconds
        self._jwks = jwt.PyJWKClient(settings.jwks_url, **options)

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise TokenRejected("malformed bearer token") from None
        if header.get("alg") not in self.settings.algorithms:
            raise TokenRejected(f"token algorithm must be one of {', '.join(self.settings.algorithms)}")
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError:
            raise TokenRejected("the identity provider's keys could not be fetched") from None
        except (jwt.PyJWKClientError, jwt.DecodeError):
            raise TokenRejected("token signed with an unknown key") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=list(self.settings.algorithms),
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("token expired") from None
        except jwt.InvalidAudienceError:
            raise TokenRejected("token audience is not this API") from None
        except jwt.InvalidIssuerError:
            raise TokenRejected("token issuer is not trusted") from None
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(f"invalid token ({type(exc).__name__})") from None
        return claims

    def org_key(self, claims: Mapping[str, Any]) -> str | None:
        for name in self.settings.org_claims:
            value = claims.get(name)
            if isinstance(value, str) and value:
                return value
        return None

    def scopes(self, claims: Mapping[str, Any]) -> frozenset[str] | None:
        """The token's OAuth scopes (`scope`, space-separated, or `scp`, a list); None when it has none."""
        value = claims.get("scope", claims.get("scp"))
        if isinstance(value, str):
            return frozenset(value.split())
        if isinstance(value, list):
            return frozenset(v for v in value if isinstance(v, str))
        return None

    def role(self, claims: Mapping[str, Any]) -> Role | None:
        for name in self.settings.role_claims:
            value = claims.get(name)
            names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            known: list[Role] = [v for v in names if isinstance(v, str) and v in ROLE_RANK]  # type: ignore[misc]
            if known:
                return max(known, key=lambda r: ROLE_RANK[r])
        return None
