"""`slotoptim ml ...`: the learning commands that work from files (no database needed).

  slotoptim ml evaluate --train A.csv --test B.csv      no-show model: train on A, score on B
  slotoptim ml evaluate --data F.csv --split-date D     same, one file split by appointment day
  slotoptim ml buffers --hangu [PATH]                   learned vs fixed buffers on Hangu service times
  slotoptim ml forecast --noshow-csv [PATH]             Prophet vs seasonal-naive backtest

Results go to stdout (JSON or a table), progress to stderr. Bad input (missing file, wrong columns,
unparseable values) prints one line on stderr and exits with status 2.

This module is imported by the core CLI to register the group, so it must import without numpy,
pandas, xgboost or prophet: every heavy import happens inside the command that needs it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_BAD_INPUT = 2
SHARED_DATA_ENV = "SLOTOPTIM_SHARED_DATA"
NOSHOW_CSV = "noshow/noshow_train.csv"
HANGU_CSV = "hangu/Data.csv"
# What `--hangu` / `--noshow-csv` hold when given without a path (argparse runs it through Path too).
USE_SHARED_DATA = Path("<shared data>")


def shared_data_dir() -> Path:
    """$SLOTOPTIM_SHARED_DATA, else <repo>/../shared/data (the repo found by walking up to pyproject.toml)."""
    configured = os.environ.get(SHARED_DATA_ENV)
    if configured:
        return Path(configured).expanduser()
    for folder in Path(__file__).resolve().parents:
        if (folder / "pyproject.toml").is_file():
            return folder.parent / "shared" / "data"
    return Path.cwd().parent / "shared" / "data"


def shared_data_file(relative: str) -> Path | None:
    """A file of the shared data set, or None when it is not there (tests skip on None)."""
    path = shared_data_dir() / relative
    return path if path.is_file() else None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ml = subparsers.add_parser("ml", help="learning: no-show risk, learned buffers, demand forecasts")
    commands = ml.add_subparsers(dest="ml_command", metavar="COMMAND", required=True)
    _add_evaluate(commands)
    _add_buffers(commands)
    _add_forecast(commands)
    # `train` and `score` read appointments from the database and store/score models there; they are
    # added here by the database-backed CLI, reusing slotoptim.ml.noshow.model and .store.


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry (`python -m slotoptim.ml.cli ml ...`), same commands as `slotoptim ml ...`."""
    parser = argparse.ArgumentParser(prog="slotoptim")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


# ---- shared helpers -------------------------------------------------------------------------


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _fail(command: str, message: str) -> int:
    print(f"slotoptim ml {command}: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _emit(data: dict[str, Any], table: str, output_format: str) -> None:
    print(json.dumps(data, indent=2) if output_format == "json" else table)


def _guarded(command: str, work: Callable[[], int], input_errors: Callable[[], tuple[type[Exception], ...]]) -> int:
    """Run a command; turn bad input into one stderr line and exit 2, let real bugs raise."""
    try:
        errors = input_errors()
    except ImportError as missing:
        return _fail(command, f"needs the ml extra ({missing.name} is not installed): pip install 'slotoptim[ml]'")
    try:
        return work()
    except OSError as error:
        where = error.filename if error.filename is not None else ""
        return _fail(command, f"{where}: {error.strerror or error}")
    except errors as error:
        return _fail(command, str(error))


class _BadOption(ValueError):
    """An option value the parser accepted as text but the command cannot use; the message names the option."""


def _iso_date(option: str, text: str) -> date:
    # Parsed in the command, not by argparse, so a bad date is one line on stderr rather than usage + error.
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _BadOption(f"{option}: not a date (YYYY-MM-DD): {text!r}") from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive): {text}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text}")
    return value


def _format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")


# ---- evaluate -------------------------------------------------------------------------------


