"""Ambiguous sends are reconciled with the provider, never guessed: a 5xx or a sender that died
mid-call leaves the row marked with its attempt, and the next try asks Twilio's Messages list
(To, From, DateSent, matched on the body) before it sends again. Offers that expired meanwhile are
dropped, not sent late. Real SDK, Twilio stand-in, driven clock."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
from channels.twilio_standin import TwilioStandIn
from fill.fill_practice import MORNING, cancel, load

from slotoptim.listener.channels.base import OutboundMessage
from slotoptim.listener.channels.registry import channels_from_env
from slotoptim.listener.ratelimit import LocalRateLimiter
from slotoptim.listener.sender import Sender, SenderConfig


def _env(standin: TwilioStandIn) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": standin.account_sid,
        "TWILIO_AUTH_TOKEN": standin.auth_token,
        "TWILIO_FROM": "+15005550006",
        "TWILIO_BASE_URL": standin.base_url,
    }


def _sender(url: str, standin: TwilioStandIn, clock: list[dt.datetime], worker: str = "test") -> Sender:
    return Sender(
        url,
        channels_from_env(_env(standin)),
        SenderConfig(threads=4),
        clock=lambda: clock[0],
        worker=worker,
        limiter=LocalRateLimiter(clock=lambda: clock[0].timestamp()),
    )


def _messages(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute("select * from slotoptim_private.message order by id").fetchall()]


def _one_offer(conn: psycopg.Connection[Any]) -> None:
    load(conn, 1)
    cancel(conn)
    conn.execute("select * from slotoptim.tick(%s)", (MORNING,))


def _soon(conn: psycopg.Connection[Any]) -> dt.datetime:
    """Just after the message's retry time, well before its offer expires."""
    row = _messages(conn)[0]
    expires = conn.execute("select expires_at from slotoptim_private.offer").fetchone()
    assert expires is not None and row["not_before"] < expires["expires_at"]
    return max(row["not_before"], MORNING + dt.timedelta(seconds=10)) + dt.timedelta(seconds=1)


