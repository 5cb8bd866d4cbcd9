"""Live-queue benchmark (`make bench`): 200 open waiting-room screens (SSE) while desks make 50
queue events per second, against `slotoptim api` in its own process on loopback. Baseline in the
same run: the same event rate watched by a single screen. Prints the event-to-screen latency
(median, p99) of both, their ratio, and the database connections seen during the load (the API's
pool plus the one LISTEN connection, not one per screen). Asserts nothing."""

from __future__ import annotations

import asyncio
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
from api.api_practice import practice
from api.queue_load import LoadResult, run_load
from psycopg import sql
from psycopg.rows import dict_row

from slotoptim.api.apikeys import create_key
from slotoptim.listener import embedded
from slotoptim.listener.practice.importer import import_practice
from slotoptim.migrations.migrate import migrate

SCREENS = int(os.environ.get("QUEUE_BENCH_SCREENS", "200"))
EVENTS_PER_SECOND = float(os.environ.get("QUEUE_BENCH_EVENTS", "50"))
SECONDS = float(os.environ.get("QUEUE_BENCH_SECONDS", "10"))
POOL = 16


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str) -> str:
    migrate(url)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        import_practice(conn, practice("acme", 555))
        org = conn.execute("select id from slotoptim_private.organisation").fetchone()
        assert org is not None
        org_id = int(org["id"])
        location = conn.execute(
            "insert into slotoptim_private.location (org_id, key, name, timezone)"
            " values (%s, 'main', 'Main street', 'America/New_York') returning id",
            (org_id,),
        ).fetchone()
        assert location is not None
        conn.execute(
            "update slotoptim_private.provider set location_id = %s where org_id = %s", (location["id"], org_id)
        )
        conn.execute(
            "insert into slotoptim_private.queue_settings (org_id, overflow_threshold) values (%s, 1000)", (org_id,)
        )
        return create_key(conn, org_id, "bench", "staff").token


def _line(name: str, result: LoadResult) -> str:
    median = statistics.median(result.latencies_ms) if result.latencies_ms else float("nan")
    return (
        f"  {name:<12} median {median:6.0f} ms  p99 {result.percentile(0.99):6.0f} ms  events {result.events:5d}"
        f"  ({result.events / SECONDS:4.1f}/s)  boards {result.boards:7d}"
        f"  db connections max {result.db_connections_max}  errors {result.errors}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        admin = embedded.postgres_server_uri(Path(tmp) / "pg", stop_at_exit=True)
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        url = psycopg.conninfo.make_conninfo(admin, dbname=name)
        key = _prepare(url)
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": url, "SLOTOPTIM_STATE_DIR": tmp, "SLOTOPTIM_API_POOL_SIZE": str(POOL)}
        server = subprocess.Popen(
            [sys.executable, "-m", "slotoptim.listener.cli", "api", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {key}"}
        try:
            for _ in range(300):
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                        break
                except OSError:
                    time.sleep(0.1)
            single = asyncio.run(
                run_load(base, headers, url, clients=1, events_per_second=EVENTS_PER_SECOND, seconds=SECONDS, desks=10)
            )
            many = asyncio.run(
                run_load(
                    base, headers, url, clients=SCREENS, events_per_second=EVENTS_PER_SECOND, seconds=SECONDS, desks=10
                )
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
            embedded.stop_postgres(Path(tmp) / "pg")
    print(f"queue (SSE screens, {EVENTS_PER_SECOND:.0f} events/s asked, {SECONDS:.0f} s, API pool {POOL}, loopback)")
    print(_line("1 screen", single))
    print(_line(f"{SCREENS} screens", many))
    ratio = statistics.median(many.latencies_ms) / max(1e-9, statistics.median(single.latencies_ms))
    print(f"  median latency ratio {SCREENS} screens / 1 screen: {ratio:.2f}")
    print(
        json.dumps(
            {
                "queue": {
                    "screens": SCREENS,
                    "events_per_second_asked": EVENTS_PER_SECOND,
                    "single": {"median_ms": statistics.median(single.latencies_ms), "p99_ms": single.percentile(0.99)},
                    "many": {
                        "median_ms": statistics.median(many.latencies_ms),
                        "p99_ms": many.percentile(0.99),
                        "events": many.events,
                        "db_connections_max": many.db_connections_max,
                    },
                }
            }
        )
    )


if __name__ == "__main__":
    main()
