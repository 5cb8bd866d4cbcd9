"""The Litestar application: `create_app(settings)`.

JSON API under /v1 (API keys or OIDC bearer tokens, roles readonly < staff < admin), Twilio
webhooks under /webhooks (signed by Twilio), /healthz, /readyz, /metrics, and the OpenAPI 3.1
description generated from the code at /schema (/schema/openapi.json).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import redis
from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from slotoptim.api.aioreads import AsyncReads
from slotoptim.api.auth import AuthenticationMiddleware, Authenticator, role_guard
from slotoptim.api.db import Database
from slotoptim.api.errors import EXCEPTION_HANDLERS
from slotoptim.api.frontdoor import front_door
from slotoptim.api.keycache import ApiKeyCache
from slotoptim.api.metrics import Metrics
from slotoptim.api.middleware import check_request, request_metrics
from slotoptim.api.oidc import OidcVerifier
from slotoptim.api.openapi import document, openapi_config
from slotoptim.api.queue_hub import QueueHub
from slotoptim.api.request_id import request_ids
from slotoptim.api.routes import ROUTES
from slotoptim.api.routes.deps import DEPENDENCIES
from slotoptim.api.routes.queue_pages import board_for
from slotoptim.api.schema_ui import asset_routers
from slotoptim.api.settings import ApiSettings, utc_now

TEMPLATES = Path(__file__).parent / "templates"
# Paths the authentication middleware skips (routes also opt out with exclude_from_auth).
PUBLIC_PATHS = ["^/schema", "^/assets/"]


def create_app(settings: ApiSettings) -> Litestar:
    db = Database(
        settings.database_url,
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        require_app_role=settings.require_app_role,
        clock=None if settings.clock is utc_now else settings.clock,
    )
    read_db = (
        db
        if settings.read_database_url is None
        else Database(
            settings.read_database_url,
            min_size=settings.pool_min,
            max_size=settings.pool_max,
            require_app_role=settings.require_app_role,
            clock=None if settings.clock is utc_now else settings.clock,
        )
    )
    # Read-only requests on the event loop, one round trip each (aioreads).
    reads = AsyncReads(
        read_db,
        max_size=settings.pool_max,
        enabled=settings.async_reads,
        plan_cache_mode=settings.read_plan_cache_mode,
    )
    cache = (
        None
        if settings.redis_url is None
        else redis.Redis.from_url(settings.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    )
    oidc = None if settings.oidc is None else OidcVerifier(settings.oidc)
    # API keys proven in the last few seconds; emptied on any key change (NOTIFY).
    keys = ApiKeyCache(settings.database_url)
    # The process's one LISTEN connection for the live queue pages.
    hub = QueueHub(settings.database_url, lambda topic: board_for(db, topic, settings.clock()))
    state = State(
        {
            "settings": settings,
            "db": db,
            "read_db": read_db,
            "reads": reads,
            "redis": cache,
            "clock": settings.clock,
            "metrics": Metrics(db, per_org=settings.metrics_per_org),
            "authenticator": Authenticator(db, oidc, keys),
            "queue_hub": hub,
        }
    )

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        db.open()
        keys.start()
        await hub.start()
        if read_db is not db:
            read_db.open()
        await reads.open()
        try:
            yield
        finally:
            await reads.close()
            if read_db is not db:
                read_db.close()
            await hub.stop()
            keys.stop()
            db.close()
            if cache is not None:
                cache.close()

    app = Litestar(
        route_handlers=[*ROUTES, *asset_routers()],
        state=state,
        lifespan=[lifespan],
        dependencies=DEPENDENCIES,
        guards=[role_guard],
        before_request=check_request,
        # request_ids first (outermost): every answer carries the id, every log line of the request too.
        middleware=[
            request_ids,
            front_door(settings.public_url),
            request_metrics,
            DefineMiddleware(AuthenticationMiddleware, exclude=PUBLIC_PATHS),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(),
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        logging_config=None,
        debug=False,
    )
    document(app)  # build and refine the OpenAPI description now, not on the first request
    return app
