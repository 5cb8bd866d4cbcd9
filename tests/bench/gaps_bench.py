"""`make bench`: gap analysis speed, against the naive slot-by-slot approach, in the same run.

Builds a throw-away practice in a temporary embedded PostgreSQL (or in BENCH_DATABASE_URL, a
server whose databases may be created and dropped): 200 providers working 08:00-18:00 on
weekdays with dense calendars. Prints medians and ratios; nothing here asserts a time.
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
from baseline_sql import apply_baseline
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


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm caches and plans
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


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


def run_gap_benchmarks(url: str) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        providers = _build(conn)
        providers_all = list(providers)
        tz = dt.timezone(dt.timedelta(hours=-5))
        month = (
            dt.datetime.combine(FIRST_DAY, dt.time(0), tz),
            dt.datetime.combine(FIRST_DAY, dt.time(0), tz) + dt.timedelta(days=DAYS),
        )
        day = (month[0], month[0] + dt.timedelta(days=1))

        def ours_month() -> object:
            return conn.execute("select * from slotoptim.gaps('p000', tstzrange(%s, %s))", month).fetchall()

        def naive_month() -> object:
            return conn.execute(
                NAIVE_GAPS, {"during": f"[{month[0]},{month[1]})", "providers": providers[:1]}
            ).fetchall()

        def only_first(n: int) -> None:
            conn.execute("update slotoptim_private.provider set active = (id = any(%s))", (providers_all[:n],))

        def ours_all() -> object:
            return conn.execute("select * from slotoptim.gaps(tstzrange(%s, %s))", day).fetchall()

        def naive_all() -> object:
            return conn.execute(NAIVE_GAPS, {"during": f"[{day[0]},{day[1]})", "providers": providers}).fetchall()

        # Both approaches must agree on the free time before their speed means anything.
        ours = {
            (r[1].lower, r[1].upper)
            for r in conn.execute("select * from slotoptim.gaps('p000', tstzrange(%s, %s))", month).fetchall()
        }
        naive = {(r[1], r[2]) for r in naive_month()}  # type: ignore[attr-defined]
        agree = ours == naive
        only_first(200)
        providers = providers_all[:200]
        results: dict[str, Any] = {
            "gaps_one_provider_30_days_ms": _median_ms(ours_month, 30),
            "naive_one_provider_30_days_ms": _median_ms(naive_month, 5),
            "gaps_200_providers_one_day_ms": _median_ms(ours_all, 10),
            "naive_200_providers_one_day_ms": _median_ms(naive_all, 3),
            "gap_sets_agree": agree,
        }
        # Scaling: the same day for the first n providers (the others inactive), ours and naive,
        # both on lower/upper; they must agree before their times mean anything.
        scaling = {}
        for n in SCALING:
            only_first(n)
            providers = providers_all[:n]
            ours_set = {
                (r[0], r[1].lower, r[1].upper)
                for r in conn.execute("select * from slotoptim.gaps(tstzrange(%s, %s))", day).fetchall()
            }
            keys = dict(conn.execute("select id, key from slotoptim_private.provider").fetchall())
            naive_set = {(keys[r[0]], r[1], r[2]) for r in naive_all()}  # type: ignore[attr-defined]
            ours_ms = _median_ms(ours_all, 5)
            naive_ms = _median_ms(naive_all, 1 if n >= 1000 else 3)
            scaling[n] = {
                "gaps_ms": ours_ms,
                "naive_ms": naive_ms,
                "ratio": naive_ms / ours_ms,
                "agree": ours_set == naive_set,
            }
        results["scaling_one_day"] = scaling
        # Before issue 18, in the same database and run: its service_needs and gaps_of put back.
        apply_baseline(conn, ("44_fn_fitting_services.sql", "50_fn_gaps.sql"))
        for n in SCALING:
            only_first(n)
            providers = providers_all[:n]
            scaling[n]["before_ms"] = _median_ms(ours_all, 5)
            scaling[n]["gain"] = scaling[n]["before_ms"] / scaling[n]["gaps_ms"]
        only_first(200)
        providers = providers_all[:200]
        results["before_gaps_200_providers_one_day_ms"] = _median_ms(ours_all, 10)
        results["before_gaps_one_provider_30_days_ms"] = _median_ms(ours_month, 30)
    results["speedup_one_provider_30_days"] = (
        results["naive_one_provider_30_days_ms"] / results["gaps_one_provider_30_days_ms"]
    )
    results["speedup_200_providers_one_day"] = (
        results["naive_200_providers_one_day_ms"] / results["gaps_200_providers_one_day_ms"]
    )
    return results


def _print(results: dict[str, Any]) -> None:
    print("gap analysis (median of repeated runs, same database, same run)")
    print(
        f"  one provider, 30 days:   slotoptim.gaps {results['gaps_one_provider_30_days_ms']:8.2f} ms"
        f"   naive {results['naive_one_provider_30_days_ms']:9.2f} ms"
        f"   ratio {results['speedup_one_provider_30_days']:6.1f}x"
    )
    print(
        f"  200 providers, one day:  slotoptim.gaps {results['gaps_200_providers_one_day_ms']:8.2f} ms"
        f"   naive {results['naive_200_providers_one_day_ms']:9.2f} ms"
        f"   ratio {results['speedup_200_providers_one_day']:6.1f}x"
    )
    print(f"  naive and set-based gap sets agree: {results['gap_sets_agree']}")
    print(
        f"  before issue 18 (same run): one provider, 30 days {results['before_gaps_one_provider_30_days_ms']:.2f} ms;"
        f" 200 providers, one day {results['before_gaps_200_providers_one_day_ms']:.2f} ms"
    )
    print(
        "  scaling, one day (median ms): providers | slotoptim.gaps | before issue 18 | gain | naive | ratio"
        " | agree on lower/upper"
    )
    for n, row in results["scaling_one_day"].items():
        print(
            f"    {n:>5} | {row['gaps_ms']:9.2f} | {row['before_ms']:9.2f} | {row['gain']:5.1f}x"
            f" | {row['naive_ms']:10.2f} | {row['ratio']:6.1f}x | {row['agree']}"
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
        results = run_gap_benchmarks(psycopg.conninfo.make_conninfo(admin, dbname=name))
        _print(results)
        print(json.dumps({"gaps": results}))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        if temp is not None:
            embedded.stop_postgres(temp / "pg")
            shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
