"""`slotoptim simulate fill`: offer strategies compared on the real fill engine.

Each strategy runs on a temporary database of its own, created on the configured server
(DATABASE_URL, or the embedded one) and dropped afterwards (``--keep-databases`` keeps them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from slotoptim.ml.optimize.cli_support import OptionError, report_error
from slotoptim.ml.simulate.fill_moveup_cli import add_moveup_options, run_moveup

if TYPE_CHECKING:
    from slotoptim.ml.simulate.fill import FillConfig


def register_fill(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fill = commands.add_parser(
        "fill",
        help="offer strategies side by side on the real fill engine (weeks of the demo practice)",
        description="Simulated weeks of the demo practice (synthetic) on the real engine: the same cancellations"
        " and the same customer answers for every strategy, each on a fresh temporary database. Strategies:"
        " cascade, sequential, broadcast, burst, adaptive (the engine's) and manual (staff phoning the list in office"
        " hours).",
    )
    fill.add_argument(
        "--strategies",
        default="cascade,sequential,broadcast,burst,adaptive,manual",
        metavar="LIST",
        help="comma-separated (default: all six)",
    )
    fill.add_argument(
        "--customers",
        choices=("seed002", "fastpass"),
        default="seed002",
        help="customer model: seed 002's acceptance (34 %% by SMS) or calibrated to Epic Fast Pass (8-11 %% per"
        " offer); see slotoptim.ml.simulate.fill_customer_models (default seed002)",
    )
    fill.add_argument(
        "--seeds",
        type=int,
        default=1,
        metavar="N",
        help="repeat over N seeds (from --seed) and report each metric with a 95 %% interval (default 1)",
    )
    fill.add_argument("--weeks", type=int, default=4, metavar="N", help="simulated weeks (default 4)")
    fill.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    fill.add_argument(
        "--start", metavar="YYYY-MM-DD", help="first simulated day, moved back to its Monday (default: next Monday)"
    )
    fill.add_argument("--waitlist", type=int, default=200, metavar="N", help="waitlist entries (default 200)")
    fill.add_argument(
        "--cancel-rate", type=float, default=0.10, metavar="P", help="share of appointments cancelled (default 0.10)"
    )
    fill.add_argument(
        "--same-day-share",
        type=float,
        default=0.3,
        metavar="P",
        help="share of cancellations made on the day itself; the others 1-7 days ahead (default 0.3)",
    )
    fill.add_argument("--format", choices=("table", "json"), default="table")
    fill.add_argument("--chart", type=Path, metavar="PATH", help="write the chart as PATH.png and PATH.svg")
    fill.add_argument(
        "--keep-databases", action="store_true", help="keep the temporary databases for inspection (names printed)"
    )
    add_moveup_options(fill)  # issue 12
    fill.set_defaults(func=run_fill)


def run_fill(args: argparse.Namespace) -> int:
    from slotoptim.ml.simulate.fill import STRATEGIES, FillConfig, strategy_names

    try:
        strategies = strategy_names(args.strategies)
        unknown = [s for s in strategies if s not in STRATEGIES]
        if unknown or not strategies or len(set(strategies)) != len(strategies):
            raise OptionError("--strategies", f"choose each at most once from {', '.join(STRATEGIES)}")
        if args.seeds < 1:
            raise OptionError("--seeds", f"must be >= 1, got {args.seeds}")
        if args.seeds > 1 and "manual" in strategies:
            raise OptionError("--strategies", "manual cannot be repeated over seeds; leave it out with --seeds")
        if args.weeks < 1:
            raise OptionError("--weeks", f"must be >= 1, got {args.weeks}")
        if args.waitlist < 0:
            raise OptionError("--waitlist", f"must be >= 0, got {args.waitlist}")
        if not 0 <= args.cancel_rate <= 1:
            raise OptionError("--cancel-rate", f"must be in [0, 1], got {args.cancel_rate}")
        if not 0 <= args.same_day_share <= 1:
            raise OptionError("--same-day-share", f"must be in [0, 1], got {args.same_day_share}")
        monday = _monday(args.start)
    except OptionError as error:
        return report_error(error.option, error.message)
    config = FillConfig(
        monday=monday,
        strategies=strategies,
        weeks=args.weeks,
        seed=args.seed,
        waitlist=args.waitlist,
        cancel_rate=args.cancel_rate,
        same_day_share=args.same_day_share,
        customer_model=args.customers,
    )
    if args.moveup:  # issue 12: today's engine against move-up + reminders
        return run_moveup(args, config)
    if args.seeds > 1:
        return _run_seeds(args, config)
    return _run(args, config)


def _run_seeds(args: argparse.Namespace, config: FillConfig) -> int:
    from slotoptim.listener.cache import redis_client
    from slotoptim.listener.db import database_url
    from slotoptim.ml.simulate.fill_seeds import render_seeds_table, run_seeds

    summary = run_seeds(
        database_url(),
        config,
        args.seeds,
        redis_client=redis_client(),
        progress=lambda message: print(message, file=sys.stderr),
    )
    if args.format == "json":
        json.dump(summary.to_plain(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(render_seeds_table(summary))
    return 0


def _monday(text: str | None) -> dt.date:
    from slotoptim.listener.practice.demo import today_in_demo_zone
    from slotoptim.ml.simulate.fill import default_monday

    if text is None:
        return default_monday(today_in_demo_zone())
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise OptionError("--start", f"not a date (YYYY-MM-DD): {text!r}") from None
    return day - dt.timedelta(days=day.weekday())


def _run(args: argparse.Namespace, config: FillConfig) -> int:
    from slotoptim.listener.cache import redis_client
    from slotoptim.listener.db import database_url
    from slotoptim.ml.simulate.fill import run_fill_comparison
    from slotoptim.ml.simulate.fill_report import plot_fill, render_table

    comparison = run_fill_comparison(
        database_url(),
        config,
        redis_client=redis_client(),
        keep=args.keep_databases,
        progress=lambda message: print(message, file=sys.stderr),
    )
    plain = comparison.to_plain()
    files: list[Path] = []
    if args.chart:
        files = plot_fill(comparison, args.chart)
        plain["files"] = [str(f) for f in files]
    if args.format == "json":
        json.dump(plain, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(render_table(comparison))
        if files:
            print("\nwrote " + ", ".join(str(f) for f in files))
        if comparison.databases:
            print("\nkept databases: " + ", ".join(comparison.databases))
    return 0
