"""Read-only requests on an asyncio connection pool: one round trip each, no worker thread.

The threaded path (db.Database, a handler with sync_to_thread) hops to a worker thread, borrows a
connection and checks it (a round trip), then sends BEGIN, the context statement, the query and
COMMIT one after the other: five round trips. Here the handler stays on the event loop and sends
all of it as one pipeline (BEGIN READ ONLY, the context statement, the query, COMMIT, one Sync),
which the server answers together.

Row-level security is unchanged: the server runs a pipeline's messages in order, so the context
statement has made the transaction act for the organisation as slotoptim_app before the query
is parsed and planned, and it ends with the transaction (all settings are transaction-local).

Connections are not checked on borrow (that would be a second round trip). A read whose connection
turns out broken (a restart left it dead) is sent again on another one: a read-only transaction may
safely run twice. Whenever the database is known to be down, the app role is not confirmed yet,
no connection is at hand within FIRST_WAIT_SECONDS, or the retry breaks too, the request takes the
threaded path, which answers 503 at once and probes for the database's return (db.Database).
`enabled=False` sends every read the threaded way (the benchmark's baseline).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import anyio.to_thread
import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from slotoptim.api.db import FIRST_WAIT_SECONDS, Database
from slotoptim.api.identity import DbContext

AsyncConn = psycopg.AsyncConnection[DictRow]
Params = Sequence[Any] | Mapping[str, Any]


class AsyncReads:
    def __init__(
        self,
        db: Database,
        *,
        max_size: int,
        enabled: bool = True,
        plan_cache_mode: str | None = None,
        prepare_threshold: int | None = 5,
    ) -> None:
        self.db = db
        self.enabled = enabled
        # prepare_threshold: psycopg's (a statement is prepared on its 5th use); None: never.
        kwargs: dict[str, Any] = {"row_factory": dict_row, "autocommit": True, "prepare_threshold": prepare_threshold}
        if plan_cache_mode is not None and plan_cache_mode != "auto":
            kwargs["options"] = f"-c plan_cache_mode={plan_cache_mode}"
        self._kwargs = kwargs
        self._max_size = max_size
        self.pool = self._new_pool()
        # The threaded pool this one was made beside: when the database comes back after an outage
        # Database replaces its pool (the old one's reconnect attempts back off ever longer), and so
        # does this one.
        self._beside = db.pool

    def _new_pool(self) -> AsyncConnectionPool[AsyncConn]:
        # No connection kept open for its own sake: an API that serves no gap analysis holds only its
        # threaded pool's connections (the connection budget in docs/scaling.md).
        return AsyncConnectionPool(
            self.db.url,
            min_size=0,
            max_size=self._max_size,
            open=False,
            name="slotoptim-api-reads",
            connection_class=AsyncConn,
            kwargs=self._kwargs,
        )

    async def open(self) -> None:
        if self.enabled:
            await self.pool.open(wait=False)

    async def close(self) -> None:
        if self.enabled:
            await self.pool.close()

    async def fetch(self, ctx: DbContext, query: str, params: Params) -> list[DictRow]:
        """The rows of one read-only query, run for the organisation of `ctx`."""
        if self.enabled and not self.db.down and self.db.app_role_confirmed:
            if self.db.pool is not self._beside:
                await self._renew()
            for _ in range(2):
                pool = self.pool  # the connection goes back to its own pool, even if renewed meanwhile
                try:
                    conn = await pool.getconn(timeout=FIRST_WAIT_SECONDS)
                except PoolTimeout:
                    break
                try:
                    return await self._pipeline(conn, ctx, query, params)
                except psycopg.OperationalError:
                    if not conn.broken:
                        raise  # the statement failed (a timeout, say), not the connection
                finally:
                    await pool.putconn(conn)
        return await anyio.to_thread.run_sync(self._threaded, ctx, query, params)

    async def _renew(self) -> None:
        self._beside = self.db.pool  # before any await: one coroutine renews
        old, self.pool = self.pool, self._new_pool()
        await self.pool.open(wait=False)
        await old.close(timeout=0)

    async def _pipeline(self, conn: AsyncConn, ctx: DbContext, query: str, params: Params) -> list[DictRow]:
        context, context_params = self.db.context_statement(ctx, app_role=True)
        async with conn.pipeline():
            await conn.execute("begin read only")
            await conn.execute(context, context_params)
            cursor = await conn.execute(query, params)
            await conn.execute("commit")
        return await cursor.fetchall()

    def _threaded(self, ctx: DbContext, query: str, params: Params) -> list[DictRow]:
        with self.db.transaction(ctx) as conn:
            return conn.execute(query, params).fetchall()
