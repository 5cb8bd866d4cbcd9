"""`make bench`: calendar sync. Initial sync of 10,000 Google events and an incremental sync of 100
changes through google-api-python-client against the wire-format stand-in, with the stand-in's own
time left out; the batched page apply against a naive one-call-per-event apply measured in the
same run; end-to-end latency from a Google push to the first offer handed to the channel; and the
double-booking window a claim leaves (from its calendar pull to its commit). Prints; asserts nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from calsync import e2e
from calsync.google_standin import GoogleStandin, running
from integrations.practice import link_calendar, make_practice
from psycopg import sql
from psycopg.rows import dict_row

from slotoptim.listener import embedded
from slotoptim.listener.calendar.google import normalise
from slotoptim.listener.calendar.sync import sync_connection
from slotoptim.migrations.migrate import migrate

FIXTURES = Path(__file__).resolve().parents[1] / "sql" / "fixtures.sql"
CAL = "dr-a@example.com"
EVENTS = 10_000
CHANGES = 100
BASELINE_EVENTS = 1_000


def new_database(admin: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(admin, dbname=name)
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(FIXTURES.read_text().encode())
    return url


def events(count: int, start: dt.datetime) -> list[dict[str, Any]]:
    # 45-minute events every hour, around the clock: no two overlap.
    return [
        {
            "id": f"ev{i:05d}",
            "summary": "Busy",
            "start": {"dateTime": (start + dt.timedelta(hours=i)).isoformat()},
            "end": {"dateTime": (start + dt.timedelta(hours=i, minutes=45)).isoformat()},
        }
        for i in range(count)
    ]


def apply_seconds(url: str) -> float:
    """Total time spent in slotoptim.apply_external_items so far (track_functions = all). A
    backend reports its statistics when it ends, so this waits until they are in."""
    for _ in range(50):
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(
                "select total_time from pg_stat_user_functions where funcname = 'apply_external_items'"
            ).fetchone()
        if row is not None:
            return float(row[0]) / 1000
        time.sleep(0.1)
    return float("nan")


def sync_bench(admin: str, google: GoogleStandin) -> dict[str, Any]:
    url = new_database(admin)
    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=2)
    google.put_events(CAL, events(EVENTS, start))
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        org_id, provider_id = make_practice(conn)
        cid = link_calendar(
            conn, org_id, provider_id, config={"calendar_id": CAL}, secret_values={"refresh_token": "1//refresh-dr-a"}
        )
    with psycopg.connect(url, autocommit=True) as conn:
        # The apply step's own time (slotoptim.apply_external_items, triggers included), from the
        # server's function statistics.
        conn.execute(sql.SQL("alter database {} set track_functions = 'all'").format(sql.Identifier(conn.info.dbname)))
    google.state.server_seconds = 0.0
    t0 = time.perf_counter()
    full = sync_connection(url, cid)
    full_s = time.perf_counter() - t0
    full_standin = google.state.server_seconds
    full_apply = apply_seconds(url)

    for i in range(0, CHANGES, 2):
        google.delete_event(CAL, f"ev{i:05d}", notify=False)
        moved = events(EVENTS, start)[i + 1]
        moved["end"] = {"dateTime": (start + dt.timedelta(hours=i + 1, minutes=30)).isoformat()}
        google.put_event(CAL, moved, notify=False)
    google.state.server_seconds = 0.0
    t0 = time.perf_counter()
    incremental = sync_connection(url, cid)
    inc_s = time.perf_counter() - t0
    inc_standin = google.state.server_seconds

    # Baseline in the same run: events applied one call (and commit) per event, the way a sync
    # loop that upserts each event on its own would. 1,000 of them, scaled to 10,000.
    baseline_url = new_database(admin)
    items = [normalise(e, "UTC").as_json() for e in events(BASELINE_EVENTS, start)]
    with psycopg.connect(baseline_url, autocommit=True, row_factory=dict_row) as conn:
        org_id, provider_id = make_practice(conn)
        bid = link_calendar(conn, org_id, provider_id, config={"calendar_id": CAL})
        t0 = time.perf_counter()
        for item in items:
            conn.execute("select slotoptim.apply_external_items(%s, %s::jsonb, 0)", (bid, json.dumps([item])))
        naive_s = (time.perf_counter() - t0) * EVENTS / BASELINE_EVENTS
    batched_apply_s = full_s - full_standin
    return {
        "load_average_1m": round(os.getloadavg()[0], 1),
        "events": EVENTS,
        "initial_sync_s": round(full_s, 3),
        "initial_standin_s": round(full_standin, 3),
        "initial_sync_without_standin_s": round(full_s - full_standin, 3),
        "initial_apply_sql_s": round(full_apply, 3),
        "initial_imported": full.imported,
        "incremental_changes": CHANGES,
        "incremental_sync_s": round(inc_s, 3),
        "incremental_without_standin_s": round(inc_s - inc_standin, 3),
        "incremental_released": incremental.released,
        "naive_per_event_apply_s_scaled": round(naive_s, 3),
        "naive_over_batched": round(naive_s / batched_apply_s, 2) if batched_apply_s > 0 else None,
    }


def latency_bench(admin: str, google: GoogleStandin, rounds: int = 30) -> dict[str, Any]:
    url = new_database(admin)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        latencies = e2e.run(url, conn, google, rounds)
    return {k: round(v, 1) for k, v in e2e.summary(latencies).items()}


def window_bench(admin: str, google: GoogleStandin, rounds: int = 50) -> dict[str, Any]:
    """The claim's pull and commit: an event created in Google after the pull's request left and
    before the claim commits is the one case the pull cannot see. Measured as the time from the
    pull's start to the end of a claim-sized transaction, with no changes to pull."""
    url = new_database(admin)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        org_id, provider_id = make_practice(conn)
        cid = link_calendar(
            conn, org_id, provider_id, config={"calendar_id": CAL}, secret_values={"refresh_token": "1//refresh-dr-a"}
        )
        sync_connection(url, cid)
        from slotoptim.listener.calendar.sync import sync_on

        windows = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            sync_on(conn, cid)
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(42)")  # stands for claim_offer's few ms of locks
                conn.execute("select slotoptim_private.clock()")
            windows.append(time.perf_counter() - t0)
    ordered = sorted(windows)
    return {
        "n": rounds,
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[round(0.99 * (rounds - 1))] * 1000, 1),
    }


