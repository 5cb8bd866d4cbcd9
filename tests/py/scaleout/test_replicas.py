"""Three engine processes and two API processes against one PostgreSQL (the shape of the ECS
services in infra/cdk): a burst of offers goes out once each, fifty customers who tap their links
at the same moment through either API get exactly one booking, and when an engine dies mid-burst
the others send its messages once its lease ends. Sizes are small here; tests/bench/scaleout_bench.py
runs the 10,000-offer burst and reports throughput with 1, 2 and 3 engines."""

from __future__ import annotations

import re
import threading
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
from channels.twilio_standin import TwilioStandIn, free_port
from scaleout.cluster import Cluster, cluster, count, open_the_gap, prepare_burst, twilio_environment, wait_for

BURST = 120
CLAIMANTS = 50
OFFERS_SENT = "select count(*) from slotoptim_private.message where kind = 'offer' and status = 'sent'"


def _environment(standin: TwilioStandIn, redis_url: str, public_url: str) -> dict[str, str]:
    return {
        **twilio_environment(standin.base_url, standin.account_sid, standin.auth_token, public_url),
        "REDIS_URL": redis_url,
    }


def _claim(api_url: str, token: str) -> int:
    body = urllib.parse.urlencode({"token": token}).encode()
    request = urllib.request.Request(f"{api_url}/c/{token}", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return int(response.status)


def _claims_by_outcome(running: Cluster) -> dict[str, float]:
    outcomes: dict[str, float] = {}
    for api in running.apis:
        with urllib.request.urlopen(f"{api.url}/metrics", timeout=10) as response:
            text = response.read().decode()
        for outcome, value in re.findall(r'slotoptim_claims_total\{outcome="([a-z_]+)",via="web"\} ([0-9.]+)', text):
            outcomes[outcome] = outcomes.get(outcome, 0.0) + float(value)
    return outcomes


def test_three_engines_send_a_burst_once_and_two_apis_book_a_gap_once(
    conn: psycopg.Connection[Any],
    fresh_db: str,
    twilio_standin: TwilioStandIn,
    shared_redis_url: str,
    tmp_path: Path,
) -> None:
    prepare_burst(conn, BURST)
    ports = [free_port(), free_port()]
    # The claim links point at the first API; the APIs share the Redis of the claim holds.
    environment = {
        **_environment(twilio_standin, shared_redis_url, f"http://127.0.0.1:{ports[0]}"),
        "SLOTOPTIM_SENDER_BATCH": "20",  # small batches: the burst is shared out, as 10,000 would be
    }
    with cluster(fresh_db, environment, tmp_path) as running:
        apis = [running.start_api(port) for port in ports]
        engines = [running.start_engine() for _ in range(3)]
        running.wait_ready()

        open_the_gap(conn)
        wait_for(f"{BURST} offers to be sent", lambda: count(conn, OFFERS_SENT) >= BURST)

        # Every offer went out exactly once: one provider message per row, one row per customer.
        assert count(conn, "select count(*) from slotoptim_private.message where kind = 'offer'") == BURST
        assert count(conn, "select count(distinct provider_id) from slotoptim_private.message") == BURST
        offers = [m for m in twilio_standin.messages if "/c/" in (m.body or "")]
        assert len(offers) == BURST
        assert len({m.to for m in offers}) == BURST
        assert twilio_standin.duplicate_tokens() == {}
        # The outbox was shared: SKIP LOCKED let more than one engine send.
        # (Each engine logs its pass once the pass ends, a moment after the last row is recorded.)
        wait_for("the engines to log their passes", lambda: sum(e.messages_sent() for e in engines) >= BURST)
        per_engine = [e.messages_sent() for e in engines]
        assert sum(per_engine) == BURST, per_engine
        assert sum(1 for n in per_engine if n > 0) >= 2, per_engine

        # Fifty customers tap their links at once, half through each API process.
        tokens = [re.search(r"/c/([A-Za-z0-9_-]+)", m.body or "").group(1) for m in offers[:CLAIMANTS]]  # type: ignore[union-attr]
        barrier = threading.Barrier(CLAIMANTS)
        statuses: list[int] = []
        lock = threading.Lock()

        def tap(i: int, token: str) -> None:
            barrier.wait()
            status = _claim(apis[i % 2].url, token)
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=tap, args=(i, t)) for i, t in enumerate(tokens)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200] * CLAIMANTS
        outcomes = _claims_by_outcome(running)
        assert outcomes.get("booked") == 1, outcomes
        assert sum(outcomes.values()) == CLAIMANTS, outcomes
        booked = count(
            conn,
            "select count(*) from slotoptim_private.appointment a join slotoptim_private.gap g"
            " on g.provider_id = a.provider_id and g.during && a.period where a.status = 'booked' and a.key is null",
        )
        assert booked == 1


