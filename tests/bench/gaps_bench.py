"""`make bench`: gap analysis speed, against the naive slot-by-slot approach, in the same run.

Builds a throw-away practice in a temporary embedded PostgreSQL (or in BENCH_DATABASE_URL, a
server whose databases may be created and dropped): 200 providers working 08:00-18:00 on
weekdays with dense calendars, and a clone of it with the gap functions as they were before
issue 18. Prints medians and ratios (today, before and naive taking turns); nothing here asserts
a time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from baseline_sql import BASELINE_REV, apply_baseline
from bench_dates import monday_ahead
from psycopg import sql

from slotoptim.listener import embedded
from slotoptim.migrations.sqlfiles import build_from_sources

TZ = "America/New_York"
PROVIDERS = 1000  # the scaling table's largest; the headline row uses the first 200
SCALING = (1, 10, 100, 1000)
FIRST_DAY = monday_ahead()  # relative to the clock: gaps in the past are not gaps
DAYS = 30

# The common scheduler approach: cut the day into 5-minute candidate starts, test each candidate
# for overlap with any appointment (and closure), then glue free candidates back into intervals.
NAIVE_GAPS = """
with candidates as (
  select p.id as provider_id, g.slot
    from slotoptim_private.provider p
    join lateral generate_series(lower(%(during)s::tstzrange), upper(%(during)s::tstzrange) - interval '5 minutes',
                                 interval '5 minutes') as g(slot) on true
   where p.id = any(%(providers)s)
), working as (
  select c.* from candidates c
    join slotoptim_private.provider p on p.id = c.provider_id
    join slotoptim_private.working_hours wh
      on wh.provider_id = c.provider_id
     and wh.weekday = extract(isodow from c.slot at time zone p.timezone)
     and (c.slot at time zone p.timezone)::time >= wh.starts_at
     and (c.slot at time zone p.timezone)::time < wh.ends_at
), free as (
  select w.* from working w
   where not exists (select 1 from slotoptim_private.appointment a
                      where a.provider_id = w.provider_id
                        and a.status in ('booked', 'confirmed', 'arrived', 'completed')
                        and a.blocked && tstzrange(w.slot, w.slot + interval '5 minutes'))
     and not exists (select 1 from slotoptim_private.closure c
                      where c.during && tstzrange(w.slot, w.slot + interval '5 minutes'))
), runs as (
  select provider_id, slot,
         slot - (row_number() over (partition by provider_id order by slot)) * interval '5 minutes' as grp
    from free
)
select provider_id, min(slot) as starts, max(slot) + interval '5 minutes' as ends
  from runs group by provider_id, grp order by provider_id, starts
