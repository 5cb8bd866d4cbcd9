"""A request's transaction, retried whole when PostgreSQL aborts it to break a tie (40001/40P01):
the caller gets an answer, not a 503 it would have to retry itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from slotoptim.api.db import Conn, Database
from slotoptim.api.identity import DbContext
from slotoptim.api.logs import log_event
from slotoptim.listener.retry import retrying

T = TypeVar("T")


def _log_retry(sqlstate: str, attempt: int) -> None:
    log_event("transaction_retried", logging.WARNING, sqlstate=sqlstate, attempt=attempt)


def in_transaction(db: Database, ctx: DbContext, work: Callable[[Conn], T]) -> T:
    """Runs `work` in one transaction for the organisation (db.transaction), again from the start
    if the database aborted it with a serialization failure or a deadlock."""

    def attempt() -> T:
        with db.transaction(ctx) as conn:
            return work(conn)

    return retrying(attempt, on_retry=_log_retry)
