"""Fill-engine benchmarks (`make bench`): latency from a committed cancellation to the first offer
handed to a channel, 10,000 offers through the Twilio stand-in, and candidate ranking over 100,000
waitlist entries (claims with 50 contenders: claim_bench.py). Prints figures; asserts nothing.

Run from the repository root with tests/py on the path (the Makefile does).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from baseline_sql import apply_baseline
from bench_dates import slot_start
from fill.fill_practice import practice as _fixed_practice
from psycopg import sql
from psycopg.rows import dict_row

from slotoptim.listener import embedded
from slotoptim.listener.channels.base import OutboundMessage, SendResult
from slotoptim.listener.channels.registry import channels_from_env
from slotoptim.listener.dbclone import clone_database
from slotoptim.listener.engine import Engine
from slotoptim.listener.practice.importer import import_practice
from slotoptim.listener.sender import Sender, SenderConfig
from slotoptim.migrations.migrate import migrate

# Relative to the clock (tests/bench/bench_dates.py): the engine runs on the real clock, so a slot in the
# past would never be offered and a round would only measure its timeout.
SLOT_START = slot_start()
MORNING = SLOT_START.replace(hour=9)


def practice(customers: int, **kwargs: Any) -> dict[str, Any]:
    return _fixed_practice(customers, slot_start=SLOT_START, **kwargs)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _new_db(admin: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(admin, dbname=name)
    migrate(url)
    return url


def _open_all_hours(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "update slotoptim_private.organisation_settings set send_window_start = '00:00', send_window_end = '24:00',"
        " max_offers_per_day = 100000, max_offers_per_week = 100000, score_threshold = 0"
    )


class TimingChannel:
    """Records when each message reached the channel, and wakes whoever waits for one (an event,
    not a polling loop: a waiter that wakes every half millisecond takes the GIL from the engine)."""

    name = "sms"

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        self.arrived = threading.Event()

    def send(self, message: OutboundMessage) -> SendResult:
        self.arrivals[message.message_id] = time.perf_counter()
        self.arrived.set()
        return SendResult(provider_id=f"bench-{message.message_id}-{uuid.uuid4().hex[:6]}", status="sent")


class _Path:
    """One way from a cancellation to its first offer: a database, an engine, its channel."""

    def __init__(self, admin: str, baseline: bool) -> None:
        from baseline_engine import BaselineEngine, BaselineSender

        self.url = _new_db(admin)
        with psycopg.connect(self.url, autocommit=True, row_factory=dict_row) as conn:
            if baseline:
                apply_baseline(conn)
            import_practice(conn, practice(60))
            _open_all_hours(conn)
        self.channel = TimingChannel()
        channels = {"sms": self.channel, "whatsapp": self.channel, "email": self.channel, "console": self.channel}
        sender_kind = BaselineSender if baseline else Sender
        self.sender = sender_kind(self.url, channels, SenderConfig(threads=4), worker="bench")  # type: ignore[arg-type]
        self.engine = (BaselineEngine if baseline else Engine)(self.url, self.sender, poll_seconds=5.0)
        self.worker = threading.Thread(target=self.engine.run, daemon=True)
        self.conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row)
        self.samples: list[float] = []
        self.timed_out = 0

    def start(self) -> None:
        self.worker.start()

    def round(self, i: int) -> None:
        # Each round opens the same half hour on another weekday: book it, then cancel it.
        monday = SLOT_START + dt.timedelta(days=6)
        start = monday + dt.timedelta(days=7 * (i // 5) + i % 5)
        booked = self.conn.execute(
            "insert into slotoptim_private.appointment (org_id, provider_id, service_id, period)"
            " select p.org_id, p.id, s.id, tstzrange(%s, %s) from slotoptim_private.provider p"
            " join slotoptim_private.service s on s.org_id = p.org_id returning id",
            (start, start + dt.timedelta(minutes=30)),
        ).fetchone()
        assert booked is not None
        before = len(self.channel.arrivals)
        self.channel.arrived.clear()
        t0 = time.perf_counter()
        self.conn.execute("select slotoptim.cancel_appointment(%s)", (booked["id"],))
        deadline = t0 + 30
        while len(self.channel.arrivals) == before and time.perf_counter() < deadline:
            self.channel.arrived.wait(timeout=1.0)
            self.channel.arrived.clear()
        if len(self.channel.arrivals) > before:
            self.samples.append((min(v for v in self.channel.arrivals.values() if v >= t0) - t0) * 1000)
        else:
            self.timed_out += 1

    def stop(self) -> None:
        self.engine.stop()
        self.worker.join(timeout=10)
        self.sender.close()
        self.conn.close()


def cancellation_to_first_offer(admin: str, rounds: int = 60) -> dict[str, float]:
    """Committed cancellation to its first offer handed to the channel, on today's path and on the
    path from before issue 18 (baseline_engine, baseline_sql), round by round in turn, each on a
    database of its own; the order within a round alternates, so load hits both alike."""
    paths = {"baseline": _Path(admin, baseline=True), "now": _Path(admin, baseline=False)}
    for path in paths.values():
        path.start()
    time.sleep(1.0)
    try:
        for i in range(rounds):
            for name in ("baseline", "now") if i % 2 == 0 else ("now", "baseline"):
                paths[name].round(i)
                time.sleep(0.02)  # the other engine's pass ends before the next round starts
    finally:
        for path in paths.values():
            path.stop()
    result: dict[str, float] = {}
    for name, path in paths.items():
        prefix = "" if name == "now" else "baseline_"
        result[f"{prefix}rounds"] = len(path.samples)
        result[f"{prefix}timed_out"] = path.timed_out
        for q in (0.5, 0.95, 0.99):
            result[f"{prefix}p{round(q * 100)}_ms"] = _pct(path.samples, q)
    for q in ("p50", "p95", "p99"):
        result[f"{q}_ratio"] = result[f"baseline_{q}_ms"] / result[f"{q}_ms"]
    return result


def _drain_worker(url: str, standin: dict[str, str], worker: str, threads: int, batch: int, baseline: bool) -> int:
    from baseline_engine import BaselineSender

    channels = channels_from_env(
        {
            "TWILIO_ACCOUNT_SID": standin["account_sid"],
            "TWILIO_AUTH_TOKEN": standin["auth_token"],
            "TWILIO_FROM": "+15005550006",
            "TWILIO_BASE_URL": standin["base_url"],
        }
    )
    kind = BaselineSender if baseline else Sender
    sender = kind(url, channels, SenderConfig(threads=threads, batch=batch), clock=lambda: MORNING, worker=worker)
    try:
        return sender.drain(limit=1000)
    finally:
        sender.close()


def decide_offers(admin: str, offers: int, baseline: bool) -> tuple[str, float, int]:
    """A broadcast to `offers` candidates: (database, seconds to decide, offers made)."""
    url = _new_db(admin)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        if baseline:
            apply_baseline(conn)
        import_practice(conn, practice(offers, window=False))
        _open_all_hours(conn)
        gap = conn.execute(
            "select * from slotoptim.cancel_appointment("
            "(select id from slotoptim_private.appointment where key = 'to-cancel'), %s)",
            (MORNING,),
        ).fetchone()["cancel_appointment"]
        # Statistics as a running database has them, and no checkpoint of earlier work in the middle
        # of the timed statement (the other variant's writes, minutes ago, would land on this one).
        conn.execute("analyze")
        conn.execute("checkpoint")
        t0 = time.perf_counter()
        conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap, MORNING))
        seconds = time.perf_counter() - t0
        made = conn.execute("select count(*) as n from slotoptim_private.message").fetchone()["n"]
    return url, seconds, int(made)


def _cpu_seconds(pid: int, children: bool = False) -> float:
    """CPU time of a process (with its reaped children when asked), from /proc."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _database_cpu_seconds(admin: str) -> float:
    """The PostgreSQL server's CPU: the postmaster with its reaped backends, and its live children."""
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute("show data_directory").fetchone()
    assert row is not None
    postmaster = int((Path(row[0]) / "postmaster.pid").read_text().split()[0])
    total = _cpu_seconds(postmaster, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                total += _cpu_seconds(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return total


def _deliver(admin: str, url: str, senders: int, baseline: bool, threads: int, batch: int) -> dict[str, float]:
    """Drains the outbox of `url` with `senders` sender processes (the service's replicas; SKIP
    LOCKED shares the outbox) into the stand-in, in its own process; wall time and each party's CPU."""
    import os
    import resource
    import subprocess
    import sys
    from concurrent.futures import ProcessPoolExecutor

    here = Path(__file__).resolve().parent
    server = subprocess.Popen(
        [sys.executable, str(here / "standin_process.py")],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(here.parent / "py")},
    )
    try:
        assert server.stdout is not None
        standin = json.loads(server.stdout.readline())
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("checkpoint")  # the decisions' writes are not flushed during the delivery
        standin_cpu0 = _cpu_seconds(server.pid)
        database_cpu0 = _database_cpu_seconds(admin)
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=senders) as pool:
            sent = sum(
                pool.map(
                    _drain_worker,
                    [url] * senders,
                    [standin] * senders,
                    [f"bench-{i}" for i in range(senders)],
                    [threads] * senders,
                    [batch] * senders,
                    [baseline] * senders,
                )
            )
        seconds = time.perf_counter() - t0
        children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        standin_cpu = _cpu_seconds(server.pid) - standin_cpu0
        database_cpu = _database_cpu_seconds(admin) - database_cpu0
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    tally = json.loads(out.strip().splitlines()[-1])
    sender_cpu = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    return {
        "seconds": seconds,
        "sent": sent,
        "received": tally["received"],
        "duplicates": tally["duplicates"],
        "standin_cpu": standin_cpu,
        "sender_cpu": sender_cpu,
        "database_cpu": database_cpu,
    }


