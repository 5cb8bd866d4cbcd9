"""`slotoptim ml ...`: the learning commands.

From files (no database needed):
  slotoptim ml evaluate --train A.csv --test B.csv      no-show model: train on A, score on B
  slotoptim ml evaluate --data F.csv --split-date D     same, one file split by appointment day
  slotoptim ml buffers --hangu [PATH]                   learned vs fixed buffers on Hangu service times
  slotoptim ml forecast --noshow-csv [PATH]             Prophet vs seasonal-naive backtest
Against the database (DATABASE_URL, or the embedded server), every organisation or --org KEY, at
--at (default: now):
  slotoptim ml train                                    no-show model per organisation, stored versioned
  slotoptim ml score [--appointment ID ...]             appointment.no_show_risk of upcoming appointments
  slotoptim ml forecast                                 demand backtest, forecast into demand_forecast
  slotoptim ml buffers                                  learned buffers into learned_buffer
  slotoptim ml demo-history [--import]                  SYNTHETIC: the demo practice with 16 weeks of past

Results go to stdout (JSON or a table), progress to stderr. Bad input (missing file, wrong columns,
unparseable values, unknown organisation) prints one line on stderr and exits with status 2; a
database command where some organisation's step failed prints its JSON and exits with status 1.

This module is imported by the core CLI to register the group, so it must import without numpy,
pandas, xgboost or prophet: every heavy import happens inside the command that needs it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

EXIT_OK = 0
EXIT_FAILED = 1
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
    _add_train(commands)
    _add_score(commands)
    _add_demo_history(commands)


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
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        help="output format (default: table for the file modes, json for the database modes)",
    )


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", metavar="KEY", help="only this organisation (default: every organisation)")
    parser.add_argument("--at", metavar="ISO", help="the instant to act at, with a UTC offset (default: now)")


def _instant(option: str, text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _BadOption(f"{option}: not an ISO 8601 date-time: {text!r}") from None
    if value.tzinfo is None:
        raise _BadOption(f"{option}: {text!r} needs a UTC offset, e.g. 2026-11-24T08:00:00-05:00")
    return value


DatabaseWork = Callable[[psycopg.Connection[Any], list[Any], datetime], dict[str, Any]]


def _database_run(
    command: str, args: argparse.Namespace, work: DatabaseWork, table: Callable[[dict[str, Any]], str] | None = None
) -> int:
    """Connect, resolve --org and --at, run, print the summary (JSON, or `table` when asked and given);
    status 1 when some organisation's step failed."""
    from slotoptim.listener.db import database_url

    if args.format == "table" and table is None:
        return _fail(command, "--format table: the database mode prints JSON only")
    try:
        at = _instant("--at", args.at)
        from slotoptim.ml.noshow.organisations import UnknownOrganisationError, organisations
    except _BadOption as error:
        return _fail(command, str(error))
    except ImportError as missing:
        return _fail(command, f"needs the ml extra ({missing.name} is not installed): pip install 'slotoptim[ml]'")
    with psycopg.connect(database_url(), autocommit=True, row_factory=dict_row) as conn:
        try:
            orgs = organisations(conn, args.org)
        except UnknownOrganisationError as error:
            return _fail(command, f"--org: {error}")
        summary = work(conn, orgs, at)
    if args.format == "table" and table is not None:
        print(table(summary))
    else:
        print(json.dumps(summary, indent=2, default=str))
    return EXIT_FAILED if summary.get("failed") else EXIT_OK


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
        _emit(data, table, args.format or "table")
        return EXIT_OK

    return _guarded("evaluate", work, errors)


# ---- buffers --------------------------------------------------------------------------------


def _add_buffers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "buffers",
        help="learned buffers (p80 overrun per service/provider): from the database, or compared on Hangu data",
        description="Without --hangu: learn each organisation's buffers from its completed appointments"
        " (actual start and end) into slotoptim_private.learned_buffer; buffer_after() uses them where the"
        " organisation has use_learned_buffers on. With --hangu [PATH]: learned vs fixed buffers on the"
        " Hangu service times.",
    )
    parser.add_argument(
        "--hangu",
        type=Path,
        nargs="?",
        const=str(USE_SHARED_DATA),
        metavar="PATH",
        help=f"Hangu Data.csv (default: ${SHARED_DATA_ENV}/{HANGU_CSV})",
    )
    parser.add_argument(
        "--quantile", type=_fraction, help="overrun quantile the buffer covers (Hangu 0.8; database: the org setting)"
    )
    parser.add_argument(
        "--max-buffer", type=int, metavar="MIN", help="cap in minutes (Hangu 60; database: the org setting)"
    )
    parser.add_argument(
        "--scheduled-by",
        choices=("clinic", "service"),
        help="Hangu only: slot length, one for the clinic (default) or one per service (mean service time"
        " rounded to 5 min)",
    )
    _database_options(parser)
    _format_option(parser)
    parser.set_defaults(func=run_buffers)


