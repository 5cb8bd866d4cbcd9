"""Database access for requests: a connection pool, and a transaction that knows its tenant.

Every request runs in one transaction that first names the organisation and the actor
(`slotoptim.org_id`, `slotoptim.actor`, transaction-local) and then drops to the role
`slotoptim_app`, which row-level security confines to that organisation's rows. A bug in Python
can then not read or change another organisation's data. The pool connects as the database owner,
which row-level security does not restrict; owner transactions (`owner()`) are kept to what must
happen before the organisation is known: finding an API key, routing a webhook, health checks.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from slotoptim.api.identity import DbContext
from slotoptim.api.logs import log_event

Conn = psycopg.Connection[DictRow]

APP_ROLE = "slotoptim_app"
_SET_CONTEXT = "select set_config('slotoptim.org_id', %s, {local}), set_config('slotoptim.actor', %s, {local})"
SET_CONTEXT_LOCAL = _SET_CONTEXT.format(local="true")
SET_CONTEXT_SESSION = _SET_CONTEXT.format(local="false")
# A request's statements may not run longer than this (57014 becomes a 503).
STATEMENT_TIMEOUT = "set local statement_timeout = '15s'"
_ROLE_RECHECK_SECONDS = 30.0
SET_LOCAL_ROLE = sql.SQL("set local role {}").format(sql.Identifier(APP_ROLE))
SET_SESSION_ROLE = sql.SQL("set role {}").format(sql.Identifier(APP_ROLE))


class AppRoleMissing(RuntimeError):
    """The database has no slotoptim_app role: it is not migrated to the tenant-isolation revision."""


class Database:
    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        require_app_role: bool = True,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            name="slotoptim-api",
            timeout=10.0,
            connection_class=Conn,
            kwargs={"row_factory": dict_row},
        )
        self.require_app_role = require_app_role
        # A driven clock (tests, simulations): triggers read it through slotoptim.clock.
        self.clock = clock
        self._app_role = False
        self._role_checked_at = -_ROLE_RECHECK_SECONDS
        self._warned = False

    def open(self) -> None:
        self.pool.open(wait=False)

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def transaction(self, ctx: DbContext) -> Iterator[Conn]:
        """One transaction as the organisation's application role; commits when the block ends."""
        with self.pool.connection() as conn, conn.transaction():
            self.enter_organisation(conn, ctx)
            yield conn

    @contextmanager
    def session(self, ctx: DbContext) -> Iterator[Conn]:
        """An autocommit connection with the same context, for flows that commit more than once
        (a claim: the booking commits before the Redis hold is released). Reset on the way out."""
        with self.pool.connection() as conn:
            conn.autocommit = True
            try:
                conn.execute(SET_CONTEXT_SESSION, (str(ctx.org_id), ctx.actor.as_json()))
                if self.clock is not None:
                    conn.execute("select set_config('slotoptim.clock', %s, false)", (self.clock().isoformat(),))
                if self._use_app_role(conn):
                    conn.execute(SET_SESSION_ROLE)
                yield conn
            finally:
                if not conn.closed:
                    conn.execute("reset role")
                    conn.execute(SET_CONTEXT_SESSION, ("", ""))
                    conn.execute("select set_config('slotoptim.clock', '', false)")
                    conn.autocommit = False

    @contextmanager
    def owner(self) -> Iterator[Conn]:
        """One transaction as the database owner, before any organisation is known."""
        with self.pool.connection() as conn, conn.transaction():
            yield conn

    def enter_organisation(self, conn: Conn, ctx: DbContext) -> None:
        """Inside an owner() transaction: from here on, act for one organisation as the
        application role (used once a webhook has been routed)."""
        conn.execute(SET_CONTEXT_LOCAL, (str(ctx.org_id), ctx.actor.as_json()))
        conn.execute(STATEMENT_TIMEOUT)
        if self.clock is not None:
            conn.execute("select set_config('slotoptim.clock', %s, true)", (self.clock().isoformat(),))
        if self._use_app_role(conn):
            conn.execute(SET_LOCAL_ROLE)

    def leave_organisation(self, conn: Conn) -> None:
        """Back to the owner, acting for no organisation (the actor stays for the audit trail)."""
        conn.execute("reset role")
        conn.execute("select set_config('slotoptim.org_id', '', true)")

    def ping(self) -> bool:
        try:
            with self.pool.connection(timeout=2.0) as conn:
                conn.execute("select 1")
            return True
        except Exception:  # any failure means "not ready"
            return False

    def _use_app_role(self, conn: Conn) -> bool:
        if self._app_role:
            return True
        now = time.monotonic()
        if now - self._role_checked_at >= _ROLE_RECHECK_SECONDS:
            row = conn.execute("select exists (select 1 from pg_roles where rolname = %s) as found", (APP_ROLE,))
            found: Any = row.fetchone()
            self._app_role = bool(found and found["found"])
            # Only now: a concurrent request that sees a fresh check must also see its answer (the
            # first burst of requests after a start got 503s; tests/py/scaleout found it).
            self._role_checked_at = now
        if self._app_role:
            return True
        if self.require_app_role:
            raise AppRoleMissing(f"role {APP_ROLE} does not exist: run `slotoptim migrate`")
        if not self._warned:
            self._warned = True
            log_event("app_role_missing", logging.WARNING, role=APP_ROLE, effect="row-level security not applied")
        return False