def test_a_killed_engines_messages_are_sent_by_the_others_after_its_lease(
    conn: psycopg.Connection[Any],
    fresh_db: str,
    twilio_standin: TwilioStandIn,
    shared_redis_url: str,
    tmp_path: Path,
) -> None:
    prepare_burst(conn, BURST)
    # One message at a time per engine and a ten-second lease: the victim holds its batch while its
    # first send hangs; the others may take the batch over only when the lease has ended.
    knobs = {"SLOTOPTIM_SENDER_LEASE_SECONDS": "10", "SLOTOPTIM_SENDER_BATCH": "40", "SLOTOPTIM_SENDER_THREADS": "1"}
    environment = {**_environment(twilio_standin, shared_redis_url, "http://127.0.0.1:9"), **knobs}
    with cluster(fresh_db, environment, tmp_path) as running:
        victim = running.start_engine()
        running.wait_ready()
        twilio_standin.stall_next(1)
        open_the_gap(conn)
        held = "select id, locked_until from slotoptim_private.message where status = 'sending' and locked_by = %s"
        wait_for("the victim to claim a batch", lambda: len(conn.execute(held, (victim.worker,)).fetchall()) > 0)
        wait_for("the victim's first send to hang", lambda: twilio_standin.request_count >= 1)
        its_batch = conn.execute(held, (victim.worker,)).fetchall()
        # The survivors' own lease is long: on a loaded machine a 40-message batch sent one at a
        # time may outlast ten seconds, and a survivor must not lose its batch to the other.
        long_lease = {"SLOTOPTIM_SENDER_LEASE_SECONDS": "120"}
        survivors = [running.start_engine(**long_lease), running.start_engine(**long_lease)]
        running.wait_ready()
        victim.kill()  # mid-burst: its batch is claimed and unsent

        wait_for(f"{BURST} offers to be sent", lambda: count(conn, OFFERS_SENT) >= BURST)
        # Its batch, and the next one when it had claimed it while the first was sent
        # (listener/sender.py claims a batch ahead): both wait for the lease.
        assert len(its_batch) in (40, 80)
        rows = conn.execute(
            "select id, status, attempts, sent_at from slotoptim_private.message where id = any(%s)",
            ([r["id"] for r in its_batch],),
        ).fetchall()
        assert {r["status"] for r in rows} == {"sent"}
        assert all(r["attempts"] == 2 for r in rows)  # claimed by the victim, then by a survivor
        # Not before the victim's lease of that row ended. Each row has its own: the hung send's
        # attempt extended its row's lease past the batch's (slotoptim.message_attempt).
        lease_end = {r["id"]: r["locked_until"] for r in its_batch}
        assert all(r["sent_at"] >= lease_end[r["id"]] for r in rows)
        wait_for("the survivors to log their passes", lambda: sum(e.messages_sent() for e in survivors) >= BURST)
        assert sum(e.messages_sent() for e in survivors) == BURST
        # Every message reached the provider once from the survivors...
        assert twilio_standin.message_count == BURST
        assert twilio_standin.duplicate_tokens() == {}
        # ...but the one send that was in flight when the victim died is accepted too once the
        # provider gets round to it: Twilio's Messages API has no idempotency key (reference
        # integrations.md §3), so a message whose sender died mid-request goes out twice. The
        # window is the requests in flight at the crash (docs/scaling.md, "What breaks first").
        twilio_standin.release_stalled()
        wait_for("the hung request to be accepted", lambda: twilio_standin.message_count == BURST + 1)
        assert list(twilio_standin.duplicate_tokens().values()) == [2]
