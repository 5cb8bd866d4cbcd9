"""The outbox sender: claims due messages, renders them, sends them, records what happened.

Claims use slotoptim.claim_messages (SKIP LOCKED with a lease), so several senders never take the
same row, and a crashed sender's rows come back when its lease ends. The provider's id is stored
unique; Twilio also gets an idempotency token derived from the row id, so a resend after a crash
between "sent" and "recorded" is not delivered twice. Transient failures retry with exponential
backoff and full jitter; permanent ones fall back to the customer's next channel.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from slotoptim.listener.channels.base import Channel, OutboundMessage, PermanentSendError, TransientSendError
from slotoptim.listener.templates import MessageFacts, render, subject
from slotoptim.tokens import make_token, signing_key

# A running-late heads-up names its appointment through queue_heads_up (the check-in queue).
FACTS = """
select m.id, m.kind, m.channel, m.to_address, m.attempts, m.body, m.offer_id, o.name as org_name,
       coalesce(c.timezone, o.timezone) as customer_tz, c.id as customer_id,
       coalesce(p.name, hp.name) as provider_name, coalesce(lower(ofr.slot), lower(ha.period)) as starts,
       ofr.expires_at, h.predicted_delay_minutes as delay_minutes
  from slotoptim_private.message m
  join slotoptim_private.organisation o on o.id = m.org_id
  join slotoptim_private.customer c on c.id = m.customer_id
  left join slotoptim_private.offer ofr on ofr.id = m.offer_id
  left join slotoptim_private.gap g on g.id = ofr.gap_id
  left join slotoptim_private.provider p on p.id = g.provider_id
  left join slotoptim_private.queue_heads_up h on h.message_id = m.id
  left join slotoptim_private.appointment ha on ha.id = h.appointment_id
  left join slotoptim_private.provider hp on hp.id = ha.provider_id
 where m.id = any(%s)"""


@dataclass(frozen=True)
class SenderConfig:
    public_url: str = "http://localhost:8000"
    batch: int = 200
    threads: int = 16
    lease_seconds: int = 60
    backoff_base_seconds: float = 5.0
    backoff_cap_seconds: float = 900.0
    status_callback: str | None = None


def backoff(attempt: int, config: SenderConfig, retry_after: float | None, rng: random.Random) -> float:
    """Exponential backoff with full jitter; a provider's Retry-After is a floor."""
    ceiling = min(config.backoff_cap_seconds, config.backoff_base_seconds * 2 ** max(attempt - 1, 0))
    return max(retry_after or 0.0, rng.uniform(0, ceiling))


class Sender:
    def __init__(
        self,
        url: str,
        channels: Mapping[str, Channel],
        config: SenderConfig | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        worker: str | None = None,
    ) -> None:
        self.channels = channels
        self.config = config or SenderConfig()
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self.pool = ConnectionPool(
            url, min_size=1, max_size=self.config.threads + 1, kwargs={"autocommit": True}, open=True
        )
        self.rng = random.Random()
        self._key: bytes | None = None

    def close(self) -> None:
        self.pool.close()

    def _signing_key(self, conn: psycopg.Connection[Any]) -> bytes:
        if self._key is None:
            self._key = signing_key(conn)
        return self._key

    def run_once(self) -> int:
        """Claims one batch of due messages and sends it; returns how many were claimed."""
        at = self.clock()
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            claimed = cur.execute(
                "select id from slotoptim.claim_messages(%s, %s, %s, make_interval(secs => %s))",
                (self.worker, self.config.batch, at, self.config.lease_seconds),
            ).fetchall()
            if not claimed:
                return 0
            ids = [int(r["id"]) for r in claimed]
            facts = cur.execute(FACTS, (ids,)).fetchall()
            key = self._signing_key(conn)
        with ThreadPoolExecutor(max_workers=self.config.threads) as pool:
            list(pool.map(lambda row: self._deliver(row, key, at), facts))
        return len(ids)

    def drain(self, limit: int = 1000) -> int:
        total = 0
        for _ in range(limit):
            sent = self.run_once()
            total += sent
            if sent < self.config.batch:
                break
        return total

    def _deliver(self, row: dict[str, Any], key: bytes, at: dt.datetime) -> None:
        link = None
        if row["kind"] == "offer" and row["offer_id"] is not None:
            token = make_token(key, int(row["offer_id"]), int(row["customer_id"]), int(row["expires_at"].timestamp()))
            link = f"{self.config.public_url.rstrip('/')}/c/{token}"
        facts = MessageFacts(
            kind=row["kind"],
            channel=row["channel"],
            org_name=row["org_name"],
            provider_name=row["provider_name"],
            starts=row["starts"],
            expires=row["expires_at"],
            customer_tz=row["customer_tz"],
            link=link,
            delay_minutes=row["delay_minutes"],
        )
        body = row["body"] or render(facts)
        message = OutboundMessage(
            message_id=int(row["id"]),
            channel=row["channel"],
            to=row["to_address"],
            body=body,
            subject=subject(facts) if row["channel"] == "email" else None,
            status_callback=self.config.status_callback,
        )
        channel = self.channels.get(row["channel"]) or self.channels["console"]
        with self.pool.connection() as conn:
            try:
                result = channel.send(message)
            except TransientSendError as exc:
                if exc.maybe_sent:
                    # The provider may have accepted it (a timeout after the request went out, a 5xx):
                    # a resend could text the customer twice, so record it as sent, unconfirmed.
                    conn.execute(
                        "update slotoptim_private.message set status = 'sent', sent_at = %s, body = %s,"
                        " last_error = %s, locked_by = null, locked_until = null where id = %s and status = 'sending'",
                        (at, body, f"unconfirmed: {exc.code or ''} {exc.message}".strip(), row["id"]),
                    )
                    return
                delay = backoff(int(row["attempts"]), self.config, exc.retry_after, self.rng)
                conn.execute(
                    "select slotoptim.message_failed(%s, %s, false, %s, false, %s)",
                    (row["id"], f"{exc.code or ''} {exc.message}".strip(), at + dt.timedelta(seconds=delay), at),
                )
                return
            except PermanentSendError as exc:
                conn.execute(
                    "select slotoptim.message_failed(%s, %s, true, %s, %s, %s)",
                    (row["id"], f"{exc.code or ''} {exc.message}".strip(), at, exc.opt_out, at),
                )
                return
            try:
                conn.execute("select slotoptim.message_sent(%s, %s, %s, %s)", (row["id"], result.provider_id, body, at))
            except psycopg.errors.UniqueViolation:
                # The provider gave an id we already recorded: this was a resend of a delivered
                # message. Mark it so and never send it again.
                conn.execute(
                    "update slotoptim_private.message set status = 'cancelled', last_error = 'duplicate provider id',"
                    " locked_by = null, locked_until = null where id = %s",
                    (row["id"],),
                )