# Before: 2 processes x 24 threads, batches of 400, each message its own round trips. Now: 4
# threads a process, which keep the stand-in (a fraction of a millisecond a request) busy on 2
# cores; more threads only contend for the GIL. Towards the real Twilio (~100 ms a request) a sender
# needs about rate x latency threads (SenderConfig's default). Either way each process's rate
# limiter (1,000 requests a second per account, LocalRateLimiter) bounds delivery: 2 processes
# cannot deliver 10,000 messages in less than 5 s.
BASELINE_DELIVERY = {"threads": 24, "batch": 400}
SENDER_DELIVERY = {"threads": 4, "batch": 400}


def offers_through_twilio(admin: str, offers: int = 10_000, senders: int = 2) -> dict[str, float]:
    """10,000 offers decided by one broadcast, then delivered by `senders` sender processes to the
    stand-in. Baseline in the same run: the decision with the SQL from before issue 18 (per-row
    make_offers) and the delivery by the sender from before (baseline_engine.BaselineSender).
    Each party's CPU is reported, so the stand-in's share of a 2-core machine is visible."""
    # Baseline first: the same broadcast with the SQL from before issue 18 (per-row make_offers).
    baseline_url, baseline_seconds, baseline_made = decide_offers(admin, offers, baseline=True)
    url, decide_seconds, made = decide_offers(admin, offers, baseline=False)
    base = _deliver(admin, baseline_url, senders, baseline=True, **BASELINE_DELIVERY)
    now = _deliver(admin, url, senders, baseline=False, **SENDER_DELIVERY)
    total = decide_seconds + now["seconds"]
    baseline_total = baseline_seconds + base["seconds"]
    return {
        "offers": made,
        "decide_seconds": decide_seconds,
        "send_seconds": now["seconds"],
        "total_seconds": total,
        "baseline_decide_seconds": baseline_seconds,
        "baseline_send_seconds": base["seconds"],
        "baseline_total_seconds": baseline_total,
        "baseline_offers": baseline_made,
        "decide_ratio": baseline_seconds / decide_seconds,
        "send_ratio": base["seconds"] / now["seconds"],
        "total_ratio": baseline_total / total,
        "sender_processes": senders,
        "sent": now["sent"],
        "received_by_standin": now["received"],
        "duplicates": now["duplicates"],
        "baseline_sent": base["sent"],
        "baseline_duplicates": base["duplicates"],
        "messages_per_second": now["received"] / now["seconds"],
        "cpu_ms_per_message_standin": 1000 * now["standin_cpu"] / max(now["received"], 1),
        "cpu_ms_per_message_senders": 1000 * now["sender_cpu"] / max(now["received"], 1),
        "cpu_ms_per_message_database": 1000 * now["database_cpu"] / max(now["received"], 1),
        "baseline_cpu_ms_per_message_senders": 1000 * base["sender_cpu"] / max(base["received"], 1),
        "baseline_cpu_ms_per_message_database": 1000 * base["database_cpu"] / max(base["received"], 1),
        "standin_share_of_2_cores": now["standin_cpu"] / (2 * now["seconds"]),
    }