def test_a_5xx_after_twilio_created_the_message_is_recorded_not_resent(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _one_offer(conn)
    twilio_standin.fail_next(500, created=True)
    clock = [MORNING]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        sender.drain()
        row = _messages(conn)[0]
        assert row["status"] == "queued" and row["attempt_id"] is not None, "in doubt, not 'sent'"
        assert row["body"], "the body is stored before the call, so a look-up can match it"
        clock[0] = _soon(conn)
        sender.drain()
    finally:
        sender.close()
    row = _messages(conn)[0]
    created = twilio_standin.messages
    assert len(created) == 1, "not sent twice"
    assert row["status"] == "sent" and row["provider_id"] == created[0].sid and row["attempt_id"] is None
    assert twilio_standin.list_requests >= 1, "Twilio was asked"


def test_a_5xx_that_created_nothing_is_resent_once(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _one_offer(conn)
    twilio_standin.fail_next(500)
    clock = [MORNING]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        sender.drain()
        assert twilio_standin.message_count == 0
        clock[0] = _soon(conn)
        sender.drain()
    finally:
        sender.close()
    row = _messages(conn)[0]
    assert twilio_standin.message_count == 1, "not lost"
    assert row["status"] == "sent" and row["provider_id"] == twilio_standin.messages[0].sid


def test_a_timeout_after_the_request_left_is_reconciled(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _one_offer(conn)
    twilio_standin.drop_next()  # accepted, then the connection closes with no answer
    clock = [MORNING]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        sender.drain()
        clock[0] = _soon(conn)
        sender.drain()
    finally:
        sender.close()
    row = _messages(conn)[0]
    assert twilio_standin.message_count == 1 and twilio_standin.duplicate_deliveries() == 0
    assert row["status"] == "sent" and row["provider_id"] == twilio_standin.messages[0].sid


def test_an_offer_that_expired_while_queued_is_dropped_not_sent_late(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _one_offer(conn)
    expires = conn.execute("select expires_at from slotoptim_private.offer").fetchone()
    assert expires is not None
    clock = [expires["expires_at"] + dt.timedelta(seconds=1)]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        sender.drain()
    finally:
        sender.close()
    row = _messages(conn)[0]
    assert twilio_standin.message_count == 0
    assert row["status"] == "expired" and "offer" in row["last_error"]


def test_an_in_doubt_offer_past_expiry_is_reconciled_then_dropped(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _one_offer(conn)
    twilio_standin.fail_next(503)  # no Retry-After: maybe created; it was not
    clock = [MORNING]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        sender.drain()
        expires = conn.execute("select expires_at from slotoptim_private.offer").fetchone()
        assert expires is not None
        clock[0] = expires["expires_at"] + dt.timedelta(minutes=1)
        sender.drain()
    finally:
        sender.close()
    assert twilio_standin.message_count == 0 and twilio_standin.list_requests >= 1
    assert _messages(conn)[0]["status"] == "expired"


def test_rows_a_killed_sender_left_mid_call_are_reconciled_after_the_lease(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    load(conn, 6)
    cancel(conn)
    conn.execute("select * from slotoptim.tick(%s)", (MORNING,))
    # A sender claims three messages, records an attempt for each, gets two of them created at
    # Twilio and dies before recording anything more (kill -9).
    rows = conn.execute(
        "select id, to_address from slotoptim.claim_messages('dead', 10, %s, interval '60 seconds') order by id",
        (MORNING,),
    ).fetchall()
    assert len(rows) == 3
    twilio = channels_from_env(_env(twilio_standin))["sms"]
    for i, row in enumerate(rows):
        body = f"Offer {row['id']}: reply YES. Reply STOP to opt out"
        started = conn.execute(
            "select slotoptim.message_attempt(%s, 'dead', %s, %s, %s) as ok", (row["id"], uuid.uuid4(), body, MORNING)
        ).fetchone()
        assert started is not None and started["ok"]
        if i < 2:
            twilio.send(OutboundMessage(message_id=int(row["id"]), channel="sms", to=row["to_address"], body=body))
    assert twilio_standin.message_count == 2

    clock = [MORNING + dt.timedelta(seconds=30)]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        assert sender.drain() == 0, "the lease still holds"
        clock[0] = MORNING + dt.timedelta(seconds=61)
        assert sender.drain() == 3
    finally:
        sender.close()
    messages = _messages(conn)
    assert twilio_standin.message_count == 3, "the one never created is sent; the two created are not resent"
    assert twilio_standin.duplicate_deliveries() == 0
    assert {m["provider_id"] for m in messages} == {m.sid for m in twilio_standin.messages}
    assert all(m["status"] == "sent" and m["attempt_id"] is None for m in messages)


def test_a_second_sender_cannot_call_the_provider_for_a_row_it_does_not_hold(
    conn: psycopg.Connection[Any], fresh_db: str
) -> None:
    _one_offer(conn)
    (row,) = conn.execute("select id from slotoptim.claim_messages('a', 10, %s, interval '60 seconds')", (MORNING,))
    later = MORNING + dt.timedelta(seconds=61)
    (taken,) = conn.execute("select id from slotoptim.claim_messages('b', 10, %s, interval '60 seconds')", (later,))
    assert taken["id"] == row["id"]
    stale = conn.execute(
        "select slotoptim.message_attempt(%s, 'a', %s, 'x', %s) as ok", (row["id"], uuid.uuid4(), later)
    ).fetchone()
    assert stale is not None and stale["ok"] is False, "the old holder must not call the provider"


def test_a_429_outage_slows_the_account_and_uses_up_no_attempts(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    load(conn, 6)
    cancel(conn)
    conn.execute("select * from slotoptim.tick(%s)", (MORNING,))
    twilio_standin.fail_next(429, retry_after=20, times=100)
    clock = [MORNING]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        sender.drain()
        first = twilio_standin.request_count
        # The account is paused for everyone until Retry-After ends: no call in the meantime.
        clock[0] = MORNING + dt.timedelta(seconds=10)
        conn.execute("update slotoptim_private.message set not_before = %s", (clock[0],))
        sender.drain()
        assert twilio_standin.request_count == first, "paused: nothing is sent to a rate-limited account"
    finally:
        sender.close()
    # At most one call per thread reached the provider before the first 429 paused the account.
    assert first <= 4
    assert all(m["attempts"] == 0 and m["status"] == "queued" for m in _messages(conn))


def test_a_failed_look_up_resends_nothing_and_uses_no_attempt(
    conn: psycopg.Connection[Any], fresh_db: str, twilio_standin: TwilioStandIn
) -> None:
    _one_offer(conn)
    twilio_standin.outage(500, seconds=600, created_share=1.0)  # sends and lists both fail
    clock = [MORNING]
    sender = _sender(fresh_db, twilio_standin, clock)
    try:
        sender.drain()
        assert twilio_standin.message_count == 1, "created, although Twilio answered 500"
        attempts = _messages(conn)[0]["attempts"]
        clock[0] = _soon(conn)
        sender.drain()  # the look-up fails too: nothing may be resent
        row = _messages(conn)[0]
        assert row["status"] == "queued" and row["attempt_id"] is not None
        assert row["attempts"] == attempts, "asking the provider is not an attempt"
        assert "reconciliation failed" in row["last_error"]
        twilio_standin.end_outages()
        clock[0] = _soon(conn) + dt.timedelta(seconds=30)
        sender.drain()
    finally:
        sender.close()
    row = _messages(conn)[0]
    assert twilio_standin.message_count == 1 and row["status"] == "sent"
    assert row["provider_id"] == twilio_standin.messages[0].sid
