"""The `--moveup` options of `slotoptim simulate fill` (issue 12): today's engine against the same
engine with move-up offers and reminder-driven early cancellations (slotoptim.ml.simulate.fill_moveup)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import TYPE_CHECKING

from slotoptim.ml.optimize.cli_support import OptionError, report_error

if TYPE_CHECKING:
    from slotoptim.ml.simulate.fill import FillConfig

DEFAULT_STRATEGIES = "cascade,sequential,broadcast,burst,manual"


def add_moveup_options(fill: argparse.ArgumentParser) -> None:
    group = fill.add_argument_group("move-up and reminders (issue 12)")
    group.add_argument(
        "--moveup",
        action="store_true",
        help="compare today's engine with move-up offers and reminders on (engine strategies only;"
        " default strategy: cascade)",
    )
    group.add_argument(
        "--enrol-share",
        type=float,
        default=0.3,
        metavar="P",
        help="share of booked appointments (not about to be cancelled) enrolled in move-up (default 0.3)",
    )
    group.add_argument(
        "--reminder-reply-rate",
        type=float,
        default=0.5,
        metavar="P",
        help="chance that a customer about to cancel answers an SMS reminder with C (default 0.5)",
    )


def run_moveup(args: argparse.Namespace, config: FillConfig) -> int:
    from slotoptim.listener.cache import redis_client
    from slotoptim.listener.db import database_url
    from slotoptim.ml.simulate.fill_moveup import MoveUpConfig, render_moveup_table, run_moveup_comparison

    try:
        if not 0 <= args.enrol_share <= 1:
            raise OptionError("--enrol-share", f"must be in [0, 1], got {args.enrol_share}")
        if not 0 <= args.reminder_reply_rate <= 1:
            raise OptionError("--reminder-reply-rate", f"must be in [0, 1], got {args.reminder_reply_rate}")
        strategies = config.strategies
        if args.strategies == DEFAULT_STRATEGIES:
            strategies = ("cascade",)
        elif "manual" in strategies:
            raise OptionError("--strategies", "move-up and reminders are the engine's: leave out manual")
    except OptionError as error:
        return report_error(error.option, error.message)
    comparison = run_moveup_comparison(
        database_url(),
        dataclasses.replace(config, strategies=strategies),
        MoveUpConfig(enrol_share=args.enrol_share, reminder_reply_rate=args.reminder_reply_rate),
        redis_client=redis_client(),
        keep=args.keep_databases,
        progress=lambda message: print(message, file=sys.stderr),
    )
    if args.format == "json":
        json.dump(comparison.to_plain(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(render_moveup_table(comparison))
        if comparison.databases:
            print("\nkept databases: " + ", ".join(comparison.databases))
    return 0
