"""`slotoptim simulate fill --seeds N`: the strategy comparison repeated over N seeds, each metric
a mean with a 95 % confidence interval (Student t over the seeds; slotoptim.ml.simulate.stats).

A seed draws its own cancellations and its own customers' answers; within a seed every strategy
meets the same ones (common random numbers). The database is migrated once and cloned for every
seed and strategy.

Per-fill figures are ratios within each seed (offers sent / waitlist bookings; late claimants, who
said yes after the slot was taken / waitlist bookings), then averaged over the seeds.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import redis
from psycopg import sql

from slotoptim.ml.simulate.fill import FillComparison, FillConfig, run_fill_comparison
from slotoptim.ml.simulate.fill_metrics import StrategyResult
from slotoptim.ml.simulate.stats import Estimate, estimate

METRICS: tuple[tuple[str, str, Callable[[StrategyResult], float | None]], ...] = (
    ("fill_60", "fill<=60m", lambda r: r.fill_rate_60),
    ("fill", "fill<slot", lambda r: r.fill_rate),
    ("offers_per_fill", "offers/fill", lambda r: r.offers_per_fill),
    ("late_per_fill", "late/fill", lambda r: r.late_claims / r.waitlist_bookings if r.waitlist_bookings else None),
    ("utilisation_gain_pct", "util gain %", lambda r: r.utilisation_gain_pct),
)


@dataclass(frozen=True)
class Paired:
    """Adaptive minus another strategy in one metric, seed by seed (common random numbers)."""

    metric: str
    other: str
    difference: Estimate
    seeds: int


@dataclass(frozen=True)
class SeedsSummary:
    config: FillConfig
    seeds: tuple[int, ...]
    runs: tuple[FillComparison, ...]
    estimates: dict[str, dict[str, Estimate]]
    """Strategy -> metric -> mean with its 95 % interval."""
    paired: tuple[Paired, ...] = ()

    def to_plain(self) -> dict[str, Any]:
        return {
            "customer_model": self.config.customer_model,
            "weeks": self.config.weeks,
            "waitlist": self.config.waitlist,
            "seeds": list(self.seeds),
            "strategies": {s: {m: e.to_plain() for m, e in metrics.items()} for s, metrics in self.estimates.items()},
            "paired": [
                {"metric": p.metric, "adaptive_minus": p.other, "seeds": p.seeds, **p.difference.to_plain()}
                for p in self.paired
            ],
            "runs": [[r.to_plain() for r in run.results] for run in self.runs],
        }


def run_seeds(
    server_url: str,
    config: FillConfig,
    seeds: int,
    *,
    redis_client: redis.Redis | None = None,
    progress: Callable[[str], None] | None = None,
    migrated_template: str | None = None,
) -> SeedsSummary:
    """``migrated_template``: an already migrated database to clone instead of migrating a new one."""
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    say = progress or (lambda _: None)
    template = migrated_template or f"slotoptim_fill_tpl_{uuid.uuid4().hex[:10]}"
    if migrated_template is None:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(template)))
    try:
        if migrated_template is None:
            from slotoptim.migrations.migrate import migrate

            say(f"migrating {template}")
            migrate(psycopg.conninfo.make_conninfo(server_url, dbname=template))
        runs: list[FillComparison] = []
        chosen = tuple(range(config.seed, config.seed + seeds))
        for seed in chosen:
            say(f"seed {seed} ({len(runs) + 1} of {seeds})")
            runs.append(
                run_fill_comparison(
                    server_url,
                    dataclasses.replace(config, seed=seed),
                    redis_client=redis_client,
                    migrated_template=template,
                    progress=say,
                )
            )
    finally:
        if migrated_template is None:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(template)))
    per_seed = [list(run.results) for run in runs]
    return SeedsSummary(config, chosen, tuple(runs), summarise(runs, config.strategies), paired_differences(per_seed))


def summarise(runs: list[FillComparison], strategies: tuple[str, ...]) -> dict[str, dict[str, Estimate]]:
    table: dict[str, dict[str, Estimate]] = {}
    for strategy in strategies:
        results = [r for run in runs for r in run.results if r.strategy == strategy]
        table[strategy] = {}
        for key, _, value in METRICS:
            values = [v for v in (value(r) for r in results) if v is not None]
            table[strategy][key] = estimate(values)
    return table


def paired_differences(per_seed: list[list[StrategyResult]]) -> tuple[Paired, ...]:
    """The issue's three comparisons, seed by seed: adaptive against the fixed strategy that fills
    most within 60 minutes (on average), against cascade in offers per fill and against burst in
    late claimants per fill. Empty when adaptive or the others were not run."""
    names = {r.strategy for results in per_seed for r in results}
    fixed = sorted(names - {"adaptive", "manual"})
    if "adaptive" not in names or not fixed:
        return ()
    value = {key: fn for key, _, fn in METRICS}

    def mean_of(strategy: str) -> float:
        values = [value["fill_60"](r) or 0.0 for results in per_seed for r in results if r.strategy == strategy]
        return sum(values) / len(values)

    best = max(fixed, key=mean_of)
    wanted = [("fill_60", best), ("offers_per_fill", "cascade"), ("late_per_fill", "burst")]
    pairs: list[Paired] = []
    for metric, other in wanted:
        if other not in names:
            continue
        diffs: list[float] = []
        for results in per_seed:
            by = {r.strategy: r for r in results}
            a, b = value[metric](by["adaptive"]), value[metric](by[other])
            if a is not None and b is not None:
                diffs.append(a - b)
        pairs.append(Paired(metric, other, estimate(diffs), len(diffs)))
    return tuple(pairs)


def render_seeds_table(summary: SeedsSummary) -> str:
    config = summary.config
    lines = [
        f"Fill strategies on the real engine, demo practice (SYNTHETIC), customer model {config.customer_model},"
        f" {config.weeks} week(s) x {len(summary.seeds)} seeds ({summary.seeds[0]}-{summary.seeds[-1]}),"
        f" waitlist {config.waitlist}, cancel rate {config.cancel_rate}",
        "mean [95 % interval] over the seeds",
        "",
    ]
    header = ["strategy", *(label for _, label, _ in METRICS)]
    rows = [header]
    for strategy, metrics in summary.estimates.items():
        cells = [strategy]
        for key, _, _ in METRICS:
            e = metrics[key]
            scale = 100.0 if key in ("fill_60", "fill") else 1.0
            digits = 1 if key in ("fill_60", "fill", "utilisation_gain_pct") else 2
            cells.append(f"{e.mean * scale:.{digits}f} [{e.low * scale:.{digits}f}, {e.high * scale:.{digits}f}]")
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for index, row in enumerate(rows):
        lines.append("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    labels = {key: label for key, label, _ in METRICS}
    if summary.paired:
        lines += ["", "adaptive minus, seed by seed (mean [95 % interval]):"]
        for p in summary.paired:
            scale = 100.0 if p.metric == "fill_60" else 1.0
            unit = " points" if p.metric == "fill_60" else ""
            d = p.difference
            lines.append(
                f"  {labels[p.metric]} vs {p.other}: {d.mean * scale:+.2f} [{d.low * scale:+.2f},"
                f" {d.high * scale:+.2f}]{unit} over {p.seeds} seeds"
            )
    lines += [
        "",
        "fill<=60m, fill<slot: % of cancellations re-booked from the waitlist within 60 minutes / before the slot;",
        "offers/fill: offer messages sent per waitlist booking; late/fill: customers who said yes after the slot was",
        "taken, per waitlist booking; util gain %: waitlist-booked minutes / minutes that stayed booked.",
    ]
    return "\n".join(lines)
