"""Retry delays: exponential with full jitter, never sooner than the system's Retry-After."""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class BackoffPolicy:
    base_seconds: float = 2.0
    cap_seconds: float = 900.0


def delay(attempt: int, retry_after: float | None, rng: random.Random, policy: BackoffPolicy | None = None) -> float:
    """Seconds to wait before attempt `attempt + 1` (attempt counts from 1)."""
    policy = policy or BackoffPolicy()
    ceiling = min(policy.cap_seconds, policy.base_seconds * 2 ** max(attempt - 1, 0))
    # Full jitter spreads the retries of many connections hit by one outage.
    return max(retry_after or 0.0, rng.uniform(0, ceiling))


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())
