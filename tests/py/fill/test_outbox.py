"""The outbox sender against the Twilio stand-in, through the real twilio SDK: delivery, provider
ids, retries with backoff, permanent errors and channel fallback, opt-out by the carrier, leases
of a crashed sender, and claim links that book."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import psycopg
from channels.twilio_standin import TwilioStandIn
from fill.fill_practice import MORNING, cancel, load

from slotoptim.listener.channels.base import OutboundMessage, SendResult
from slotoptim.listener.channels.registry import channels_from_env
from slotoptim.listener.channels.twilio_channel import TwilioChannel
from slotoptim.listener.claims import claim_with_token
from slotoptim.listener.ratelimit import LocalRateLimiter
from slotoptim.listener.retraction import retract_claimed_gaps
from slotoptim.listener.sender import Sender, SenderConfig

PUBLIC = "https://book.example.com"


def _sender(url: str, standin: TwilioStandIn, clock: list[dt.datetime]) -> Sender:
    channels = channels_from_env(
        {
            "TWILIO_ACCOUNT_SID": standin.account_sid,
            "TWILIO_AUTH_TOKEN": standin.auth_token,
            "TWILIO_FROM": "+15005550006",
            "TWILIO_BASE_URL": standin.base_url,
        }
    )
    # The rate limiter reads the same driven clock: a Retry-After of 30 s ends when the test says so.
    limiter = LocalRateLimiter(clock=lambda: clock[0].timestamp())
    return Sender(
        url,
        channels,
        SenderConfig(public_url=PUBLIC, threads=4),
        clock=lambda: clock[0],
        worker="test",
        limiter=limiter,
    )


def _messages(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute("select * from slotoptim_private.message order by id").fetchall()]


def _offers_ready(conn: psycopg.Connection[Any], customers: int = 6) -> None:
    load(conn, customers)
    cancel(conn)
    conn.execute("select * from slotoptim.tick(%s)", (MORNING,))


def test_offers_are_delivered_once_with_provider_ids(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _offers_ready(conn)
    clock = [MORNING]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        assert sender.drain() == 3
        assert sender.drain() == 0, "nothing is sent twice"
    finally:
        sender.close()
    received = twilio_standin.messages
    assert len(received) == 3 and not twilio_standin.duplicate_tokens()
    rows = _messages(conn)
    assert {r["provider_id"] for r in rows} == {m.sid for m in received}
    assert all(r["status"] == "sent" and r["body"] and len(r["body"]) <= 160 for r in rows)
    assert all(f"{PUBLIC}/c/" in m.body and "Reply STOP to opt out" in m.body for m in received)


def test_transient_errors_retry_later(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _offers_ready(conn, customers=1)
    twilio_standin.fail_next(429, retry_after=30)
    clock = [MORNING]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        sender.drain()
        row = _messages(conn)[0]
        assert row["status"] == "queued" and row["attempts"] == 0, "a 429 does not use up an attempt"
        assert row["not_before"] >= MORNING + dt.timedelta(seconds=30), "Retry-After is a floor"
        assert sender.drain() == 0, "not before its time"
        clock[0] = row["not_before"]
        assert sender.drain() == 1
    finally:
        sender.close()
    assert _messages(conn)[0]["status"] == "sent" and len(twilio_standin.messages) == 1


def test_invalid_number_falls_back_to_email(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _offers_ready(conn, customers=1)
    twilio_standin.fail_next_with_code(21211)
    clock = [MORNING]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        sender.drain()
        sender.drain()
    finally:
        sender.close()
    rows = _messages(conn)
    assert [(r["channel"], r["status"]) for r in rows] == [("sms", "failed"), ("email", "sent")]
    assert rows[0]["attempts"] == 1, "a permanent error is not retried"


def test_carrier_unsubscribe_opts_the_customer_out(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _offers_ready(conn, customers=1)
    twilio_standin.fail_next_with_code(21610)
    clock = [MORNING]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        sender.drain()
    finally:
        sender.close()
    customer = conn.execute("select opted_out_at from slotoptim_private.customer where key = 'c001'").fetchone()
    assert customer is not None and customer["opted_out_at"] is not None
    assert [r["status"] for r in _messages(conn)] == ["failed"]


def test_a_crashed_senders_messages_come_back_after_the_lease(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _offers_ready(conn)
    # A sender claims the batch and dies before sending anything.
    claimed = conn.execute(
        "select id from slotoptim.claim_messages('dead', 10, %s, interval '60 seconds')", (MORNING,)
    ).fetchall()
    assert len(claimed) == 3
    clock = [MORNING + dt.timedelta(seconds=30)]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        assert sender.drain() == 0, "the lease still holds"
        clock[0] = MORNING + dt.timedelta(seconds=61)
        assert sender.drain() == 3
    finally:
        sender.close()
    assert len(twilio_standin.messages) == 3 and not twilio_standin.duplicate_tokens()


class _SlowFirstCall(TwilioChannel):
    """The first call takes longer than the lease (the driven clock jumps 61 s), and meanwhile
    another sender claims the rows whose leases ended."""

    def __init__(self, standin: TwilioStandIn, clock: list[dt.datetime], conn: psycopg.Connection[Any]) -> None:
        super().__init__("sms", standin.account_sid, standin.auth_token, "+15005550006", base_url=standin.base_url)
        self.clock, self.conn, self.calls = clock, conn, 0

    def send(self, message: OutboundMessage) -> SendResult:
        self.calls += 1
        if self.calls == 1:
            self.clock[0] += dt.timedelta(seconds=61)
            self.conn.execute(
                "select id from slotoptim.claim_messages('other', 10, %s, interval '60 seconds')", (self.clock[0],)
            )
        return super().send(message)


def test_a_chunk_held_back_past_its_lease_leaves_rows_another_sender_took(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _offers_ready(conn)
    clock = [MORNING]
    channel = _SlowFirstCall(twilio_standin, clock, conn)
    # One thread and one chunk: the three attempts are recorded together, before the first call.
    sender = Sender(
        fresh_db, {"sms": channel}, SenderConfig(threads=1, chunk=10), clock=lambda: clock[0], worker="test"
    )
    try:
        assert sender.drain() == 3
    finally:
        sender.close()
    assert len(twilio_standin.messages) == 1, "the rows the other sender holds are its to send"
    rows = _messages(conn)
    assert sorted(r["status"] for r in rows) == ["sending", "sending", "sent"]
    assert sorted(str(r["locked_by"]) for r in rows if r["status"] == "sending") == ["other", "other"]


def test_claim_link_in_the_sms_books_the_slot(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _offers_ready(conn)
    clock = [MORNING]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        sender.drain()
    finally:
        sender.close()
    tokens = [re.search(r"/c/([A-Za-z0-9_-]+)", m.body).group(1) for m in twilio_standin.messages]  # type: ignore[union-attr]
    first = claim_with_token(conn, None, tokens[0], MORNING + dt.timedelta(minutes=3))
    assert first.outcome == "booked"
    again = claim_with_token(conn, None, tokens[0], MORNING + dt.timedelta(minutes=4))
    assert again.outcome == "already_yours", "single use: the second click finds it booked"
    other = claim_with_token(conn, None, tokens[1], MORNING + dt.timedelta(minutes=4))
    assert other.outcome == "filled"
    forged = claim_with_token(conn, None, tokens[1][:-2] + ("AA" if tokens[1][-2:] != "AA" else "BB"), MORNING)
    assert forged.outcome == "invalid"
    late = claim_with_token(conn, None, tokens[2], MORNING + dt.timedelta(hours=1))
    assert late.outcome == "expired"
    # The customers who were offered it hear that it was filled (the engine's next pass retracts
    # their offers, after the claim's commit).
    retract_claimed_gaps(conn)
    filled = conn.execute("select count(*) as n from slotoptim_private.message where kind = 'filled'").fetchone()
    assert filled is not None and filled["n"] == 2
