"""`slotoptim queue evaluate`: how good are the queue's wait estimates?

Replays Hangu clinic sessions (real service times) with simulated arrival punctuality through the
real SQL queue in a scratch organisation of the database (DATABASE_URL, or the embedded server),
and prints MAE and the share of estimates within +-10 minutes, for the model and the naive
"people ahead x default service time" baseline of the same run. Bad input exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    queue = subparsers.add_parser("queue", help="the check-in queue: evaluate its wait estimates")
    commands = queue.add_subparsers(dest="queue_command", metavar="COMMAND", required=True)
    p = commands.add_parser(
        "evaluate",
        help="replay Hangu sessions through the queue; MAE and share within 10 minutes vs the naive baseline",
    )
    p.add_argument("--hangu", type=Path, help="Hangu Data.csv (default: the shared data set)")
    p.add_argument("--history-sessions", type=int, default=120, help="sessions to learn durations from (default 120)")
    p.add_argument("--test-sessions", type=int, default=20, help="sessions replayed and scored (default 20)")
    p.add_argument("--slot-minutes", type=int, default=15, help="booked minutes per patient (default 15)")
    p.add_argument("--arrival-mean", type=float, default=-8.0, help="mean arrival minutes vs booked time (default -8)")
    p.add_argument("--arrival-sd", type=float, default=10.0, help="sd of arrival minutes (default 10)")
    p.add_argument("--no-show-share", type=float, default=0.05, help="share of patients who never come (default 0.05)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_evaluate)


def _fail(message: str) -> int:
    print(f"slotoptim queue evaluate: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def cmd_evaluate(args: argparse.Namespace) -> int:
    from slotoptim.listener.db import database_url
    from slotoptim.migrations.migrate import migrate
    from slotoptim.ml.cli import HANGU_CSV, shared_data_dir
    from slotoptim.ml.queue.replay import ReplayConfig, ReplayInputError, read_sessions, replay

    for name in ("history_sessions", "test_sessions", "slot_minutes"):
        if getattr(args, name) < 1:
            return _fail(f"--{name.replace('_', '-')}: must be at least 1")
    if not 0 <= args.no_show_share < 1:
        return _fail("--no-show-share: must be in [0, 1)")
    if args.arrival_sd < 0:
        return _fail("--arrival-sd: must not be negative")
    path = args.hangu or shared_data_dir() / HANGU_CSV
    config = ReplayConfig(
        slot_minutes=args.slot_minutes,
        arrival_mean=args.arrival_mean,
        arrival_sd=args.arrival_sd,
        no_show_share=args.no_show_share,
        history_sessions=args.history_sessions,
        test_sessions=args.test_sessions,
        seed=args.seed,
    )
    try:
        sessions = read_sessions(path)
        url = database_url()
        migrate(url)
        report = replay(url, sessions, config, progress=lambda m: print(m, file=sys.stderr, flush=True))
    except ReplayInputError as exc:
        return _fail(str(exc))
    result = report.as_dict()
    if args.format == "json":
        print(json.dumps(result, indent=2))
        return EXIT_OK
    print(f"Replayed {result['sessions']} sessions, {result['patients']} patients, {result['estimates']} estimates")
    print(f"{'estimator':<28}{'MAE (min)':>10}{'within 10':>11}{'bias':>8}")
    for name, part in (
        ("queue forecast", result["model"]),
        (f"naive x {result['naive_default']['service_minutes']} min (default)", result["naive_default"]),
        (f"naive x {result['naive_learned_mean']['service_minutes']} min (mean)", result["naive_learned_mean"]),
    ):
        print(f"{name:<28}{part['mae_minutes']:>10.2f}{part['within_10_minutes']:>10.1%}{part['bias']:>8.2f}")
    print(f"80 % interval coverage: {result['model']['interval_80_coverage']:.1%}")
    print(f"MAE ratio forecast / naive (default): {result['mae_ratio_model_to_naive_default']:.3f}")
    return EXIT_OK
