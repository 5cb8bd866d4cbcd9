"""A claim's winner leaves the losers to the engine (issue 18): the gap's other offers are retracted
after the claim commits, by the engine's next pass, with the same outcome as before. Meanwhile a
loser's claim is refused, a loser cannot decline, and no loser's queued offer text is sent; an
engine killed half-way through a retraction retracts on its next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import psycopg
from fill.fill_practice import MORNING, cancel, load, settings

from slotoptim.listener.channels.base import OutboundMessage, SendResult
from slotoptim.listener.engine import Engine
from slotoptim.listener.sender import Sender, SenderConfig


class RecordingChannel:
    """Every message handed to a channel, by outbox id."""

    name = "sms"

    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message.message_id)
        return SendResult(provider_id=f"rec-{message.message_id}", status="sent")


def _engine(url: str, channel: RecordingChannel) -> Engine:
    channels = {"sms": channel, "whatsapp": channel, "email": channel, "console": channel}
    sender = Sender(url, channels, SenderConfig(threads=2), clock=lambda: MORNING, worker="test")  # type: ignore[arg-type]
    return Engine(url, sender, clock=lambda: MORNING)


def _offered(conn: psycopg.Connection[Any], customers: int = 8) -> tuple[int, list[dict[str, Any]]]:
    load(conn, customers)
    settings(conn, score_threshold=0, send_window_start="00:00", send_window_end="24:00")
    gap = cancel(conn)
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, MORNING))
    made = [dict(r) for r in conn.execute("select * from slotoptim_private.offer order by id")]
    assert len(made) == customers
    return gap, made


def _claim(conn: psycopg.Connection[Any], offer: dict[str, Any]) -> str:
    row = conn.execute(
        "select outcome from slotoptim.claim_offer(%s, %s, %s)", (offer["id"], offer["customer_id"], MORNING)
    ).fetchone()
    assert row is not None
    return str(row["outcome"])


def _statuses(conn: psycopg.Connection[Any], ids: list[int]) -> dict[int, str]:
    rows = conn.execute("select id, status from slotoptim_private.offer where id = any(%s)", (ids,))
    return {int(r["id"]): str(r["status"]) for r in rows}


def _message_statuses(conn: psycopg.Connection[Any], offer_ids: list[int], kind: str) -> list[str]:
    rows = conn.execute(
        "select status from slotoptim_private.message where offer_id = any(%s) and kind = %s order by id",
        (offer_ids, kind),
    )
    return [str(r["status"]) for r in rows]


def _queued_retractions(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("select count(*) as n from slotoptim_private.offer_retraction").fetchone()
    assert row is not None
    return int(row["n"])


def test_the_engine_retracts_the_losers_after_the_claim_commits(conn: psycopg.Connection[Any], fresh_db: str) -> None:
    gap, made = _offered(conn)
    winner, losers = made[0], [o["id"] for o in made[1:]]
    assert _claim(conn, winner) == "booked"

    # The claim's transaction left them: still open, their texts still queued, the gap queued.
    assert set(_statuses(conn, losers).values()) == {"open"}
    assert set(_message_statuses(conn, losers, "offer")) == {"queued"}
    assert _queued_retractions(conn) == 1

    channel = RecordingChannel()
    engine = _engine(fresh_db, channel)
    try:
        engine.run_pass()
    finally:
        engine.sender.close()

    # As an in-transaction retraction left them: retracted as of the claim, texts cancelled, and
    # no "filled" notice for texts that never went out.
    rows = conn.execute(
        "select status, responded_at from slotoptim_private.offer where id = any(%s)", (losers,)
    ).fetchall()
    assert {(r["status"], r["responded_at"]) for r in rows} == {("retracted", MORNING)}
    assert set(_message_statuses(conn, losers, "offer")) == {"cancelled"}
    assert _message_statuses(conn, losers, "filled") == []
    assert _queued_retractions(conn) == 0
    sent_kinds = conn.execute(
        "select kind, offer_id from slotoptim_private.message where id = any(%s)", (channel.sent,)
    ).fetchall()
    assert [(r["kind"], r["offer_id"]) for r in sent_kinds] == [("booked", winner["id"])]
    status = conn.execute("select status from slotoptim_private.gap where id = %s", (gap,)).fetchone()
    assert status is not None and status["status"] == "filled"


def test_losers_who_already_got_the_text_hear_the_opening_is_filled(
    conn: psycopg.Connection[Any], fresh_db: str
) -> None:
    _, made = _offered(conn, customers=5)
    channel = RecordingChannel()
    engine = _engine(fresh_db, channel)
    try:
        engine.run_pass()  # the offers go out
        assert len(channel.sent) == 5
        assert _claim(conn, made[2]) == "booked"
        engine.run_pass()
    finally:
        engine.sender.close()
    losers = [o["id"] for i, o in enumerate(made) if i != 2]
    assert set(_statuses(conn, losers).values()) == {"retracted"}
    assert _message_statuses(conn, losers, "filled") == ["sent"] * 4


def test_before_the_engine_runs_a_loser_is_refused_and_nothing_of_theirs_is_sent(
    conn: psycopg.Connection[Any], fresh_db: str
) -> None:
    _, made = _offered(conn)
    assert _claim(conn, made[0]) == "booked"
    loser = made[1]

    # The gap is filled: the claim path refuses by the gap's status (a "YES" text too), and a decline
    # is refused as for a retracted offer.
    assert _claim(conn, loser) == "filled"
    declined = conn.execute(
        "select slotoptim.decline_offer(%s, %s, %s) as ok", (loser["id"], loser["customer_id"], MORNING)
    ).fetchone()
    assert declined is not None and declined["ok"] is False
    phone = conn.execute(
        "select org_id, phone from slotoptim_private.customer where id = %s", (loser["customer_id"],)
    ).fetchone()
    assert phone is not None
    texted = conn.execute(
        "select action, outcome from slotoptim.inbound_text(%s, %s, 'yes', %s)",
        (phone["org_id"], phone["phone"], MORNING),
    ).fetchone()
    assert texted is not None and (texted["action"], texted["outcome"]) == ("claim", "filled")

    # The sender alone (no retraction yet): the losers' queued offer texts stay unsent.
    channel = RecordingChannel()
    engine = _engine(fresh_db, channel)
    try:
        engine.sender.drain()
        losers = [o["id"] for o in made[1:]]
        assert set(_message_statuses(conn, losers, "offer")) == {"queued"}
        kinds = conn.execute("select kind from slotoptim_private.message where id = any(%s)", (channel.sent,))
        assert [r["kind"] for r in kinds] == ["booked"]
        engine.run_pass()
        assert set(_message_statuses(conn, losers, "offer")) == {"cancelled"}
        assert set(_statuses(conn, losers).values()) == {"retracted"}
    finally:
        engine.sender.close()


KILLED_ENGINE = textwrap.dedent(
    """
    import sys, time, psycopg
    with psycopg.connect(sys.argv[1]) as conn:  # one transaction, never committed
        conn.execute("select slotoptim_private.retract_claimed_gap()")
        print("retracting", flush=True)
        time.sleep(600)
    """
)


def test_an_engine_killed_while_retracting_retracts_on_restart(conn: psycopg.Connection[Any], fresh_db: str) -> None:
    _, made = _offered(conn)
    assert _claim(conn, made[0]) == "booked"
    losers = [o["id"] for o in made[1:]]

    killed = subprocess.Popen([sys.executable, "-c", KILLED_ENGINE, fresh_db], stdout=subprocess.PIPE, text=True)
    try:
        assert killed.stdout is not None and killed.stdout.readline().strip() == "retracting"
        os.kill(killed.pid, signal.SIGKILL)
    finally:
        killed.wait()

    # The server notices the lost client and rolls its transaction back.
    def killed_session_gone() -> bool:
        row = conn.execute(
            "select count(*) as n from pg_stat_activity"
            " where query like '%%retract_claimed_gap%%' and pid <> pg_backend_pid()"
        ).fetchone()
        return row is not None and row["n"] == 0

    while not killed_session_gone():
        time.sleep(0.05)
    assert set(_statuses(conn, losers).values()) == {"open"}
    assert _queued_retractions(conn) == 1

    channel = RecordingChannel()
    engine = _engine(fresh_db, channel)
    try:
        engine.run_pass()  # what a restarted engine runs first
    finally:
        engine.sender.close()
    assert set(_statuses(conn, losers).values()) == {"retracted"}
    assert set(_message_statuses(conn, losers, "offer")) == {"cancelled"}
    assert _queued_retractions(conn) == 0


def test_a_tick_on_its_own_retracts_first_in_the_claimants_name(conn: psycopg.Connection[Any]) -> None:
    _, made = _offered(conn, customers=4)
    conn.execute(
        'select set_config(\'slotoptim.actor\', \'{"kind": "user", "id": "staff-9"}\', false)',
    )
    assert _claim(conn, made[0]) == "booked"
    conn.execute("select set_config('slotoptim.actor', '', false)")
    losers = [o["id"] for o in made[1:]]
    assert set(_statuses(conn, losers).values()) == {"open"}

    conn.execute("select * from slotoptim.tick(%s)", (MORNING,))  # what a simulation or the CLI runs
    assert set(_statuses(conn, losers).values()) == {"retracted"}
    assert _queued_retractions(conn) == 0
    actors = conn.execute(
        "select distinct actor_kind, actor_id from slotoptim_private.audit_event"
        " where entity = 'offer' and entity_id = any(%s) and new_values ->> 'status' = 'retracted'",
        (losers,),
    ).fetchall()
    assert [(r["actor_kind"], r["actor_id"]) for r in actors] == [("user", "staff-9")]
