"""What the HTTP API needs to run, read from the environment (or built by tests).

| variable | meaning |
| --- | --- |
| `DATABASE_URL`, `REDIS_URL` | as for the rest of SlotOptim (embedded servers when unset) |
| `SLOTOPTIM_PUBLIC_URL` | the public base URL (scheme, host, optional path prefix) Twilio calls |
| `TWILIO_AUTH_TOKEN` | the primary auth token that signs Twilio's webhooks; unset: webhooks refused |
| `SLOTOPTIM_OIDC_JWKS_URL`, `..._ISSUER`, `..._AUDIENCE` | OIDC bearer tokens (all three, or none) |
| `SLOTOPTIM_OIDC_ORG_CLAIM`, `..._ROLE_CLAIM` | extra claim names for the organisation key and the role |
| `SLOTOPTIM_API_POOL_SIZE` | the most database connections the API holds (default 10) |
| `SLOTOPTIM_READ_DATABASE_URL` | a streaming replica for read-only analysis (`/v1/gaps/analyze`); unset: the primary |
| `SLOTOPTIM_API_ASYNC_READS` | no: gap analysis on the threaded path (default yes: asyncio, one round trip) |
| `SLOTOPTIM_API_PLAN_CACHE_MODE` | plan_cache_mode of the asyncio reads (default force_generic_plan; auto) |
| `SLOTOPTIM_METRICS_TOKEN` | bearer token Prometheus sends to read /metrics (unset: loopback clients only) |
| `SLOTOPTIM_METRICS_PER_ORG` | yes: engine metrics labelled by organisation key (default: one total) |
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from slotoptim.listener.config import ConfigError


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Where an OIDC token names the organisation (its key) and the role; the first claim present wins.
DEFAULT_ORG_CLAIMS = ("org_key", "https://slotoptim/org")
DEFAULT_ROLE_CLAIMS = ("role", "roles", "https://slotoptim/role", "https://slotoptim/roles")


@dataclass(frozen=True)
class OidcSettings:
    jwks_url: str
    issuer: str
    audience: str
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    org_claims: tuple[str, ...] = DEFAULT_ORG_CLAIMS
    role_claims: tuple[str, ...] = DEFAULT_ROLE_CLAIMS
    leeway_seconds: int = 30
    jwks_cache_seconds: int = 300
    jwks_refetch_cooldown_seconds: float = 30.0


@dataclass(frozen=True)
class ApiSettings:
    database_url: str
    # None: no Redis at all (claims stay correct: the database decides).
    redis_url: str | None = None
    # A streaming read replica for read-only analysis, which may lag the primary (docs/scaling.md);
    # None: everything reads the primary. Writes, claims and the engine never use it.
    read_database_url: str | None = None
    public_url: str | None = None
    twilio_auth_token: str | None = None
    oidc: OidcSettings | None = None
    pool_min: int = 1
    pool_max: int = 10
    # /metrics: with a token, only `Authorization: Bearer <token>` may read it; without one, only
    # clients on this machine (loopback). Organisation labels only when asked for.
    metrics_token: str | None = None
    metrics_per_org: bool = False
    # Refuse to serve (503) when the row-level-security role slotoptim_app is missing, rather than
    # run requests as the database owner, which row-level security does not restrict.
    require_app_role: bool = True
    # Read-only hot paths (GET /v1/gaps/analyze) on an asyncio pool in one round trip; off: the
    # threaded path, as every other route (the benchmark's baseline).
    async_reads: bool = True
    # plan_cache_mode of those reads' connections. Generic plans: the same statements thousands of
    # times, and SQL functions planned once per connection, not per call (tests/bench/api_bench.py
    # measured 0.5-0.7x the database time and 1.2-1.4x the requests per second of auto).
    read_plan_cache_mode: str = "force_generic_plan"
    # Time is a parameter: tests and simulations drive it.
    clock: Callable[[], dt.datetime] = field(default=utc_now)


class SettingsError(ConfigError):
    """A configuration problem; the message names the variable."""


def oidc_from_env(env: Mapping[str, str]) -> OidcSettings | None:
    names = ("SLOTOPTIM_OIDC_JWKS_URL", "SLOTOPTIM_OIDC_ISSUER", "SLOTOPTIM_OIDC_AUDIENCE")
    values = [env.get(n, "").strip() for n in names]
    if not any(values):
        return None
    missing = [n for n, v in zip(names, values, strict=True) if not v]
    if missing:
        raise SettingsError(f"{', '.join(missing)}: OIDC needs the JWKS URL, the issuer and the audience")
    extra_org = tuple(c for c in [env.get("SLOTOPTIM_OIDC_ORG_CLAIM", "").strip()] if c)
    extra_role = tuple(c for c in [env.get("SLOTOPTIM_OIDC_ROLE_CLAIM", "").strip()] if c)
    return OidcSettings(
        jwks_url=values[0],
        issuer=values[1],
        audience=values[2],
        org_claims=extra_org + DEFAULT_ORG_CLAIMS,
        role_claims=extra_role + DEFAULT_ROLE_CLAIMS,
    )


def settings_from_env(env: Mapping[str, str] | None = None) -> ApiSettings:
    """The settings of a deployed API; starts the embedded servers when no URLs are given."""
    from slotoptim.listener.cache import redis_url
    from slotoptim.listener.db import database_url

    env = os.environ if env is None else env
    pool = env.get("SLOTOPTIM_API_POOL_SIZE", "10")
    if not pool.isdigit() or not 1 <= int(pool) <= 200:
        raise SettingsError(f"SLOTOPTIM_API_POOL_SIZE: {pool!r} is not a number between 1 and 200")
    return ApiSettings(
        database_url=database_url(),
        redis_url=redis_url(),
        read_database_url=env.get("SLOTOPTIM_READ_DATABASE_URL") or None,
        public_url=env.get("SLOTOPTIM_PUBLIC_URL") or None,
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
        oidc=oidc_from_env(env),
        pool_max=int(pool),
        metrics_token=env.get("SLOTOPTIM_METRICS_TOKEN") or None,
        metrics_per_org=_yes(env, "SLOTOPTIM_METRICS_PER_ORG"),
        async_reads=not _no(env, "SLOTOPTIM_API_ASYNC_READS"),
        read_plan_cache_mode=_plan_cache_mode(env, ApiSettings.read_plan_cache_mode),
    )


def _no(env: Mapping[str, str], name: str) -> bool:
    """True only when the variable says no (it defaults to yes)."""
    return env.get(name, "").strip() != "" and not _yes(env, name)


PLAN_CACHE_MODES = ("auto", "force_generic_plan", "force_custom_plan")


def _plan_cache_mode(env: Mapping[str, str], default: str) -> str:
    value = env.get("SLOTOPTIM_API_PLAN_CACHE_MODE", "").strip() or default
    if value not in PLAN_CACHE_MODES:
        raise SettingsError(f"SLOTOPTIM_API_PLAN_CACHE_MODE: {value!r} is not one of {', '.join(PLAN_CACHE_MODES)}")
    return value


def _yes(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}: {value!r} is not yes or no")
