"""Database access for requests: a connection pool, and a transaction that knows its tenant.

Every request runs in one transaction that first names the organisation and the actor
(`slotoptim.org_id`, `slotoptim.actor`, transaction-local) and then drops to the role
`slotoptim_app`, which row-level security confines to that organisation's rows. A bug in Python
can then not read or change another organisation's data. The pool connects as the database owner,
which row-level security does not restrict; owner transactions (`owner()`) are kept to what must
happen before the organisation is known: finding an API key, routing a webhook, health checks.

When the database is down a request must hear so at once (503), not after the pool's 10 s wait.
A borrow waits half a second; if no connection came, a direct connection attempt tells a busy
pool (wait on) from a database that does not answer (DatabaseUnavailable, 503). While it is known
to be down, requests fail at once and one probe a second looks for its return; once it is back the
pool is replaced, because the old pool's reconnect attempts back off for longer and longer.
Connections are checked on borrow, so the dead ones a restart leaves in the pool are discarded
instead of failing a request.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from slotoptim.api.identity import DbContext
from slotoptim.api.logs import log_event

Conn = psycopg.Connection[DictRow]

APP_ROLE = "slotoptim_app"
_SET_CONTEXT = "select set_config('slotoptim.org_id', %s, {local}), set_config('slotoptim.actor', %s, {local})"
SET_CONTEXT_SESSION = _SET_CONTEXT.format(local="false")
# A request's statements may not run longer than this (57014 becomes a 503).
STATEMENT_TIMEOUT_VALUE = "15s"
_ROLE_RECHECK_SECONDS = 30.0
SET_SESSION_ROLE = sql.SQL("set role {}").format(sql.Identifier(APP_ROLE))


# A borrow waits this long before asking whether the database answers at all.
FIRST_WAIT_SECONDS = 0.5
POOL_TIMEOUT_SECONDS = 10.0
# While the database is known to be down, one request a second probes for its return.
PROBE_EVERY_SECONDS = 1.0
PROBE_CONNECT_TIMEOUT = 1


class AppRoleMissing(RuntimeError):
    """The database has no slotoptim_app role: it is not migrated to the tenant-isolation revision."""


class DatabaseUnavailable(PoolTimeout):
    """The database does not answer (down, restarting, unreachable): a 503, at once."""


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
        self.url = url
        self._sizes = (min_size, max_size)
        self.pool = self._new_pool()
        self._state_lock = threading.Lock()
        self._down_since: float | None = None
        self._probed_at = 0.0
        self.require_app_role = require_app_role
        # A driven clock (tests, simulations): triggers read it through slotoptim.clock.
        self.clock = clock
        self._app_role = False
        self._role_checked_at = -_ROLE_RECHECK_SECONDS
        self._role_lock = threading.Lock()
        self._warned = False

    def _new_pool(self) -> ConnectionPool[Conn]:
        min_size, max_size = self._sizes
        return ConnectionPool(
            self.url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            name="slotoptim-api",
            timeout=POOL_TIMEOUT_SECONDS,
            connection_class=Conn,
            kwargs={"row_factory": dict_row},
            check=ConnectionPool.check_connection,
        )

    def open(self) -> None:
        self.pool.open(wait=False)

    def close(self) -> None:
        self.pool.close()

    @property
    def down(self) -> bool:
        """True while the database is known not to answer."""
        return self._down_since is not None

    def _answers(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=PROBE_CONNECT_TIMEOUT):
                return True
        except psycopg.OperationalError:
            return False

    def _borrow(self) -> tuple[ConnectionPool[Conn], Conn]:
        """A connection and the pool to give it back to (the pool may be replaced meanwhile)."""
        pool = self.pool
        if self._down_since is None:
            try:
                return pool, pool.getconn(timeout=FIRST_WAIT_SECONDS)
            except PoolTimeout:
                pass
            if self._answers():
                return pool, pool.getconn(timeout=POOL_TIMEOUT_SECONDS - FIRST_WAIT_SECONDS)  # busy, not down
            with self._state_lock:
                if self._down_since is None:
                    self._down_since = self._probed_at = time.monotonic()
                    log_event("database_unavailable", logging.WARNING)
            raise DatabaseUnavailable("the database does not answer")
        with self._state_lock:
            probe = time.monotonic() - self._probed_at >= PROBE_EVERY_SECONDS
            if probe:
                self._probed_at = time.monotonic()
        if not probe or not self._answers():
            raise DatabaseUnavailable("the database does not answer")
        with self._state_lock:
            if self._down_since is not None:
                # Back: a fresh pool connects now; the old one's attempts may be far apart by now.
                log_event("database_back", logging.WARNING, seconds_down=round(time.monotonic() - self._down_since, 1))
                old, self.pool = self.pool, self._new_pool()
                self.pool.open(wait=False)
                old.close(timeout=0)
                self._down_since = None
            pool = self.pool
        return pool, pool.getconn(timeout=POOL_TIMEOUT_SECONDS)

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        """A pooled connection, or DatabaseUnavailable within about a second when the database
        does not answer (the pool's own wait is 10 s). Like ConnectionPool.connection()."""
        pool, conn = self._borrow()
        try:
            with conn:
                yield conn
        finally:
            pool.putconn(conn)

    @contextmanager
    def transaction(self, ctx: DbContext) -> Iterator[Conn]:
        """One transaction as the organisation's application role; commits when the block ends."""
        with self.connection() as conn, conn.transaction():
            self.enter_organisation(conn, ctx)
            yield conn

    @contextmanager
    def session(self, ctx: DbContext) -> Iterator[Conn]:
        """An autocommit connection with the same context, for flows that commit more than once
        (a claim: the booking commits before the Redis hold is released). Reset on the way out."""
        with self.connection() as conn:
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
        with self.connection() as conn, conn.transaction():
            yield conn

    def enter_organisation(self, conn: Conn, ctx: DbContext) -> None:
        """Inside an owner() transaction: from here on, act for one organisation as the
        application role (used once a webhook has been routed)."""
        statement, params = self.context_statement(ctx, app_role=self._use_app_role(conn))
        conn.execute(statement, params)

    def context_statement(self, ctx: DbContext, *, app_role: bool) -> tuple[str, list[str]]:
        """The one statement that enters the organisation inside a transaction, and its parameters.
        One round trip (there were four): the organisation, the actor, the statement timeout, the
        clock and the role, all transaction-local. set_config('role', ...) is SET LOCAL ROLE."""
        settings = [
            "set_config('slotoptim.org_id', %s, true)",
            "set_config('slotoptim.actor', %s, true)",
            f"set_config('statement_timeout', '{STATEMENT_TIMEOUT_VALUE}', true)",
        ]
        params = [str(ctx.org_id), ctx.actor.as_json()]
        if self.clock is not None:
            settings.append("set_config('slotoptim.clock', %s, true)")
            params.append(self.clock().isoformat())
        if app_role:
            settings.append(f"set_config('role', '{APP_ROLE}', true)")
        return "select " + ", ".join(settings), params

    @property
    def app_role_confirmed(self) -> bool:
        """True once a connection has seen the role slotoptim_app (checked by the threaded path)."""
        return self._app_role

    def leave_organisation(self, conn: Conn) -> None:
        """Back to the owner, acting for no organisation (the actor stays for the audit trail)."""
        conn.execute("reset role")
        conn.execute("select set_config('slotoptim.org_id', '', true)")

    def ping(self) -> bool:
        try:
            with self.connection() as conn:
                conn.execute("select 1")
            return True
        except Exception:  # any failure means "not ready"
            return False

    def _use_app_role(self, conn: Conn) -> bool:
        if self._app_role:
            return True
        # One check at a time: without the lock, a request arriving while the first one was still
        # checking skipped the check and saw "no role" (AppRoleMissing, a 500 right after start).
        with self._role_lock:
            now = time.monotonic()
            if not self._app_role and now - self._role_checked_at >= _ROLE_RECHECK_SECONDS:
                row = conn.execute("select exists (select 1 from pg_roles where rolname = %s) as found", (APP_ROLE,))
                found: Any = row.fetchone()
                self._app_role = bool(found and found["found"])
                self._role_checked_at = now
        if self._app_role:
            return True
        if self.require_app_role:
            raise AppRoleMissing(f"role {APP_ROLE} does not exist: run `slotoptim migrate`")
        if not self._warned:
            self._warned = True
            log_event("app_role_missing", logging.WARNING, role=APP_ROLE, effect="row-level security not applied")
        return False