def _add_evaluate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="train the no-show model on one Kaggle-format file and score it on another",
        description="Train on --train and score on --test, or split --data by appointment day at --split-date.",
    )
    parser.add_argument("--train", type=Path, metavar="CSV", help="training appointments (Kaggle no-show format)")
    parser.add_argument("--test", type=Path, metavar="CSV", help="test appointments (same format)")
    parser.add_argument("--data", type=Path, metavar="CSV", help="one file to split in time instead of --train/--test")
    parser.add_argument(
        "--split-date",
        type=str,
        metavar="YYYY-MM-DD",
        help="with --data: appointments on/after it are the test set",
    )
    parser.add_argument("--save-model", action="store_true", help="store the trained model as a new version")
    parser.add_argument(
        "--model-dir", type=Path, metavar="DIR", help="model store (default: <state dir>/models/noshow)"
    )
    _format_option(parser)
    parser.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    files_mode = args.train is not None or args.test is not None
    split_mode = args.data is not None or args.split_date is not None
    if files_mode == split_mode:
        return _fail("evaluate", "give either --train and --test, or --data and --split-date")
    if files_mode and (args.train is None or args.test is None):
        return _fail("evaluate", "--train and --test go together")
    if split_mode and (args.data is None or args.split_date is None):
        return _fail("evaluate", "--data and --split-date go together")
    try:
        split_day = _iso_date("--split-date", args.split_date) if split_mode else None
    except _BadOption as error:
        return _fail("evaluate", str(error))

    def errors() -> tuple[type[Exception], ...]:
        from slotoptim.ml.noshow.kaggle import KaggleFormatError
        from slotoptim.ml.noshow.model import InsufficientDataError

        return (KaggleFormatError, InsufficientDataError)

    def work() -> int:
        import numpy as np

        from slotoptim.ml.noshow.evaluate import evaluate_files, evaluate_split
        from slotoptim.ml.noshow.report import format_evaluation
        from slotoptim.ml.noshow.store import save_model

        if files_mode:
            model, report = evaluate_files(args.train, args.test, progress=_progress)
        else:
            model, report = evaluate_split(args.data, np.datetime64(split_day, "D"), progress=_progress)
        data = report.to_json()
        table = format_evaluation(report)
        if args.save_model:
            path = save_model(model, root=args.model_dir, training_source=report.train.source, metrics=data["metrics"])
            _progress(f"model stored in {path}")
            data["model_path"] = str(path)
            table += f"\nmodel stored in {path}"
        _emit(data, table, args.format)
        return EXIT_OK

    return _guarded("evaluate", work, errors)


# ---- buffers --------------------------------------------------------------------------------


def _add_buffers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "buffers",
        help="learned buffers (p80 overrun per service/provider) compared with a fixed buffer",
        description="Modes: --hangu [PATH] reads the Hangu service-time file. (A database mode follows.)",
    )
    parser.add_argument(
        "--hangu",
        type=Path,
        nargs="?",
        const=str(USE_SHARED_DATA),
        metavar="PATH",
        help=f"Hangu Data.csv (default: ${SHARED_DATA_ENV}/{HANGU_CSV})",
    )
    parser.add_argument("--quantile", type=_fraction, default=0.8, help="overrun quantile the buffer covers (0.8)")
    parser.add_argument("--max-buffer", type=int, default=60, metavar="MIN", help="admin cap in minutes (60)")
    parser.add_argument(
        "--scheduled-by",
        choices=("clinic", "service"),
        default="clinic",
        help="slot length: one for the clinic, or one per service (mean service time rounded to 5 min)",
    )
    _format_option(parser)
    parser.set_defaults(func=run_buffers)


