"""The outbox sender: claims due messages, renders them, sends them, records what happened.

Claims use slotoptim.claim_messages (SKIP LOCKED with a lease), so several senders never take the
same row, and a crashed sender's rows come back when its lease ends. Before each provider call the
row records the attempt's id and the exact body (slotoptim.message_attempt, committed first); the
id is cleared once the outcome is known. A row that still carries one (a timeout after the request
left, a 5xx, a sender killed mid-call) is reconciled with the provider before anything is resent
(slotoptim.listener.reconcile): found means sent, not found means send. So a message is neither lost
nor sent twice, whatever fails between the two systems.

Every provider call first takes a token from the account's rate limiter (shared through Redis by
all senders): a 429 pauses the account until Retry-After and halves its rate; an outage pauses it a
little longer each time. A message held back that way is requeued without using up an attempt.
An offer's message is dropped ('expired') once its offer is no longer open, rather than sent late.
Other transient failures retry with exponential backoff and full jitter; permanent ones fall back to
the customer's next channel.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from slotoptim.listener.channels.base import (
    Channel,
    OutboundMessage,
    PermanentSendError,
    ReconcilableChannel,
    TransientSendError,
)
from slotoptim.listener.experiment_text import render_variant
from slotoptim.listener.message_catalogue import catalogue_text
from slotoptim.listener.ratelimit import LocalRateLimiter, RateLimiter
from slotoptim.listener.reconcile import find_created
from slotoptim.listener.templates import MessageFacts, render, subject
from slotoptim.listener.tokens import make_token, signing_key

logger = logging.getLogger(__name__)

# A running-late heads-up names its appointment through queue_heads_up (the check-in queue).
FACTS_OF = """
select m.id, m.kind, m.channel, m.to_address, m.attempts, m.body, m.offer_id, o.name as org_name,
       coalesce(c.timezone, o.timezone) as customer_tz, c.id as customer_id,
       coalesce(p.name, hp.name, rp.name) as provider_name,
       coalesce(lower(ofr.slot), lower(ha.period), lower(ra.period)) as starts,
       ofr.expires_at, ofr.status as offer_status, m.attempt_id, m.attempt_started_at,
       h.predicted_delay_minutes as delay_minutes, lower(ma.period) as replaces,
       coalesce(c.language, st.default_language) as language, mt.body as template_body,
       mt.multipart as template_multipart, v.template as variant_template, c.name as customer_name
  from {messages} m
  join slotoptim_private.organisation o on o.id = m.org_id
  join slotoptim_private.organisation_settings st on st.org_id = m.org_id
  join slotoptim_private.customer c on c.id = m.customer_id
  -- The organisation's own wording of this kind (issue 12): its language first, else English.
  left join lateral (
    select t.body, t.multipart from slotoptim_private.message_template t
     where t.org_id = m.org_id and t.kind = m.kind
       and t.channel = case when m.channel = 'email' then 'email' else 'sms' end
       and t.language in (coalesce(c.language, st.default_language), 'en')
     order by t.language = coalesce(c.language, st.default_language) desc
     limit 1) mt on true
  left join slotoptim_private.offer ofr on ofr.id = m.offer_id
  left join slotoptim_private.message_variant v on v.id = ofr.variant_id
  left join slotoptim_private.gap g on g.id = ofr.gap_id
  left join slotoptim_private.provider p on p.id = g.provider_id
  left join slotoptim_private.queue_heads_up h on h.message_id = m.id
  left join slotoptim_private.appointment ha on ha.id = h.appointment_id
  left join slotoptim_private.provider hp on hp.id = ha.provider_id
  -- A reminder names its appointment (issue 12).
  left join slotoptim_private.appointment ra on ra.id = m.appointment_id
  left join slotoptim_private.provider rp on rp.id = ra.provider_id
  -- A move-up offer names the appointment it would replace (issue 12).
  left join slotoptim_private.waitlist_entry we on we.id = ofr.waitlist_entry_id
  left join slotoptim_private.appointment ma on ma.id = we.moveup_appointment_id"""
# What rendering and sending the given outbox rows needs.
FACTS = FACTS_OF.format(messages="slotoptim_private.message") + "\n where m.id = any(%s)"
# The same for the rows a claim takes, in the claim's own statement (one round trip less before
# the first message of a batch goes out): the claimed rows as claim_messages returns them.
CLAIM_FACTS = (
    FACTS_OF.format(messages="slotoptim.claim_messages(%s, %s, %s, make_interval(secs => %s))")
    + "\n order by m.not_before, m.id"
)


@dataclass(frozen=True)
class SenderConfig:
    public_url: str = "http://localhost:8000"
    batch: int = 200
    threads: int = 16
    lease_seconds: int = 60
    backoff_base_seconds: float = 5.0
    backoff_cap_seconds: float = 900.0
    status_callback: str | None = None
    # Messages per unit of work on a thread (at most; fewer when a batch has fewer than threads x
    # chunk): their attempts are recorded in one round trip, then they are sent one after another,
    # then their outcomes are recorded together.
    chunk: int = 25
    # ...and no more calls in a chunk than take about this long, going by recent calls: after a
    # crash, every row of a chunk in progress is looked up at the provider before it is sent, so a
    # slow provider (where a round trip per message costs nothing in comparison) gets chunks of 1.
    chunk_seconds: float = 0.05
    # A thread waits this long for the rate limiter; past it the message goes back to the queue.
    max_rate_wait_seconds: float = 2.0
    # How long a thread waits for a database connection before the pass fails (and is retried).
    pool_timeout_seconds: float = 5.0


def backoff(attempt: int, config: SenderConfig, retry_after: float | None, rng: random.Random) -> float:
    """Exponential backoff with full jitter; a provider's Retry-After is a floor."""
    ceiling = min(config.backoff_cap_seconds, config.backoff_base_seconds * 2 ** max(attempt - 1, 0))
    return max(retry_after or 0.0, rng.uniform(0, ceiling))


