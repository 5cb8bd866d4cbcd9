"""Fault runs for the outbox, shared by the small tests (tests/py/faults) and `make faults`
(tests/faults/run_faults.py, larger sizes, prints the figures).

Both count what really happened at the Twilio stand-in against what the database says:

- lost: outbox rows whose text never reached the stand-in (whatever the row's status says);
- duplicated: texts the stand-in created more than once (same recipient, same body);
- recorded but never created: rows marked sent whose provider id the stand-in never issued.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import redis
from channels.twilio_standin import TwilioStandIn
from fill.fill_practice import practice
from psycopg.rows import dict_row

from slotoptim.listener.channels.registry import channels_from_env
from slotoptim.listener.practice.importer import import_practice
from slotoptim.listener.ratelimit import RateLimiter, RedisRateLimiter
from slotoptim.listener.sender import Sender, SenderConfig

FROM = "+15005550006"
FINAL = ("sent", "delivered", "undelivered", "failed", "cancelled", "expired")


def twilio_env(standin: TwilioStandIn) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": standin.account_sid,
        "TWILIO_AUTH_TOKEN": standin.auth_token,
        "TWILIO_FROM": FROM,
        "TWILIO_BASE_URL": standin.base_url,
    }


def seed_messages(url: str, count: int) -> None:
    """One organisation, ``count`` customers who consented to texts, and one queued booking
    confirmation each, with a body of its own (so the stand-in can tell a duplicate)."""
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        import_practice(conn, practice(0))
        conn.execute(
            "insert into slotoptim_private.customer (org_id, key, name, phone, consent_sms)"
            " select o.id, 'f' || i, 'Fault ' || i, '+1617' || lpad(i::text, 7, '0'), true"
            "   from slotoptim_private.organisation as o, generate_series(1, %s) as i",
            (count,),
        )
        conn.execute(
            "insert into slotoptim_private.message (org_id, customer_id, kind, channel, to_address, body,"
            "                                      not_before, created_at)"
            " select c.org_id, c.id, 'booked', 'sms', c.phone,"
            "        'Fill Clinic: your visit is booked (ref ' || c.key || '). Reply STOP to opt out', now(), now()"
            "   from slotoptim_private.customer as c where c.key like 'f%%'"
        )


@dataclass(frozen=True)
class Tally:
    messages: int
    delivered: int  # distinct outbox texts the stand-in created
    lost: int
    duplicated: int
    recorded_not_created: int
    failed: int
    unfinished: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def tally(url: str, standin: TwilioStandIn) -> Tally:
    created = standin.messages
    sids = {m.sid for m in created}
    texts = {(m.to, m.body) for m in created}
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        rows = conn.execute(
            "select to_address, body, status, provider_id from slotoptim_private.message where kind = 'booked'"
        ).fetchall()
    expected = [r for r in rows if r["body"]]
    delivered = sum(1 for r in expected if (r["to_address"], r["body"]) in texts)
    return Tally(
        messages=len(rows),
        delivered=delivered,
        lost=len(rows) - delivered,
        duplicated=standin.duplicate_deliveries(),
        recorded_not_created=sum(1 for r in rows if r["status"] == "sent" and r["provider_id"] not in sids),
        failed=sum(1 for r in rows if r["status"] == "failed"),
        unfinished=sum(1 for r in rows if r["status"] not in FINAL),
    )


def _unfinished(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "select count(*) from slotoptim_private.message where status not in ('sent', 'delivered',"
            " 'undelivered', 'failed', 'cancelled', 'expired')"
        ).fetchone()
    return int(row[0]) if row else 0


def outage_run(
    url: str,
    standin: TwilioStandIn,
    redis_client: redis.Redis,
    *,
    messages: int,
    throttle_seconds: float,
    error_seconds: float,
    retry_after: float = 1.0,
    created_share: float = 0.5,
    outage_after: float = 0.5,
    limit_seconds: float = 600.0,
) -> dict[str, Any]:
    """``messages`` confirmations through a provider that answers 429 (with Retry-After) for
    ``throttle_seconds``, then 500 for ``error_seconds`` (``created_share`` of those sends created
    all the same), starting ``outage_after`` seconds in. The production sender: 16 threads, the
    Redis rate limiter, default backoff."""
    seed_messages(url, messages)
    throttle = standin.outage(429, seconds=throttle_seconds, retry_after=retry_after, after=outage_after)
    standin.outage(500, seconds=error_seconds, created_share=created_share)
    limiter: RateLimiter = RedisRateLimiter(redis_client)
    # Fallback e-mails (there should be none) would print to a console channel: keep them quiet.
    channels = channels_from_env(twilio_env(standin), stream=io.StringIO())
    sender = Sender(url, channels, SenderConfig(), worker="fault-run", limiter=limiter)
    started = time.monotonic()
    try:
        while _unfinished(url) and time.monotonic() - started < limit_seconds:
            if sender.run_once() == 0:
                time.sleep(0.1)
    finally:
        sender.close()
    elapsed = time.monotonic() - started
    answers = standin.outage_answers
    return {
        **tally(url, standin).as_dict(),
        "seconds": round(elapsed, 1),
        "answered_429": answers.get(429, 0),
        "answered_500": answers.get(500, 0),
        "requests_per_second_during_429": round(answers.get(429, 0) / (throttle.ends - throttle.starts), 1),
        "lookups": standin.list_requests,
    }


def start_engine(url: str, standin: TwilioStandIn, redis_url: str, lease_seconds: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        **twilio_env(standin),
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "slotoptim.listener.cli",
            "run",
            "--no-api",
            "--poll-seconds",
            "0.3",
            "--lease-seconds",
            str(lease_seconds),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(what: str, condition: Callable[[], bool], limit: float) -> None:
    # A bound on how long to wait for an event, not a performance assertion.
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def _in_flight(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("select count(*) from slotoptim_private.message where attempt_id is not null").fetchone()
    return int(row[0]) if row else 0


def kill_run(
    url: str,
    standin: TwilioStandIn,
    redis_url: str,
    *,
    messages: int,
    kills: int = 3,
    latency: float = 0.2,
    lease_seconds: int = 2,
    limit_seconds: float = 300.0,
) -> dict[str, Any]:
    """``slotoptim run`` killed with SIGKILL ``kills`` times while it sends ``messages``
    confirmations (each send takes ``latency`` at the stand-in, so calls are in flight at every
    kill), then run to the end. Counts the texts in flight at each kill and what got through."""
    seed_messages(url, messages)
    standin.latency = latency
    step = messages // (kills + 1)
    in_flight: list[int] = []
    started = time.monotonic()
    for k in range(1, kills + 1):
        process = start_engine(url, standin, redis_url, lease_seconds)
        try:
            wait_for(f"{k * step} texts", lambda n=k * step: standin.message_count >= n, limit_seconds)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        in_flight.append(_in_flight(url))
    last = start_engine(url, standin, redis_url, lease_seconds)
    try:
        wait_for("every message to be settled", lambda: _unfinished(url) == 0, limit_seconds)
    finally:
        last.send_signal(signal.SIGTERM)
        _, stderr = last.communicate(timeout=60)
    standin.latency = 0.0
    return {
        **tally(url, standin).as_dict(),
        "kills": kills,
        "in_flight_at_each_kill": in_flight,
        "lookups": standin.list_requests,
        "seconds": round(time.monotonic() - started, 1),
        "clean_exit": last.returncode == 0 and "engine_stopped" in stderr,
    }