def main() -> None:
    os.environ.setdefault("SLOTOPTIM_SECRET_KEY", base64.b64encode(os.urandom(32)).decode())
    with tempfile.TemporaryDirectory() as tmp:
        admin = os.environ.get("BENCH_DATABASE_URL") or embedded.postgres_server_uri(
            Path(tmp) / "pg", stop_at_exit=True
        )
        try:
            print("calendar sync", flush=True)
            for name, step in (
                ("google_sync", sync_bench),
                ("push_to_first_offer", latency_bench),
                ("claim_double_booking_window", window_bench),
            ):
                with running() as google:
                    os.environ["GOOGLE_CALENDAR_API_URL"] = google.api_url
                    os.environ["GOOGLE_OAUTH_TOKEN_URL"] = google.token_url
                    os.environ.setdefault("GOOGLE_CLIENT_ID", "bench.apps.googleusercontent.com")
                    os.environ.setdefault("GOOGLE_CLIENT_SECRET", "bench-secret")
                    google.grant("1//refresh-dr-a")
                    result = step(admin, google)
                print(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in result.items()), flush=True)
                print(json.dumps({name: result}), flush=True)
        finally:
            if not os.environ.get("BENCH_DATABASE_URL"):
                embedded.stop_postgres(Path(tmp) / "pg")


if __name__ == "__main__":
    main()
