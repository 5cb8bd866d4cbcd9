"""The learning work the service runs beside the fill engine, in a thread of its own so it never
delays an offer: no-show risk for new bookings (every minute) and the nightly jobs (train, score,
forecast, learn buffers). Both need the `[ml]` extra; without it they are skipped, said once.

Several replicas may run this: the nightly run takes an advisory lock and is skipped when a
no-show model was trained in the last 20 hours (another replica did it).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import threading
from collections.abc import Callable
from typing import Any

import psycopg

from slotoptim.listener.engine import log

NIGHTLY_LOCK = 0x5107_0072
UPCOMING_UNSCORED = """
select id from slotoptim_private.appointment
 where no_show_risk is null and status in ('booked', 'confirmed') and lower(period) > %s
 order by booked_at desc limit 500"""


def ml_available() -> bool:
    return importlib.util.find_spec("xgboost") is not None and importlib.util.find_spec("pandas") is not None


def next_nightly(now: dt.datetime, at_utc: dt.time) -> dt.datetime:
    candidate = dt.datetime.combine(now.astimezone(dt.UTC).date(), at_utc, tzinfo=dt.UTC)
    return candidate if candidate > now else candidate + dt.timedelta(days=1)


class LearningLoop:
    def __init__(
        self,
        url: str,
        nightly_at_utc: dt.time = dt.time(7, 0),
        score_every: dt.timedelta = dt.timedelta(minutes=1),
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.url = url
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.nightly_at_utc = nightly_at_utc
        self.score_every = score_every
        self.stopping = threading.Event()
        self.next_nightly = next_nightly(self.clock(), nightly_at_utc)

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        if not ml_available():
            log("learning_disabled", reason="the [ml] extra is not installed")
            return
        while not self.stopping.wait(self.score_every.total_seconds()):
            self.score_new_bookings()
            if self.clock() >= self.next_nightly:
                self.nightly()
                self.next_nightly = next_nightly(self.clock(), self.nightly_at_utc)

    def score_new_bookings(self) -> int:
        from slotoptim.ml.jobs import score_new

        at = self.clock()
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                ids = [int(r[0]) for r in conn.execute(UPCOMING_UNSCORED, (at,)).fetchall()]
            scored = score_new(self.url, ids, at) if ids else 0
        except Exception as exc:  # learning must never take the service down
            log("scoring_failed", error=f"{type(exc).__name__}: {exc}")
            return 0
        if scored:
            log("appointments_scored", count=scored)
        return scored

    def nightly(self) -> dict[str, Any] | None:
        from slotoptim.ml.jobs import run_nightly

        at = self.clock()
        with psycopg.connect(self.url, autocommit=True) as conn:
            locked = conn.execute("select pg_try_advisory_lock(%s)", (NIGHTLY_LOCK,)).fetchone()
            if locked is None or not locked[0]:
                return None
            try:
                recent = conn.execute(
                    "select exists (select 1 from slotoptim_private.model_version"
                    " where kind = 'noshow' and trained_at > %s - interval '20 hours')",
                    (at,),
                ).fetchone()
                if recent is not None and recent[0]:
                    return None
                try:
                    summary = run_nightly(self.url, at)
                except Exception as exc:  # logged, retried tomorrow
                    log("nightly_failed", error=f"{type(exc).__name__}: {exc}")
                    return None
                log("nightly_done", failed=summary.get("failed"))
                return summary
            finally:
                conn.execute("select pg_advisory_unlock(%s)", (NIGHTLY_LOCK,))