def candidates_at_scale(admin: str, entries: int = 100_000, services: int = 20, rounds: int = 5) -> dict[str, Any]:
    """`entries` active entries over entries / 2 customers, top 10 of a gap. Worst case: every entry
    asks for the service that fits; realistic case: entries spread over `services` services of
    distinct categories. Baseline in the same run: a clone of the same database with the SQL from
    before issue 18 (tests/bench/baseline_sql.py), timed alternately with today's bounded ranking."""
    url = _new_db(admin)
    result: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        import_practice(conn, practice(50))
        conn.execute(
            "insert into slotoptim_private.service (org_id, key, name, minutes, category)"
            " select id, 'other' || g, 'Other ' || g, 30, 'category' || g"
            " from slotoptim_private.organisation, generate_series(2, %s) g",
            (services,),
        )
        conn.execute(
            "insert into slotoptim_private.customer (org_id, key, name, phone, consent_sms)"
            " select o.id, 'bulk' || g, 'Bulk ' || g, '+1555' || lpad(g::text, 7, '0'), true"
            " from slotoptim_private.organisation o, generate_series(1, %s) g",
            (entries // 2,),
        )
        gap = conn.execute(
            "select * from slotoptim.cancel_appointment("
            "(select id from slotoptim_private.appointment where key = 'to-cancel'), %s)",
            (MORNING,),
        ).fetchone()["cancel_appointment"]
    # The top 10 as the engine asks for it; before issue 18 every candidate was ranked and cut.
    bounded_sql = "select * from slotoptim.candidates(%s, %s, 10)"
    before_sql = "select * from slotoptim.candidates(%s, %s) where rank <= 10 order by rank"
    for case, spread in (("all_want_this_service", False), (f"spread_over_{services}_services", True)):
        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
            conn.execute("delete from slotoptim_private.waitlist_entry where key is null")
            conn.execute(
                "insert into slotoptim_private.waitlist_entry (org_id, customer_id, service_ids, preferred_days,"
                " window_start, window_end, added_at)"
                " select c.org_id, c.id,"
                "  array[(select s.id from slotoptim_private.service s where s.org_id = c.org_id"
                "         order by case when %s then (s.id * 7919 + c.id * 31 + k) %% %s else s.id end limit 1)],"
                "  array[1 + ((c.id + k) %% 5)]::smallint[], '09:00', '17:00',"
                "  %s - make_interval(days => (c.id %% 60)::int)"
                " from slotoptim_private.customer c, generate_series(1, 2) k where c.key like 'bulk%%'",
                (spread, services, MORNING),
            )
            # As autovacuum leaves a settled table: statistics and the visibility map.
            conn.execute("vacuum analyze")
        before_name = f"{psycopg.conninfo.conninfo_to_dict(url)['dbname']}_before"
        clone_database(admin, before_name, str(psycopg.conninfo.conninfo_to_dict(url)["dbname"]))
        before_url = psycopg.conninfo.make_conninfo(admin, dbname=before_name)
        try:
            with (
                psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn,
                psycopg.connect(before_url, autocommit=True, row_factory=dict_row) as before,
            ):
                apply_baseline(before)
                bounded_rows = conn.execute(bounded_sql, (gap, MORNING)).fetchall()
                before_rows = before.execute(before_sql, (gap, MORNING)).fetchall()
                # Variants alternate so that load on the machine hits both alike.
                samples: dict[str, list[float]] = {"before": [], "bounded": []}
                for _ in range(rounds):
                    for variant, connection, query in (("before", before, before_sql), ("bounded", conn, bounded_sql)):
                        t0 = time.perf_counter()
                        connection.execute(query, (gap, MORNING)).fetchall()
                        samples[variant].append((time.perf_counter() - t0) * 1000)
                result[f"{case}_before_top10_median_ms"] = statistics.median(samples["before"])
                result[f"{case}_bounded_top10_median_ms"] = statistics.median(samples["bounded"])
                result[f"{case}_ratio"] = statistics.median(samples["before"]) / statistics.median(samples["bounded"])
                result[f"{case}_identical"] = bounded_rows == before_rows and len(bounded_rows) == 10
                if case == "all_want_this_service":
                    result["active_entries"] = conn.execute(
                        "select count(*) as n from slotoptim_private.waitlist_entry where status = 'active'"
                    ).fetchone()["n"]
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(before_name)))
    return result