"""


def _alternating_ms(variants: dict[str, tuple[Callable[[], object], int]], rounds: int) -> dict[str, float]:
    """Median ms per call of each variant, the variants taking turns round by round (each round runs
    a variant `per_round` times): on a shared, noisy machine the ratios then see the same load."""
    for fn, _ in variants.values():
        fn()  # warm caches and plans
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, (fn, per_round) in variants.items():
            for _ in range(per_round):
                t0 = time.perf_counter()
                fn()
                samples[name].append((time.perf_counter() - t0) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def _build(conn: psycopg.Connection[Any]) -> list[int]:
    build_from_sources(conn)
    org = conn.execute(
        "insert into slotoptim_private.organisation (key, name, timezone) values ('bench', 'Bench', %s) returning id",
        (TZ,),
    ).fetchone()
    assert org is not None
    org_id = int(org[0])
    services = []
    for minutes in (15, 20, 30, 45):
        row = conn.execute(
            "insert into slotoptim_private.service (org_id, key, name, minutes, buffer_after_minutes)"
            " values (%s, %s, %s, %s, 5) returning id",
            (org_id, f"s{minutes}", f"{minutes} min", minutes),
        ).fetchone()
        assert row is not None
        services.append((int(row[0]), minutes))
    providers = []
    for i in range(PROVIDERS):
        row = conn.execute(
            "insert into slotoptim_private.provider (org_id, key, name, timezone) values (%s, %s, %s, %s) returning id",
            (org_id, f"p{i:03d}", f"Provider {i}", TZ),
        ).fetchone()
        assert row is not None
        providers.append(int(row[0]))
    conn.execute(
        "insert into slotoptim_private.provider_service (org_id, provider_id, service_id)"
        " select %s, p, s from unnest(%s::bigint[]) p, unnest(%s::bigint[]) s",
        (org_id, providers, [s for s, _ in services]),
    )
    conn.execute(
        "insert into slotoptim_private.working_hours (org_id, provider_id, weekday, starts_at, ends_at)"
        " select %s, p, d, '08:00', '18:00' from unnest(%s::bigint[]) p, generate_series(1, 5) d",
        (org_id, providers),
    )
    rng = random.Random(1)
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(TZ)
    rows = []
    for index, provider in enumerate(providers):
        days = DAYS if index == 0 else 1
        for offset in range(days):
            day = FIRST_DAY + dt.timedelta(days=offset)
            if day.isoweekday() > 5:
                continue
            cursor = dt.datetime.combine(day, dt.time(8), tzinfo=tz)
            end = dt.datetime.combine(day, dt.time(18), tzinfo=tz)
            while True:
                if rng.random() < 0.2:
                    cursor += dt.timedelta(minutes=rng.choice((10, 15, 25)))
                service, minutes = rng.choice(services)
                finish = cursor + dt.timedelta(minutes=minutes)
                if finish > end:
                    break
                rows.append((org_id, provider, service, cursor, finish, 5))
                cursor = finish + dt.timedelta(minutes=5)
    with conn.cursor() as cur:
        cur.executemany(
            "insert into slotoptim_private.appointment (org_id, provider_id, service_id, period, buffer_after_minutes)"
            " values (%s, %s, %s, tstzrange(%s, %s), %s)",
            rows,
        )
    conn.execute("analyze")
    return providers


# What a client reads: the bounds as two instants (issue 18), not a range to take apart. Before
# issue 18 clients read `during` and took it apart (listener/gapreport.py did): the "before" rows
# read it so.
OURS_ONE = "select provider_key, starts_at, ends_at, kind, fits from slotoptim.gaps(%s, tstzrange(%s, %s))"
OURS_ALL = "select provider_key, starts_at, ends_at, kind, fits from slotoptim.gaps(tstzrange(%s, %s))"
BEFORE_ONE = "select provider_key, during, kind, fits from slotoptim.gaps(%s, tstzrange(%s, %s))"
BEFORE_ALL = "select provider_key, during, kind, fits from slotoptim.gaps(tstzrange(%s, %s))"
# The gap functions as they were before issue 18 (tests/bench/baseline_sql.py), in a clone.
BASELINE_FILES = ("43_fn_working_time.sql", "44_fn_fitting_services.sql", "50_fn_gaps.sql")


def _put_back_baseline(conn: psycopg.Connection[Any]) -> None:
    # Today's forms return starts_at/ends_at: create or replace cannot change a result type.
    conn.execute("drop function slotoptim.gaps(text, tstzrange, text), slotoptim.gaps(tstzrange)")
    apply_baseline(conn, BASELINE_FILES)


def run_gap_benchmarks(admin: str, name: str) -> dict[str, Any]:
    url = psycopg.conninfo.make_conninfo(admin, dbname=name)
    with psycopg.connect(url, autocommit=True) as conn:
        providers_all = _build(conn)
    # "Before" lives in a clone of the same data, so before, today and naive take turns in one run.
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create database {} template {}").format(sql.Identifier(name + "_before"), sql.Identifier(name))
        )
    before_url = psycopg.conninfo.make_conninfo(admin, dbname=name + "_before")
    with psycopg.connect(url, autocommit=True) as conn, psycopg.connect(before_url, autocommit=True) as old:
        _put_back_baseline(old)
        tz = dt.timezone(dt.timedelta(hours=-5))
        month = (
            dt.datetime.combine(FIRST_DAY, dt.time(0), tz),
            dt.datetime.combine(FIRST_DAY, dt.time(0), tz) + dt.timedelta(days=DAYS),
        )
        day = (month[0], month[0] + dt.timedelta(days=1))
        keys = {int(k): str(v) for k, v in conn.execute("select id, key from slotoptim_private.provider").fetchall()}

        def only_first(n: int) -> None:
            for c in (conn, old):
                c.execute("update slotoptim_private.provider set active = (id = any(%s))", (providers_all[:n],))

        def naive(window: tuple[dt.datetime, dt.datetime], providers: list[int]) -> list[tuple[str, Any, Any]]:
            rows = conn.execute(NAIVE_GAPS, {"during": f"[{window[0]},{window[1]})", "providers": providers})
            return [(keys[r[0]], r[1], r[2]) for r in rows.fetchall()]

        def ours_set(rows: list[tuple[Any, ...]]) -> set[tuple[str, Any, Any]]:
            return {(r[0], r[1], r[2]) for r in rows}

        def before_set(rows: list[tuple[Any, ...]]) -> set[tuple[str, Any, Any]]:
            return {(r[0], r[1].lower, r[1].upper) for r in rows}

        def ours_month() -> list[tuple[Any, ...]]:
            return conn.execute(OURS_ONE, ("p000", *month)).fetchall()

        def before_month() -> list[tuple[Any, ...]]:
            return old.execute(BEFORE_ONE, ("p000", *month)).fetchall()

        def ours_day() -> list[tuple[Any, ...]]:
            return conn.execute(OURS_ALL, day).fetchall()

        def before_day() -> list[tuple[Any, ...]]:
            return old.execute(BEFORE_ALL, day).fetchall()

        # Every approach must find the same free time (compared on lower/upper) before its speed
        # means anything; today's and the old functions also the same kinds and fitting services.
        agree_month = ours_set(ours_month()) == set(naive(month, providers_all[:1])) == before_set(before_month())
        same_fits_month = [(r[3], list(r[4])) for r in ours_month()] == [(r[2], list(r[3])) for r in before_month()]
        month_ms = _alternating_ms(
            {
                "gaps": (ours_month, 10),
                "before": (before_month, 10),
                "naive": (lambda: naive(month, providers_all[:1]), 1),
            },
            rounds=15,
        )
        # The same call reading the range (select *: during, starts_at, ends_at): what taking a
        # tstzrange apart in the client costs.
        month_star_ms = _alternating_ms(
            {
                "bounds": (ours_month, 10),
                "star": (
                    lambda: conn.execute(
                        "select * from slotoptim.gaps(%s, tstzrange(%s, %s))", ("p000", *month)
                    ).fetchall(),
                    10,
                ),
            },
            rounds=10,
        )
        results: dict[str, Any] = {
            "one_provider_30_days": {**month_ms, "agree": agree_month and same_fits_month},
            "one_provider_30_days_reading_the_range": month_star_ms,
        }
        # Scaling: the same day for the first n providers (the others inactive); 200 is the
        # headline row of issue 18.
        scaling: dict[int, dict[str, Any]] = {}
        for n in (*SCALING[:3], 200, *SCALING[3:]):
            only_first(n)
            providers = providers_all[:n]
            ours_rows, before_rows = ours_day(), before_day()
            agree = ours_set(ours_rows) == set(naive(day, providers)) == before_set(before_rows)
            same_fits = sorted((r[0], r[1], r[3], list(r[4])) for r in ours_rows) == sorted(
                (r[0], r[1].lower, r[2], list(r[3])) for r in before_rows
            )
            big = n >= 200
            times = _alternating_ms(
                {
                    "gaps": (ours_day, 1 if big else 5),
                    "before": (before_day, 1 if big else 5),
                    "naive": (lambda chosen=providers: naive(day, chosen), 1),
                },
                rounds=3 if n >= 1000 else 7 if big else 10,
            )
            scaling[n] = {**times, "agree": agree and same_fits, "gaps_rows": len(ours_rows)}
        results["providers_one_day"] = scaling
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name + "_before")))
    return results


def _print(results: dict[str, Any]) -> None:
    print(f"gap analysis: median ms per call; today, before issue 18 (its SQL at {BASELINE_REV}, in a clone) and the")
    print("naive per-slot query take turns in one run; every set compared on lower/upper")
    print("  row                        | slotoptim.gaps | before issue 18 |   gain | naive per-slot | ratio | agree")

    def row(label: str, r: dict[str, Any]) -> None:
        print(
            f"  {label:<26} | {r['gaps']:11.2f} ms | {r['before']:12.2f} ms | {r['before'] / r['gaps']:5.1f}x"
            f" | {r['naive']:11.2f} ms | {r['naive'] / r['gaps']:4.0f}x | {r['agree']}"
        )

    row("1 provider, 30 days", results["one_provider_30_days"])
    scaling = results["providers_one_day"]
    row("200 providers, 1 day", scaling[200])
    star = results["one_provider_30_days_reading_the_range"]
    print(
        f"  1 provider, 30 days read with select * (the range too): {star['star']:.2f} ms"
        f" against {star['bounds']:.2f} ms for the bounds ({star['star'] / star['bounds']:.2f}x)"
    )
    print("  scaling, one day: providers | gaps | slotoptim.gaps | before issue 18 | gain | naive | ratio | agree")
    for n, r in scaling.items():
        if n == 200:
            continue
        print(
            f"    {n:>5} | {r['gaps_rows']:5} | {r['gaps']:9.2f} ms | {r['before']:9.2f} ms"
            f" | {r['before'] / r['gaps']:5.1f}x | {r['naive']:10.2f} ms"
            f" | {r['naive'] / r['gaps']:5.0f}x | {r['agree']}"
        )


def main() -> int:
    admin = os.environ.get("BENCH_DATABASE_URL")
    temp: Path | None = None
    if admin is None:
        temp = Path(tempfile.mkdtemp(prefix="slotoptim-bench-"))
        admin = embedded.postgres_server_uri(temp / "pg", stop_at_exit=True)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        results = run_gap_benchmarks(admin, name)
        _print(results)
        print(json.dumps({"gaps": results}))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for db in (name + "_before", name):
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db)))
        if temp is not None:
            embedded.stop_postgres(temp / "pg")
            shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
