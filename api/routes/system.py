"""/healthz, /readyz and /metrics: for the load balancer and Prometheus, without credentials."""

from __future__ import annotations

import hmac
from typing import Any

import psycopg
import redis
from litestar import MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST

from slotoptim.api.metrics import Metrics
from slotoptim.api.routes.deps import Db
from slotoptim.api.schemas.system import Health, Readiness
from slotoptim.api.settings import ApiSettings

PUBLIC = {"exclude_from_auth": True}
LOOPBACK = frozenset({"127.0.0.1", "::1"})


@get(
    "/healthz",
    operation_id="health",
    summary="The process is up",
    tags=["operations"],
    opt=PUBLIC,
)
async def healthz() -> Health:
    return Health(status="ok")


def _redis_ok(client: redis.Redis | None) -> bool | None:
    if client is None:
        return None
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def _calendars_broken(db: Db) -> int | None:
    try:
        with db.owner() as conn:
            row = conn.execute(
                "select count(*) as n from slotoptim_private.external_connection"
                " where purpose = 'calendar' and state = 'broken'"
            ).fetchone()
    except psycopg.Error:
        return None
    return int(row["n"]) if row else 0


@get(
    "/readyz",
    operation_id="readiness",
    summary="The database and Redis are reachable",
    tags=["operations"],
    opt=PUBLIC,
    sync_to_thread=True,
    responses={503: ResponseSpec(data_container=Readiness, description="a dependency is unreachable")},
)
def readyz(db: Db, state: State) -> Response[Readiness]:
    database = db.ping()
    cache = _redis_ok(state.redis)
    ready = database and cache is not False
    broken = _calendars_broken(db) if database else None
    body = Readiness(status="ready" if ready else "not_ready", database=database, redis=cache, calendars_broken=broken)
    return Response(body, status_code=200 if ready else 503, media_type=MediaType.JSON)


@get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    tags=["operations"],
    opt=PUBLIC,
    media_type=CONTENT_TYPE_LATEST,
    sync_to_thread=True,
    responses={
        401: ResponseSpec(
            data_container=str, media_type=MediaType.TEXT, generate_examples=False, description="no metrics token"
        ),
        403: ResponseSpec(
            data_container=str, media_type=MediaType.TEXT, generate_examples=False, description="not loopback"
        ),
    },
)
def metrics(state: State, request: Request[Any, Any, Any]) -> Response[bytes]:
    """With SLOTOPTIM_METRICS_TOKEN: that bearer token; without: loopback clients only."""
    settings: ApiSettings = state.settings
    if settings.metrics_token is not None:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {settings.metrics_token}".encode()):
            return Response(b"metrics need the metrics token\n", status_code=401, media_type=MediaType.TEXT)
    elif (request.client.host if request.client else "") not in LOOPBACK:
        return Response(
            b"metrics are served to this machine only; set SLOTOPTIM_METRICS_TOKEN\n",
            status_code=403,
            media_type=MediaType.TEXT,
        )
    registry: Metrics = state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE_LATEST)
