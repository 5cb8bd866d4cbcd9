"""HTTP benchmark (`make bench`): GET /v1/gaps/analyze under load against `slotoptim api` on
loopback, in variants served side by side and measured alternately (rounds of each in turn), so
every ratio compares figures of the same run:

- threaded (the baseline): SLOTOPTIM_API_ASYNC_READS=no, the path every route takes (a worker
  thread, a checked borrow, BEGIN, context, query, COMMIT: five round trips);
- async, auto plans: the asyncio pool, BEGIN, context, query and COMMIT in one pipelined round
  trip, with the server's plan_cache_mode (auto);
- async, generic (the default): the same with plan_cache_mode=force_generic_plan.

GET /healthz (no database) is the server's own ceiling. Then the database part alone, in this
process without HTTP: one request's pipeline (AsyncReads.fetch, one connection, back to back) with
psycopg's prepared statements (from the 5th use) or none, and plan_cache_mode auto or
force_generic_plan, the four alternating; median and p99 per request. Load from wrk (Debian's package) when
installed, else a Python asyncio client that says so (tests/bench/http_load.py). Prints requests
per second and latency percentiles with ratios; asserts nothing. Loopback only."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
from bench_dates import NEW_YORK, monday_ahead
from http_load import CLIENT, load
from psycopg import sql
from psycopg.rows import dict_row

from slotoptim.api.aioreads import AsyncReads
from slotoptim.api.apikeys import create_key
from slotoptim.api.db import Database
from slotoptim.api.identity import Actor, DbContext
from slotoptim.api.queries import gaps as gap_queries
from slotoptim.listener import embedded
from slotoptim.listener.practice.demo import build_demo_practice
from slotoptim.listener.practice.importer import import_practice
from slotoptim.migrations.migrate import migrate

SECONDS = float(os.environ.get("API_BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("API_BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("API_BENCH_CONNECTIONS", "16"))
VARIANTS = {
    "threaded (baseline)": {"SLOTOPTIM_API_ASYNC_READS": "no"},
    "async, auto plans": {"SLOTOPTIM_API_PLAN_CACHE_MODE": "auto"},
    "async, generic (default)": {},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The database part: (prepare_threshold, plan_cache_mode) of the asyncio reads' connection.
DB_VARIANTS: dict[str, tuple[int | None, str | None]] = {
    "prepared, auto plans": (5, "auto"),
    "never prepared, auto plans": (None, "auto"),
    "prepared, generic (default)": (5, "force_generic_plan"),
    "never prepared, generic": (None, "force_generic_plan"),
}
DB_REQUESTS = 300


async def _database_part(url: str, org_id: int, params: dict[str, object]) -> dict[str, list[float]]:
    db = Database(url, max_size=1)
    db.open()
    ctx = DbContext(org_id, Actor("api_key", "bench", None))
    with db.transaction(ctx):
        pass  # confirms the app role, as a first threaded request would
    reads = {
        name: AsyncReads(db, max_size=1, prepare_threshold=p, plan_cache_mode=m) for name, (p, m) in DB_VARIANTS.items()
    }
    for r in reads.values():
        await r.open()
    timings: dict[str, list[float]] = {name: [] for name in reads}
    try:
        for round_ in range(ROUNDS + 1):  # the first round warms (connections, prepared statements)
            for name, r in reads.items():
                for _ in range(DB_REQUESTS):
                    started = time.perf_counter()
                    await r.fetch(ctx, gap_queries.ANALYSE, params)
                    if round_:
                        timings[name].append((time.perf_counter() - started) * 1000)
    finally:
        for r in reads.values():
            await r.close()
        db.close()
    return timings


def _serve(url: str, tmp: str, changes: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SLOTOPTIM_STATE_DIR": tmp, "SLOTOPTIM_API_POOL_SIZE": "16", **changes}
    server = subprocess.Popen(
        [sys.executable, "-m", "slotoptim.listener.cli", "api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    return server, base


def _median(runs: list[dict[str, float]], name: str) -> float:
    return statistics.median(r.get(name, 0.0) for r in runs)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        admin = embedded.postgres_server_uri(Path(tmp) / "pg", stop_at_exit=True)
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        url = psycopg.conninfo.make_conninfo(admin, dbname=name)
        migrate(url)
        # Relative to the clock: the demo fortnight starts on a Monday ahead; the Tuesday is analysed.
        monday = monday_ahead()
        tuesday = dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(0), tzinfo=NEW_YORK)
        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
            import_practice(conn, build_demo_practice(monday))
            org = conn.execute("select id from slotoptim_private.organisation").fetchone()
            assert org is not None
            key = create_key(conn, int(org["id"]), "bench", "readonly").token
        analyse = gap_queries.analyse_params("dr-chen", tuesday, tuesday + dt.timedelta(days=1), None)
        database = asyncio.run(_database_part(url, int(org["id"]), analyse))
        servers = {name: _serve(url, tmp, changes) for name, changes in VARIANTS.items()}
        query = (
            (
                f"/v1/gaps/analyze?provider=dr-chen&start={tuesday.isoformat()}"
                f"&end={(tuesday + dt.timedelta(days=1)).isoformat()}"
            )
            .replace(":", "%3A")
            .replace("+", "%2B")
        )
        auth = {"Authorization": f"Bearer {key}"}
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
        try:
            for _, base in servers.values():  # warm: pools filled, key cached, statements prepared
                load(f"{base}{query}", auth, CONNECTIONS, 1)
            health = load(f"{next(iter(servers.values()))[1]}/healthz", {}, CONNECTIONS, SECONDS)
            for _ in range(ROUNDS):
                for name, (_, base) in servers.items():
                    runs[name].append(load(f"{base}{query}", auth, CONNECTIONS, SECONDS))
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait(timeout=30)
            embedded.stop_postgres(Path(tmp) / "pg")
    baseline = next(iter(VARIANTS))
    base_rps, base_p99 = _median(runs[baseline], "requests_per_second"), _median(runs[baseline], "p99_ms")
    print(f"api ({CLIENT}, {CONNECTIONS} connections, {ROUNDS} alternating rounds of {SECONDS:g} s, loopback; medians)")
    print(
        f"  GET /healthz (no database):  {health['requests_per_second']:8.0f} req/s,"
        f" p99 {health.get('p99_ms', 0):7.2f} ms"
    )
    print("  GET /v1/gaps/analyze (goal >= 1,000 req/s, p99 < 20 ms):")
    for name, variant_runs in runs.items():
        rps, p50, p99 = (_median(variant_runs, m) for m in ("requests_per_second", "p50_ms", "p99_ms"))
        failed = sum(r["non_2xx"] for r in variant_runs)
        print(
            f"    {name:24s} {rps:7.0f} req/s ({rps / base_rps:4.2f}x), p50 {p50:6.2f} ms,"
            f" p99 {p99:6.2f} ms ({p99 / base_p99:4.2f}x), non-2xx {failed:.0f}"
        )
    print(f"  the database part alone (one connection, {ROUNDS} alternating rounds of {DB_REQUESTS} requests):")
    first = statistics.median(next(iter(database.values())))
    for name, times in database.items():
        cuts = statistics.quantiles(times, n=100)
        print(
            f"    {name:30s} median {statistics.median(times):5.2f} ms ({statistics.median(times) / first:4.2f}x),"
            f" p99 {cuts[98]:5.2f} ms"
        )
    print(json.dumps({"api": {"client": CLIENT, "healthz": health, "gaps_analyze": runs}}))


if __name__ == "__main__":
    main()
