"""`slotoptim optimize ...`: session schedules and weekly slot templates.

The top-level CLI calls ``register`` with its sub-parsers; each leaf parser sets ``func``, which
returns the exit status. Heavy modules (OR-Tools) are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from slotoptim.ml.optimize.cli_support import OptionError, parse_floats, report_error

DEFAULT_NODE_LIMIT = 2000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    optimize = subparsers.add_parser("optimize", help="optimise appointment schedules and templates")
    commands = optimize.add_subparsers(dest="optimize_command", metavar="COMMAND", required=True)
    _register_session(commands)
    _register_template(commands)


def _register_session(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    session = commands.add_parser(
        "session",
        help="optimal bookings per interval for one provider's session (Kaandorp & Koole 2007)",
        description="Exact expected waiting, idle time and lateness; local search that provably reaches "
        "the global optimum. Compared with the Bailey-Welch rule and an even spread.",
    )
    session.add_argument("--patients", type=int, required=True, metavar="N", help="customers to book")
    session.add_argument("--intervals", type=int, required=True, metavar="T", help="intervals in the session")
    session.add_argument("--interval-minutes", type=float, required=True, metavar="D", help="minutes per interval")
    session.add_argument(
        "--service",
        required=True,
        metavar="DIST",
        help="service time in minutes: deterministic:M, exponential:M (mean) or pmf:V=P,V=P,...",
    )
    session.add_argument("--no-show", type=float, default=0.0, metavar="Q", help="no-show probability (default 0)")
    session.add_argument(
        "--weights",
        default="1,1,1",
        metavar="WW,WI,WL",
        help="weights of waiting per patient, idle time and lateness (default 1,1,1)",
    )
    session.add_argument(
        "--count-no-show-waiting",
        action="store_true",
        help="published variant: no-shows 'wait' as if present (Kaandorp & Koole's check values)",
    )
    session.add_argument(
        "--start",
        choices=("bailey-welch", "even"),
        default="bailey-welch",
        help="schedule the local search starts from",
    )
    session.add_argument(
        "--neighbourhood",
        choices=("auto", "exhaustive", "submodular"),
        default="auto",
        help="how the full neighbourhood is searched (auto: exhaustive up to 10 intervals)",
    )
    session.add_argument("--format", choices=("table", "json"), default="table")
    session.set_defaults(func=run_session)


def _register_template(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from slotoptim.ml.optimize.template_source import add_source_options

    template = commands.add_parser(
        "template",
        help="weekly slots per hour and visit type (MIP), compared with the current template",
        description="Plans the practice in the database (--org KEY, or its only organisation) and stores the"
        " recommendation in slotoptim_private.slot_template (view slotoptim.recommended_template) unless"
        " --no-store; --input FILE plans a problem file, --example the built-in example clinic.",
    )
    add_source_options(template)
    template.add_argument(
        "--no-store", action="store_true", help="database mode: print the recommendation without storing it"
    )
    template.add_argument("--solver", default="SCIP", help="OR-Tools MIP solver (SCIP or CBC)")
    template.add_argument(
        "--node-limit",
        type=int,
        default=DEFAULT_NODE_LIMIT,
        metavar="N",
        help=f"SCIP nodes per weekday, reproducible (default {DEFAULT_NODE_LIMIT}; 0 = none)",
    )
    template.add_argument("--time-limit", type=float, metavar="SECONDS", help="wall-clock limit per weekday")
    template.add_argument("--format", choices=("table", "json"), default="table")
    template.set_defaults(func=run_template)


def run_session(args: argparse.Namespace) -> int:
    from slotoptim.ml.optimize.service import ServiceSpecError, parse_service
    from slotoptim.ml.optimize.session_problem import SessionInputError, SessionProblem, Weights
    from slotoptim.ml.optimize.session_report import build_session_report
    from slotoptim.ml.optimize.session_search import optimise

    try:
        try:
            service = parse_service(args.service)
        except ServiceSpecError as error:
            raise OptionError("--service", str(error)) from None
        problem = SessionProblem(
            patients=args.patients,
            intervals=args.intervals,
            interval_minutes=args.interval_minutes,
            service=service,
            no_show=args.no_show,
            weights=Weights(*parse_floats("--weights", args.weights, count=3)),
            count_no_show_waiting=args.count_no_show_waiting,
        )
        started = time.perf_counter()
        try:
            optimum = optimise(problem, start=args.start, neighbourhood=args.neighbourhood)
        except ServiceSpecError as error:
            raise OptionError("--service", str(error)) from None
        seconds = time.perf_counter() - started
    except (OptionError, SessionInputError) as error:
        return report_error(error.option, error.message)
    report = build_session_report(problem, optimum, seconds)
    _emit(args.format, report.to_plain(), report.to_table())
    return 0


def run_template(args: argparse.Namespace) -> int:
    from slotoptim.ml.optimize.template import TemplateSolveError
    from slotoptim.ml.optimize.template_plan import plan_templates
    from slotoptim.ml.optimize.template_render import render_comparison
    from slotoptim.ml.optimize.template_source import describe_sources, load_source

    if args.node_limit < 0:
        return report_error("--node-limit", f"must be >= 0, got {args.node_limit}")
    if args.time_limit is not None and args.time_limit <= 0:
        return report_error("--time-limit", f"must be positive, got {args.time_limit}")
    try:
        source = load_source(args)
    except OptionError as error:
        return report_error(error.option, error.message)
    try:
        plan = plan_templates(
            source.problem,
            current_slots=source.current_slots,
            solver=args.solver,
            node_limit=args.node_limit or None,
            time_limit_seconds=args.time_limit,
        )
    except TemplateSolveError as error:
        return report_error("--solver", str(error))
    current_label = "current (booked)" if source.practice and not args.current else f"current ({plan.current_source})"
    table = render_comparison(source.problem, [("optimised", plan.optimised), (current_label, plan.current)])
    gap = f"optimised: {plan.optimised.status}, proven gap {100 * plan.optimised.relative_gap:.2f} %"
    plain = plan.to_plain()
    if source.practice is None:
        _emit(args.format, plain, f"{table}\n\n{gap}")
        return 0
    from slotoptim.ml.optimize.template_source import parse_instant

    practice = source.practice
    plain = {"organisation": practice.organisation.key, "sources": dict(practice.sources), **plain}
    if args.no_store:
        stored = "not stored (--no-store)"
        plain["run_id"] = None
    else:
        import psycopg
        from psycopg.rows import dict_row

        from slotoptim.listener.db import database_url
        from slotoptim.ml.optimize.template_store import store_template

        with psycopg.connect(database_url(), autocommit=True, row_factory=dict_row) as conn:
            run_id = store_template(conn, practice, plan, parse_instant("--at", args.at))
        plain["run_id"] = run_id
        stored = f"stored as run {run_id}: select * from slotoptim.recommended_template"
    _emit(args.format, plain, f"{describe_sources(practice)}\n\n{table}\n\n{gap}\n{stored}")
    return 0


def _emit(output_format: str, plain: object, table: str) -> None:
    if output_format == "json":
        json.dump(plain, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(table)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry until the top-level CLI registers this module: python -m slotoptim.ml.optimize.cli."""
    parser = argparse.ArgumentParser(prog="slotoptim")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
