"""Dependencies every route can ask for by name: `db`, `read_db` (a replica, or `db`), `reads` (read_db's
asyncio reads), `ctx` (the
caller's organisation and actor), `now` (the app's clock) and `redis_client` (None when Redis is not configured).
Handlers annotate them with the aliases below."""

from __future__ import annotations

import datetime as dt
from typing import Any

import redis
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from slotoptim.api.aioreads import AsyncReads
from slotoptim.api.auth import unauthorized
from slotoptim.api.db import Database
from slotoptim.api.identity import DbContext, Identity, context_of


def provide_db(state: State) -> Database:
    db: Database = state.db
    return db


def provide_read_db(state: State) -> Database:
    """The read replica when one is configured (SLOTOPTIM_READ_DATABASE_URL), else the primary:
    for read-only analysis that may lag the primary by the replica's replay delay."""
    db: Database = state.read_db
    return db


def provide_reads(state: State) -> AsyncReads:
    """Read-only queries on the event loop, one round trip each, on the read database (aioreads)."""
    reads: AsyncReads = state.reads
    return reads


def provide_ctx(request: Request[Any, Any, Any]) -> DbContext:
    identity = request.scope.get("user")
    if not isinstance(identity, Identity):
        raise unauthorized("credentials required")
    return context_of(identity, request.client.host if request.client else None)


def provide_now(state: State) -> dt.datetime:
    now: dt.datetime = state.clock()
    return now


def provide_redis(state: State) -> redis.Redis | None:
    client: redis.Redis | None = state.redis
    return client


DEPENDENCIES = {
    "db": Provide(provide_db, sync_to_thread=False),
    "read_db": Provide(provide_read_db, sync_to_thread=False),
    "reads": Provide(provide_reads, sync_to_thread=False),
    "ctx": Provide(provide_ctx, sync_to_thread=False),
    "now": Provide(provide_now, sync_to_thread=False),
    "redis_client": Provide(provide_redis, sync_to_thread=False),
}

Db = NamedDependency[Database]
ReadDb = NamedDependency[Database]
Reads = NamedDependency[AsyncReads]
Ctx = NamedDependency[DbContext]
Now = NamedDependency[dt.datetime]
RedisClient = NamedDependency[redis.Redis | None]