def run_buffers(args: argparse.Namespace) -> int:
    if args.max_buffer is not None and args.max_buffer < 0:
        return _fail("buffers", f"--max-buffer must be >= 0, got {args.max_buffer}")
    if args.hangu is None:
        return _buffers_database(args)
    path = shared_data_dir() / HANGU_CSV if args.hangu == USE_SHARED_DATA else Path(args.hangu)

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
            settings=BufferSettings(
                quantile=0.8 if args.quantile is None else args.quantile,
                max_buffer_minutes=60 if args.max_buffer is None else args.max_buffer,
            ),
            scheduled_by=args.scheduled_by or "clinic",
        )
        _emit(report.to_json(), format_hangu_report(report), args.format or "table")
        return EXIT_OK

    return _guarded("buffers", work, errors)


def _buffers_database(args: argparse.Namespace) -> int:
    if args.scheduled_by is not None:
        return _fail("buffers", "--scheduled-by goes with --hangu (the database has real slot lengths)")

    def work(conn: psycopg.Connection[Any], orgs: list[Any], at: datetime) -> dict[str, Any]:
        from slotoptim.ml.jobs import buffers_all

        return buffers_all(conn, orgs, at, quantile=args.quantile, max_minutes=args.max_buffer)

    return _database_run("buffers", args, work)


# ---- forecast -------------------------------------------------------------------------------


def _add_forecast(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "forecast",
        help="demand forecast: backtest Prophet against the seasonal-naive baseline (MASE, MAPE), store the forecast",
        description="Without --noshow-csv: each organisation's appointments per provider (and service) and day"
        " are backtested, forecast --days ahead and stored in slotoptim_private.demand_forecast (see"
        " slotoptim.demand_heatmap). With --noshow-csv [PATH]: a backtest of appointments per day of the Kaggle"
        " file.",
    )
    parser.add_argument(
        "--noshow-csv",
        type=Path,
        nargs="?",
        const=str(USE_SHARED_DATA),
        metavar="PATH",
        help=f"Kaggle no-show file (default: ${SHARED_DATA_ENV}/{NOSHOW_CSV})",
    )
    parser.add_argument("--frequency", choices=("daily", "weekly"), default="daily", help="backtest series (daily)")
    parser.add_argument("--horizon", type=_positive, default=7, help="backtest: periods forecast from each origin (7)")
    parser.add_argument(
        "--initial", type=_positive, help="backtest: minimum history before the first origin (file 14, database 28)"
    )
    parser.add_argument("--step", type=_positive, help="backtest: periods between origins (file 1, database 7)")
    parser.add_argument("--max-origins", type=_positive, help="backtest: keep only the latest N (database default 6)")
    parser.add_argument(
        "--holiday",
        type=str,
        action="append",
        default=[],
        metavar="YYYY-MM-DD",
        help="with --noshow-csv: a holiday/closure (repeat); the database mode reads the closures",
    )
    parser.add_argument("--days", type=_positive, default=14, help="database: days to forecast from --at's date (14)")
    parser.add_argument(
        "--method", choices=("prophet", "seasonal_naive"), default="prophet", help="database: forecaster (prophet)"
    )
    parser.add_argument("--no-backtest", action="store_true", help="database: forecast only")
    parser.add_argument("--no-store", action="store_true", help="database: report, do not write demand_forecast")
    _database_options(parser)
    _format_option(parser)
    parser.set_defaults(func=run_forecast)


def run_forecast(args: argparse.Namespace) -> int:
    if args.noshow_csv is None:
        return _forecast_database(args)
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
            initial=14 if args.initial is None else args.initial,
            step=1 if args.step is None else args.step,
            max_origins=args.max_origins,
            holidays=holidays,
            progress=_progress,
        )
        data = result.to_json() | {
            "source": str(path),
            "holidays": [d.isoformat() for d in holidays],
            "zero_demand_weekdays": closed,
        }
        _emit(data, format_backtest(result, source=str(path), zero_weekdays=closed), args.format or "table")
        return EXIT_OK

    return _guarded("forecast", work, errors)


def _forecast_database(args: argparse.Namespace) -> int:
    if args.holiday:
        return _fail("forecast", "--holiday goes with --noshow-csv (the database mode reads the closures)")

    def work(conn: psycopg.Connection[Any], orgs: list[Any], at: datetime) -> dict[str, Any]:
        from slotoptim.ml.forecast.db_forecast import BacktestOptions
        from slotoptim.ml.jobs import forecast_all

        options = None
        if not args.no_backtest:
            options = BacktestOptions(
                frequency=args.frequency,
                horizon=args.horizon,
                initial=28 if args.initial is None else args.initial,
                step=7 if args.step is None else args.step,
                max_origins=6 if args.max_origins is None else args.max_origins,
            )
        return forecast_all(
            conn,
            orgs,
            at,
            days=args.days,
            method=args.method,
            backtest_options=options,
            store=not args.no_store,
            progress=_progress,
        )

    def table(summary: dict[str, Any]) -> str:
        from slotoptim.ml.forecast.db_report import format_forecast_summary

        return format_forecast_summary(summary)

    return _database_run("forecast", args, work, table=table)


