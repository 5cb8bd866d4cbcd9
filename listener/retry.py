"""Retrying a whole transaction that PostgreSQL aborted to break a tie: a serialization failure
(40001) or a deadlock (40P01). Each attempt must be the complete transaction, so that nothing of a
failed attempt survives; after a few attempts the error goes to the caller (the API answers 503).

Locks are taken in one order on every booking path (gap, then campaign, then offers: see
slotoptim_private.lock_gaps_for_write), so a deadlock should not happen at all; the retry keeps
a customer from seeing one if a path is ever missed.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

import psycopg

T = TypeVar("T")

RETRYABLE_STATES = frozenset({"40001", "40P01"})
ATTEMPTS = 4

_lock = threading.Lock()
_retries: Counter[str] = Counter()


def retries() -> dict[str, int]:
    """Retries made in this process so far, by SQLSTATE."""
    with _lock:
        return dict(_retries)


def retrying(
    attempt: Callable[[], T],
    *,
    attempts: int = ATTEMPTS,
    on_retry: Callable[[str, int], None] | None = None,
) -> T:
    """Runs `attempt` (one whole transaction) until it does not end in 40001/40P01, at most
    `attempts` times."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except psycopg.Error as exc:
            state = exc.sqlstate or ""
            if state not in RETRYABLE_STATES or number == attempts:
                raise
            with _lock:
                _retries[state] += 1
            if on_retry is not None:
                on_retry(state, number)
            # A short random pause: the transactions that collided must not meet in step again.
            time.sleep(random.uniform(0.0, 0.005 * 2**number))
    raise AssertionError("unreachable")