def run_buffers(args: argparse.Namespace) -> int:
    if args.hangu is None:
        return _fail("buffers", "choose a source: --hangu [PATH] (the database mode is not available yet)")
    path = shared_data_dir() / HANGU_CSV if args.hangu == USE_SHARED_DATA else Path(args.hangu)
    if args.max_buffer < 0:
        return _fail("buffers", f"--max-buffer must be >= 0, got {args.max_buffer}")

    def errors() -> tuple[type[Exception], ...]:
        from slotoptim.ml.buffers.hangu import HanguFormatError

        return (HanguFormatError,)

    def work() -> int:
        from slotoptim.ml.buffers.estimator import BufferSettings
        from slotoptim.ml.buffers.hangu import read_hangu_csv
        from slotoptim.ml.buffers.report import format_hangu_report, hangu_buffer_report

        visits = read_hangu_csv(path)
        report = hangu_buffer_report(
            visits,
            source=str(path),
            settings=BufferSettings(quantile=args.quantile, max_buffer_minutes=args.max_buffer),
            scheduled_by=args.scheduled_by,
        )
        _emit(report.to_json(), format_hangu_report(report), args.format)
        return EXIT_OK

    return _guarded("buffers", work, errors)


# ---- forecast -------------------------------------------------------------------------------


def _add_forecast(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "forecast",
        help="backtest Prophet against the seasonal-naive baseline (MASE, MAPE)",
        description="Modes: --noshow-csv [PATH] forecasts appointments per day of the Kaggle file."
        " (A database mode follows.)",
    )
    parser.add_argument(
        "--noshow-csv",
        type=Path,
        nargs="?",
        const=str(USE_SHARED_DATA),
        metavar="PATH",
        help=f"Kaggle no-show file (default: ${SHARED_DATA_ENV}/{NOSHOW_CSV})",
    )
    parser.add_argument("--frequency", choices=("daily", "weekly"), default="daily", help="series frequency (daily)")
    parser.add_argument("--horizon", type=_positive, default=7, help="periods forecast from each origin (7)")
    parser.add_argument("--initial", type=_positive, default=14, help="minimum history before the first origin (14)")
    parser.add_argument("--step", type=_positive, default=1, help="periods between origins (1)")
    parser.add_argument("--max-origins", type=_positive, help="keep only the latest N origins")
    parser.add_argument(
        "--holiday",
        type=str,
        action="append",
        default=[],
        metavar="YYYY-MM-DD",
        help="a holiday/closure (repeat)",
    )
    _format_option(parser)
    parser.set_defaults(func=run_forecast)


def run_forecast(args: argparse.Namespace) -> int:
    if args.noshow_csv is None:
        return _fail("forecast", "choose a source: --noshow-csv [PATH] (the database mode is not available yet)")
    path = shared_data_dir() / NOSHOW_CSV if args.noshow_csv == USE_SHARED_DATA else Path(args.noshow_csv)
    try:
        holidays = [_iso_date("--holiday", text) for text in args.holiday]
    except _BadOption as error:
        return _fail("forecast", str(error))

    def errors() -> tuple[type[Exception], ...]:
        from slotoptim.ml.forecast.series import SeriesInputError
        from slotoptim.ml.noshow.kaggle import KaggleFormatError

        return (KaggleFormatError, SeriesInputError)

    def work() -> int:
        from slotoptim.ml.forecast.backtest import backtest
        from slotoptim.ml.forecast.noshow_counts import daily_appointment_counts, zero_weekdays
        from slotoptim.ml.forecast.prophet_model import prophet_forecast
        from slotoptim.ml.forecast.report import format_backtest
        from slotoptim.ml.forecast.seasonal_naive import seasonal_naive_forecast
        from slotoptim.ml.forecast.series import weekly_from_daily

        series = daily_appointment_counts(path)
        closed = zero_weekdays(series)
        if args.frequency == "weekly":
            series = weekly_from_daily(series)
        result = backtest(
            series,
            {"prophet": prophet_forecast, "seasonal_naive": seasonal_naive_forecast},
            horizon=args.horizon,
            initial=args.initial,
            step=args.step,
            max_origins=args.max_origins,
            holidays=holidays,
            progress=_progress,
        )
        data = result.to_json() | {
            "source": str(path),
            "holidays": [d.isoformat() for d in holidays],
            "zero_demand_weekdays": closed,
        }
        _emit(data, format_backtest(result, source=str(path), zero_weekdays=closed), args.format)
        return EXIT_OK

    return _guarded("forecast", work, errors)


if __name__ == "__main__":
    sys.exit(main())