# ---- train, score ---------------------------------------------------------------------------


def _add_train(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "train",
        help="train each organisation's no-show model on its own calendar (or fall back to the Kaggle model)",
        description="Practices with at least learning_settings.min_practice_rows marked appointments get their own"
        " model (time-split evaluation, then a refit on all rows); the others get the Kaggle model from the"
        " model store (trained from --noshow-csv when the store is empty). Stored in"
        " slotoptim_private.model_version; see slotoptim.model_versions.",
    )
    parser.add_argument(
        "--model-dir", type=Path, metavar="DIR", help="Kaggle model store (default: <state dir>/models/noshow)"
    )
    parser.add_argument(
        "--noshow-csv",
        type=Path,
        nargs="?",
        const=str(USE_SHARED_DATA),
        metavar="PATH",
        help=f"Kaggle CSV to train the fallback from if the store is empty (default: ${SHARED_DATA_ENV}/{NOSHOW_CSV}"
        " when present)",
    )
    parser.add_argument("--rounds", type=_positive, help="boosting rounds of a practice model (150)")
    _database_options(parser)
    _format_option(parser)
    parser.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    def work(conn: psycopg.Connection[Any], orgs: list[Any], at: datetime) -> dict[str, Any]:
        from slotoptim.ml.jobs import train_all
        from slotoptim.ml.noshow.kaggle_source import KaggleSource

        if args.noshow_csv is None or args.noshow_csv == USE_SHARED_DATA:
            csv = shared_data_file(NOSHOW_CSV)
        else:
            csv = Path(args.noshow_csv)
        source = KaggleSource(model_dir=args.model_dir, csv_path=csv)
        return train_all(conn, orgs, at, kaggle=source, rounds=args.rounds, progress=_progress)

    return _database_run("train", args, work)


def _add_score(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "score",
        help="write appointment.no_show_risk for upcoming booked/confirmed appointments",
        description="Scores with each organisation's active no-show model (slotoptim ml train);"
        " slotoptim.high_risk_slots and slotoptim.overbooking_suggestions read the risks.",
    )
    parser.add_argument("--appointment", type=int, action="append", metavar="ID", help="only this appointment (repeat)")
    _database_options(parser)
    _format_option(parser)
    parser.set_defaults(func=run_score)


def run_score(args: argparse.Namespace) -> int:
    def work(conn: psycopg.Connection[Any], orgs: list[Any], at: datetime) -> dict[str, Any]:
        from slotoptim.ml.jobs import score_all

        return score_all(conn, orgs, at, appointment_ids=args.appointment)

    return _database_run("score", args, work)


# ---- demo history ---------------------------------------------------------------------------


def _add_demo_history(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo-history",
        help="SYNTHETIC: the demo practice with weeks of made-up past, for the learning commands to learn from",
        description="Writes (or with --import loads) the demo practice with --weeks of synthetic history before"
        " --today and the bookings made so far for the next --future-days. Invented data, labelled so in the"
        " organisation's name.",
    )
    parser.add_argument("--today", metavar="YYYY-MM-DD", help="the first day that is not history (default: today)")
    parser.add_argument("--weeks", type=_positive, default=16, help="weeks of history (16)")
    parser.add_argument("--future-days", type=_positive, default=14, help="days of bookings from --today (14)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the practice file here (default: stdout)")
    parser.add_argument("--import", dest="load", action="store_true", help="import it into the database instead")
    parser.add_argument("--replace", action="store_true", help="with --import: replace an existing organisation")
    parser.set_defaults(func=run_demo_history)


def run_demo_history(args: argparse.Namespace) -> int:
    from slotoptim.listener.practice.demo import today_in_demo_zone
    from slotoptim.ml.forecast.synthetic_history import build_demo_history

    try:
        today = _iso_date("--today", args.today) if args.today else today_in_demo_zone()
    except _BadOption as error:
        return _fail("demo-history", str(error))
    _progress(f"building {args.weeks} weeks of synthetic history before {today}")
    document = build_demo_history(today, weeks=args.weeks, future_days=args.future_days, seed=args.seed)
    if not args.load:
        text = json.dumps(document, indent=2)
        if args.out:
            args.out.write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
        return EXIT_OK
    from slotoptim.listener.db import connect, database_url
    from slotoptim.listener.practice.importer import import_practice
    from slotoptim.migrations.migrate import migrate

    url = database_url()
    migrate(url)
    _progress(f"importing {len(document['appointments'])} appointments")
    with connect(url) as conn:
        summary = import_practice(conn, document, replace=args.replace)
    print(json.dumps({"imported": summary.org_key, "synthetic": True, "counts": summary.counts}))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
