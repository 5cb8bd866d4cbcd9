"""Scale-out benchmark (`make bench`): the 10,000-offer burst drained by 1, 2 and 3 engine processes
(`slotoptim run --no-api`) sharing one embedded PostgreSQL, with the Twilio stand-in in a process of
its own; one engine killed mid-burst (the others send its batch after the lease); and the replay
lag of a streaming read replica. Prints figures and ratios against the one-engine run of the same
invocation; asserts nothing but that every message went out once.

Run from the repository root with tests/py on the path (the Makefile does). SCALEOUT_OFFERS
changes the burst size (default 10,000).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from scaleout.cluster import Cluster, cluster, count, open_the_gap, prepare_burst, twilio_environment, wait_for
from scaleout.replica import primary_with_replica

from slotoptim.listener import embedded
from slotoptim.migrations.migrate import migrate

OFFERS = int(os.environ.get("SCALEOUT_OFFERS", "10000"))
HERE = Path(__file__).resolve().parent
SENT = "select count(*) from slotoptim_private.message where kind = 'offer' and status = 'sent'"


def _new_db(admin: str) -> str:
    name = f"scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(admin, dbname=name)
    migrate(url)
    return url


class StandIn:
    """tests/bench/standin_process.py: the Twilio stand-in in its own process (its own GIL)."""

    def __enter__(self) -> dict[str, str]:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "standin_process.py")],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(HERE.parent / "py")},
        )
        assert self.process.stdout is not None
        self.credentials: dict[str, str] = json.loads(self.process.stdout.readline())
        return self.credentials

    def tally(self) -> dict[str, int]:
        self.process.terminate()
        out, _ = self.process.communicate(timeout=60)
        result: dict[str, int] = json.loads(out.strip().splitlines()[-1])
        return result

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _environment(standin: dict[str, str], **knobs: str) -> dict[str, str]:
    env = twilio_environment(standin["base_url"], standin["account_sid"], standin["auth_token"], "http://127.0.0.1:9")
    return {**env, **knobs}


def burst(admin: str, engines: int, logs: Path) -> dict[str, Any]:
    url = _new_db(admin)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        prepare_burst(conn, OFFERS)
        standin = StandIn()
        with standin as credentials, cluster(url, _environment(credentials), logs) as running:
            for _ in range(engines):
                running.start_engine()
            running.wait_ready()
            t0 = time.perf_counter()
            open_the_gap(conn)
            everything = "select count(*) from slotoptim_private.message"
            decided = wait_for("the offers to be decided", lambda: count(conn, everything) >= OFFERS, limit=900)
            first = wait_for("the first offer to be sent", lambda: count(conn, SENT) > 0, limit=900, step=0.01)
            sending = wait_for("the burst to be sent", lambda: count(conn, SENT) >= OFFERS, limit=1800, step=0.05)
            total = time.perf_counter() - t0
            per_engine = _per_engine(running, OFFERS)
            running.stop()
            tally = standin.tally()
    return {
        "engines": engines,
        "offers": OFFERS,
        "decide_s": decided,
        "cancel_to_last_sent_s": total,
        "first_sent_s": decided + first,
        "send_phase_s": sending,
        "messages_per_s": OFFERS / sending if sending else float("nan"),
        "per_engine": per_engine,
        "received": tally["received"],
        "duplicates": tally["duplicates"],
    }


def _per_engine(running: Cluster, expected: int) -> list[int]:
    wait_for("the engines to log", lambda: sum(e.messages_sent() for e in running.engines) >= expected, limit=60)
    return [e.messages_sent() for e in running.replicas if e.kind == "engine"]


def killed_mid_burst(admin: str, logs: Path, lease: int = 10) -> dict[str, Any]:
    url = _new_db(admin)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        prepare_burst(conn, OFFERS)
        env_knobs = {"SLOTOPTIM_SENDER_LEASE_SECONDS": str(lease)}
        standin = StandIn()
        with standin as credentials, cluster(url, _environment(credentials, **env_knobs), logs) as running:
            engines = [running.start_engine() for _ in range(3)]
            running.wait_ready()
            t0 = time.perf_counter()
            open_the_gap(conn)
            wait_for("a third of the burst", lambda: count(conn, SENT) >= OFFERS // 3, limit=1800, step=0.05)
            # The victim: the engine holding the most claimed, unsent messages right now.
            holding = conn.execute(
                "select locked_by, count(*) as n from slotoptim_private.message where status = 'sending'"
                " group by locked_by order by n desc limit 1"
            ).fetchone()
            victim = next((e for e in engines if holding and e.worker == holding["locked_by"]), engines[0])
            held = [
                r["id"]
                for r in conn.execute(
                    "select id from slotoptim_private.message where status = 'sending' and locked_by = %s",
                    (victim.worker,),
                ).fetchall()
            ]
            victim.kill()
            killed_at = time.perf_counter() - t0
            wait_for("the burst to be sent", lambda: count(conn, SENT) >= OFFERS, limit=1800, step=0.2)
            total = time.perf_counter() - t0
            recovered = conn.execute(
                "select count(*) filter (where status = 'sent') as sent, count(*) as held"
                " from slotoptim_private.message where id = any(%s)",
                (held,),
            ).fetchone()
            running.stop()
            tally = standin.tally()
    assert recovered is not None
    return {
        "lease_s": lease,
        "killed_at_s": killed_at,
        "victims_unsent_batch": recovered["held"],
        "of_which_sent_by_others": recovered["sent"],
        "cancel_to_last_sent_s": total,
        "received": tally["received"],
        "duplicates": tally["duplicates"],
    }


def _one(conn: psycopg.Connection[Any], query: str, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


REPLAYED = "select pg_last_wal_replay_lsn() >= %s::pg_lsn"


def replica_lag(commits: int = 200) -> dict[str, float]:
    """Milliseconds from a commit on the primary until the replica has replayed it."""
    lags: list[float] = []
    with (
        primary_with_replica() as pair,
        psycopg.connect(pair.primary_admin, autocommit=True) as primary,
        psycopg.connect(pair.replica_admin, autocommit=True) as replica,
    ):
        primary.execute("create table lag_probe (id bigint primary key, at timestamptz not null)")
        wait_for("the table on the replica", lambda: _one(replica, "select to_regclass('lag_probe')") is not None)
        for i in range(commits):
            primary.execute("insert into lag_probe values (%s, now())", (i,))
            lsn = _one(primary, "select pg_current_wal_lsn()::text")
            lags.append(wait_for("replay", lambda lsn=lsn: bool(_one(replica, REPLAYED, (lsn,))), step=0.0005) * 1000)
    ordered = sorted(lags)
    return {
        "commits": commits,
        "median_ms": statistics.median(lags),
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "max_ms": max(lags),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        admin = embedded.postgres_server_uri(Path(tmp) / "pg", stop_at_exit=True)
        print(f"scale-out ({OFFERS} offers, {os.cpu_count()} cores shared with everything else)", flush=True)
        try:
            baseline: float | None = None
            for engines in (1, 2, 3):
                logs = Path(tmp) / f"logs-{engines}"
                logs.mkdir()
                result = burst(admin, engines, logs)
                baseline = baseline or result["messages_per_s"]
                result["vs_one_engine"] = result["messages_per_s"] / baseline
                _print(f"burst_{engines}_engines", result)
            logs = Path(tmp) / "logs-kill"
            logs.mkdir()
            _print("three_engines_one_killed", killed_mid_burst(admin, logs))
        finally:
            embedded.stop_postgres(Path(tmp) / "pg")
    _print("read_replica_replay_lag", replica_lag())


def _print(name: str, result: dict[str, Any]) -> None:
    text = ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items())
    print(f"  {name}: {text}", flush=True)
    print(json.dumps({name: result}, default=str), flush=True)


if __name__ == "__main__":
    main()