def _error_text(exc: TransientSendError | PermanentSendError) -> str:
    return f"{exc.code or ''} {exc.message}".strip()


class Sender:
    def __init__(
        self,
        url: str,
        channels: Mapping[str, Channel],
        config: SenderConfig | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        worker: str | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.url = url
        self.channels = channels
        self.config = config or SenderConfig()
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self.limiter: RateLimiter = limiter or LocalRateLimiter()
        self.pool = self._new_pool()
        self.rng = random.Random()
        self._key: bytes | None = None
        self._call_seconds: float | None = None  # a successful provider call's duration, smoothed
        # One thread pool for the sender's life: a new one per batch cost its thread starts on
        # every pass of the engine.
        self._threads = ThreadPoolExecutor(max_workers=self.config.threads, thread_name_prefix="slotoptim-send")

    def _new_pool(self) -> ConnectionPool:
        # Checked on borrow: after a database restart every pooled connection is dead, and without
        # the check each pass found one more of them (one failed pass, and one reconnect, each).
        return ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.config.threads + 1,
            kwargs={"autocommit": True},
            open=True,
            check=ConnectionPool.check_connection,
            timeout=self.config.pool_timeout_seconds,
            name="slotoptim-sender",
        )

    def reset_pool(self) -> None:
        """A new pool, after a connection-level error: the old one's reconnect attempts back off
        for longer and longer (1, 2, 4 ... s), so it could stay empty long after the database is back."""
        old, self.pool = self.pool, self._new_pool()
        old.close(timeout=1.0)

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self.pool.close()

    def _signing_key(self, conn: psycopg.Connection[Any]) -> bytes:
        if self._key is None:
            self._key = signing_key(conn)
        return self._key

    def run_once(self) -> int:
        """Claims one batch of due messages and sends it; returns how many were claimed."""
        batch = self._claim()
        self._send_batch(batch)
        return len(batch[0])

    def _claim(self) -> tuple[list[dict[str, Any]], bytes]:
        """One batch of due messages, claimed for this worker, with what rendering them needs."""
        at = self.clock()
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            facts = cur.execute(CLAIM_FACTS, (self.worker, self.config.batch, at, self.config.lease_seconds)).fetchall()
            if not facts:
                return [], b""
            return facts, self._signing_key(conn)

    def _start_batch(self, batch: tuple[list[dict[str, Any]], bytes]) -> list[Future[None]]:
        """A row an earlier call may have reached goes on its own (the provider is asked first);
        the rest in chunks, each with one round trip for its attempts and one for its sends."""
        facts, key = batch
        in_doubt = [row for row in facts if row["attempt_id"] is not None]
        fresh = [row for row in facts if row["attempt_id"] is None]
        # Every thread gets work: towards a provider that takes 100 ms a call, fewer chunks than
        # threads would leave threads idle and cut the sender's rate.
        per_thread = -(-len(fresh) // max(1, self.config.threads))
        # Until a call has been timed, the chunk's limit alone (corrected after the first batch).
        by_time = int(self.config.chunk_seconds / self._call_seconds) if self._call_seconds else self.config.chunk
        size = max(1, min(self.config.chunk, per_thread, by_time))
        work = [self._threads.submit(self._deliver_chunk, fresh[i : i + size], key) for i in range(0, len(fresh), size)]
        return work + [self._threads.submit(self._deliver, row, key) for row in in_doubt]

    def _send_batch(self, batch: tuple[list[dict[str, Any]], bytes]) -> None:
        for done in self._start_batch(batch):
            done.result()

    def _deliver_chunk(self, rows: list[dict[str, Any]], key: bytes) -> None:
        """Messages without an earlier attempt: their attempts are committed together before any of
        their provider calls (so a crash in between is reconciled, never resent blindly), then each
        is sent, then the successful sends are recorded together."""
        ready: list[tuple[dict[str, Any], OutboundMessage, Channel, ReconcilableChannel | None, str]] = []
        for row in rows:
            message = self._outbound(row, key)
            if self._offer_closed(row):
                self._sql("select slotoptim.message_expired(%s, %s)", (row["id"], "offer no longer open when due"))
                continue
            channel = self.channels.get(row["channel"]) or self.channels["console"]
            reconcilable = channel if isinstance(channel, ReconcilableChannel) else None
            account = reconcilable.account if reconcilable is not None else channel.name
            ready.append((row, message, channel, reconcilable, account))
        recorded = self._record_attempts([(int(row["id"]), message.body) for row, message, _, _, _ in ready])
        recorded_at = self.clock()
        sent: list[tuple[int, str, str]] = []
        for place, (row, message, channel, reconcilable, account) in enumerate(ready):
            if int(row["id"]) not in recorded:
                continue  # the lease ended and another sender holds the row now
            if (self.clock() - recorded_at).total_seconds() > self.config.lease_seconds / 2:
                # Slow calls or the rate limiter held the chunk back: the rows' leases may end
                # before their calls and another sender take them. Record the rest again (it
                # extends their leases, and leaves out rows another sender holds by now).
                rest = [(int(r["id"]), m.body) for r, m, _, _, _ in ready[place:] if int(r["id"]) in recorded]
                recorded = self._record_attempts(rest)
                recorded_at = self.clock()
                if int(row["id"]) not in recorded:
                    continue
            self._call(row, message, channel, reconcilable, account, sent)
        self._record_sent(sent)

    def _record_attempts(self, messages: list[tuple[int, str]]) -> set[int]:
        """slotoptim.message_attempt for each (id, body), in one statement: the ids still this
        worker's (the others' leases ended and another sender holds them: not called)."""
        if not messages:
            return set()
        with self.pool.connection() as conn:
            rows = conn.execute(
                "select a.id from unnest(%s::bigint[], %s::uuid[], %s::text[]) as a(id, attempt_id, body)"
                " where slotoptim.message_attempt(a.id, %s, a.attempt_id, a.body, %s, make_interval(secs => %s))",
                (
                    [m for m, _ in messages],
                    [uuid.uuid4() for _ in messages],
                    [b for _, b in messages],
                    self.worker,
                    self.clock(),
                    self.config.lease_seconds,
                ),
            ).fetchall()
        return {int(r[0]) for r in rows}

    def _record_sent(self, sent: list[tuple[int, str, str]]) -> None:
        """The batch's successful sends in one round trip (slotoptim.message_sent per row). A row
        whose provider id is already recorded fails the statement: then row by row, as before.
        Until recorded, each row still carries its attempt id, so a crash here is reconciled."""
        if not sent:
            return
        at = self.clock()
        try:
            with self.pool.connection() as conn:
                conn.execute(
                    "select slotoptim.message_sent(s.id, s.provider_id, s.body, %s)"
                    " from unnest(%s::bigint[], %s::text[], %s::text[]) as s(id, provider_id, body)",
                    (at, [m for m, _, _ in sent], [p for _, p, _ in sent], [b for _, _, b in sent]),
                )
        except psycopg.errors.UniqueViolation:
            for message_id, provider_id, body in sent:
                self._record_one_sent(message_id, provider_id, body)

    def drain(self, limit: int = 1000) -> int:
        """Sends batches until one comes back short. While a full batch is sent, the next is claimed
        (the threads never wait for the claim's round trips)."""
        total = 0
        batch = self._claim()
        for turn in range(limit):
            claimed = len(batch[0])
            total += claimed
            work = self._start_batch(batch)
            full = claimed >= self.config.batch and turn + 1 < limit
            try:
                batch = self._claim() if full else ([], b"")
            finally:
                for done in work:
                    done.result()
            if not full:
                break
        return total

    # -- one message ------------------------------------------------------------------------------

    def _outbound(self, row: dict[str, Any], key: bytes) -> OutboundMessage:
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
            replaces=row["replaces"],
        )
        return OutboundMessage(
            message_id=int(row["id"]),
            channel=row["channel"],
            to=row["to_address"],
            # An experiment's variant first (the practice chose to test it), then the practice's own
            # wording, then the built-in text.
            body=self._with_way_out(
                row, key, row["body"] or self._variant_text(row, facts) or catalogue_text(row, link) or render(facts)
            ),
            subject=subject(facts) if row["channel"] == "email" else None,
            status_callback=self.config.status_callback,
        )

    def _variant_text(self, row: dict[str, Any], facts: MessageFacts) -> str | None:
        """A message experiment's wording for this offer, if it has a variant (issue 16)."""
        if row.get("variant_template") is None:
            return None
        return render_variant(str(row["variant_template"]), facts, row.get("customer_name"), self.clock())

    def _with_way_out(self, row: dict[str, Any], key: bytes, body: str) -> str:
        """An email about an offer or a booking ends with the customer's page, whose "Stop all
        messages" revokes every channel (email has no STOP reply)."""
        if row["channel"] != "email" or row["offer_id"] is None or row["expires_at"] is None:
            return body
        token = make_token(key, int(row["offer_id"]), int(row["customer_id"]), int(row["expires_at"].timestamp()))
        page = f"{self.config.public_url.rstrip('/')}/c/{token}"
        return f"{body}\n\nTo stop all messages from {row['org_name']}, open {page} and choose Stop all messages."

    def _sql(self, query: str, params: tuple[Any, ...]) -> Any:
        with self.pool.connection() as conn:
            row = conn.execute(query, params).fetchone()
        return None if row is None else row[0]

    def _recorded(self, provider_ids: list[str]) -> Collection[str]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "select provider_id from slotoptim_private.message where provider_id = any(%s)", (provider_ids,)
            ).fetchall()
        return {str(r[0]) for r in rows}

    def _retry_at(self, row: dict[str, Any], retry_after: float | None) -> dt.datetime:
        return self.clock() + dt.timedelta(seconds=backoff(int(row["attempts"]), self.config, retry_after, self.rng))

    def _wait_for_rate(self, account: str) -> float | None:
        """None once a token is taken; else the seconds after which to requeue the message."""
        waited = 0.0
        while True:
            wait = self.limiter.acquire(account)
            if wait <= 0:
                return None
            if waited + wait > self.config.max_rate_wait_seconds:
                return wait
            time.sleep(wait)
            waited += wait

    def _defer(self, row: dict[str, Any], seconds: float, why: str, settled: bool) -> None:
        self._sql(
            "select slotoptim.message_deferred(%s, %s, %s, %s)",
            (row["id"], why, self.clock() + dt.timedelta(seconds=seconds), settled),
        )

    def _offer_closed(self, row: dict[str, Any]) -> bool:
        if row["kind"] != "offer" or row["offer_id"] is None:
            return False
        return bool(row["offer_status"] != "open" or row["expires_at"] <= self.clock())

    def _deliver(self, row: dict[str, Any], key: bytes, sent: list[tuple[int, str, str]] | None = None) -> None:
        message = self._outbound(row, key)
        channel = self.channels.get(row["channel"]) or self.channels["console"]
        reconcilable = channel if isinstance(channel, ReconcilableChannel) else None
        account = reconcilable.account if reconcilable is not None else channel.name
        if row["attempt_id"] is not None:
            if reconcilable is None:
                # No provider to ask (SMTP, console): an earlier call may have gone through, and a
                # duplicate is as likely as a loss. Record it as sent, unconfirmed.
                self._record_unconfirmed(row, message.body, "earlier attempt of unknown outcome")
                return
            if not self._reconcile(row, message, reconcilable, account):
                return
        if self._offer_closed(row):
            self._sql("select slotoptim.message_expired(%s, %s)", (row["id"], "offer no longer open when due"))
            return
        self._send(row, message, channel, reconcilable, account, sent)

    def _reconcile(
        self, row: dict[str, Any], message: OutboundMessage, channel: ReconcilableChannel, account: str
    ) -> bool:
        """Asks the provider whether an earlier attempt created the message. True when it did not
        (go on and send); False when the row was settled or requeued here."""
        wait = self._wait_for_rate(account)
        if wait is not None:
            self._defer(row, wait, "rate limited before reconciling", settled=False)
            return False
        try:
            found = find_created(channel, message, row["attempt_started_at"], self._recorded)
        except TransientSendError as exc:
            self.limiter.failing(account)
            self._sql(
                "select slotoptim.message_in_doubt(%s, %s, %s, false)",
                (row["id"], f"reconciliation failed: {exc.message}", self._retry_at(row, exc.retry_after)),
            )
            return False
        if found is None:
            return True
        try:
            self._sql("select slotoptim.message_sent(%s, %s, %s, %s)", (row["id"], found, message.body, self.clock()))
        except psycopg.errors.UniqueViolation:
            # Another row recorded that provider message meanwhile: look again later without it.
            self._sql(
                "select slotoptim.message_in_doubt(%s, %s, %s, false)",
                (row["id"], "reconciliation raced another row", self._retry_at(row, None)),
            )
        else:
            logger.info("message %s reconciled: the provider had created it", row["id"])
        return False

    def _send(
        self,
        row: dict[str, Any],
        message: OutboundMessage,
        channel: Channel,
        reconcilable: ReconcilableChannel | None,
        account: str,
        sent: list[tuple[int, str, str]] | None = None,
    ) -> None:
        """One message on its own (after a reconciliation): its attempt, then the call."""
        recorded = self._record_attempts([(int(row["id"]), message.body)])
        if not recorded:
            return  # the lease ended and another sender holds the row now
        self._call(row, message, channel, reconcilable, account, sent)

    def _call(
        self,
        row: dict[str, Any],
        message: OutboundMessage,
        channel: Channel,
        reconcilable: ReconcilableChannel | None,
        account: str,
        sent: list[tuple[int, str, str]] | None = None,
    ) -> None:
        """The provider call for a row whose attempt is recorded; the rate limiter first (held back:
        requeued, and the attempt cleared, since no call was made)."""
        wait = self._wait_for_rate(account)
        if wait is not None:
            self._defer(row, wait, "rate limited", settled=True)
            return
        started = time.monotonic()
        try:
            result = channel.send(message)
        except TransientSendError as exc:
            if exc.throttled:
                self.limiter.throttled(account, exc.retry_after)
                pause = exc.retry_after if exc.retry_after is not None else self.limiter.acquire(account)
                self._defer(row, max(pause, 0.0), _error_text(exc), settled=True)
            elif exc.maybe_sent and reconcilable is not None:
                self.limiter.failing(account)
                self._sql(
                    "select slotoptim.message_in_doubt(%s, %s, %s)",
                    (row["id"], f"unconfirmed: {_error_text(exc)}", self._retry_at(row, exc.retry_after)),
                )
            elif exc.maybe_sent:
                self._record_unconfirmed(row, message.body, _error_text(exc))
            else:
                self.limiter.failing(account)
                self._sql(
                    "select slotoptim.message_failed(%s, %s, false, %s, false, %s)",
                    (row["id"], _error_text(exc), self._retry_at(row, exc.retry_after), self.clock()),
                )
            return
        except PermanentSendError as exc:
            at = self.clock()
            self._sql(
                "select slotoptim.message_failed(%s, %s, true, %s, %s, %s)",
                (row["id"], _error_text(exc), at, exc.opt_out, at),
            )
            return
        self.limiter.succeeded(account)
        # How long a call takes, smoothed (one float written whole: no lock needed).
        took = time.monotonic() - started
        self._call_seconds = took if self._call_seconds is None else 0.9 * self._call_seconds + 0.1 * took
        if sent is not None:
            sent.append((int(row["id"]), result.provider_id, message.body))  # recorded with the batch
            return
        self._record_one_sent(int(row["id"]), result.provider_id, message.body)

    def _record_one_sent(self, message_id: int, provider_id: str, body: str) -> None:
        try:
            self._sql("select slotoptim.message_sent(%s, %s, %s, %s)", (message_id, provider_id, body, self.clock()))
        except psycopg.errors.UniqueViolation:
            # The provider gave an id we already recorded: this was a resend of a delivered
            # message. Mark it so and never send it again.
            self._sql(
                "update slotoptim_private.message set status = 'cancelled', last_error = 'duplicate provider id',"
                " attempt_id = null, locked_by = null, locked_until = null where id = %s returning id",
                (message_id,),
            )

    def _record_unconfirmed(self, row: dict[str, Any], body: str, why: str) -> None:
        self._sql(
            "update slotoptim_private.message set status = 'sent', sent_at = %s, body = %s, last_error = %s,"
            " attempt_id = null, locked_by = null, locked_until = null where id = %s and status = 'sending'"
            " returning id",
            (self.clock(), body, f"unconfirmed: {why}", row["id"]),
        )