def candidates_scaling(admin: str) -> dict[str, Any]:
    """How ranking cost grows with the waitlist: the top 10 at 1k, 10k and 100k active entries
    (1M: SLOTOPTIM_BENCH_MILLION=1; building it takes long on a shared 2-core machine)."""
    import os

    sizes = [1_000, 10_000, 100_000] + ([1_000_000] if os.environ.get("SLOTOPTIM_BENCH_MILLION") else [])
    table: dict[str, Any] = {}
    for size in sizes:
        row = candidates_at_scale(admin, entries=size, rounds=3)
        table[f"{size}_entries"] = {k: v for k, v in row.items() if k != "active_entries"}
    return table


STEPS = {
    "cancellation_to_first_offer": cancellation_to_first_offer,
    "twilio_standin_10000_offers": offers_through_twilio,
    "candidates_100k_entries": candidates_at_scale,
    "candidates_scaling": candidates_scaling,
}


def main() -> None:
    """`fill_bench.py [step ...]`: the named steps only (default: all)."""
    import sys

    # By default the scaling table stands for the 100k row (it includes it).
    chosen = sys.argv[1:] or [name for name in STEPS if name != "candidates_100k_entries"]
    with tempfile.TemporaryDirectory() as tmp:
        admin = embedded.postgres_server_uri(Path(tmp) / "pg", stop_at_exit=True)
        try:
            print("fill engine", flush=True)
            for name in chosen:
                result = STEPS[name](admin)
                if name == "candidates_scaling":
                    _print_scaling(result)
                else:
                    print(f"  {name}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in result.items()), flush=True)
                print(json.dumps({name: result}, default=str), flush=True)
        finally:
            embedded.stop_postgres(Path(tmp) / "pg")


def _print_scaling(table: dict[str, Any]) -> None:
    print(
        "  candidates, top 10 (ms, median, alternated in one run; before = the SQL before issue 18 on a clone"
        " of the same database, bounded = today's k 10, ratio = before / bounded, identical = same 10 rows)"
    )
    print(
        "    entries          | all want the service: before   bounded  ratio | spread over 20 services: before"
        "   bounded  ratio | identical"
    )
    for size, row in table.items():
        a = "all_want_this_service"
        b = "spread_over_20_services"
        print(
            f"    {size:>16} | {row[a + '_before_top10_median_ms']:28.2f} {row[a + '_bounded_top10_median_ms']:9.2f}"
            f" {row[a + '_ratio']:5.1f}x | {row[b + '_before_top10_median_ms']:31.2f}"
            f" {row[b + '_bounded_top10_median_ms']:9.2f} {row[b + '_ratio']:5.1f}x"
            f" | {row[a + '_identical'] and row[b + '_identical']}",
            flush=True,
        )


def _fmt(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
