"""`slotoptim optimize ...`: session schedules and weekly slot templates.

The top-level CLI calls ``register`` with its sub-parsers; each leaf parser sets ``func``, which
returns the exit status. Heavy modules (OR-Tools) are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

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
    template = commands.add_parser(
        "template",
        help="weekly slots per hour and visit type (MIP), compared with the current template",
        description="Without --input, solves the built-in example clinic.",
    )
    template.add_argument(
        "--input", type=Path, metavar="FILE", help="problem as JSON (see slotoptim.ml.optimize.template_input)"
    )
    template.add_argument(
        "--current",
        type=Path,
        metavar="FILE",
        help="current template as JSON slot rows; default: the same capacity spread uniformly",
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
    from slotoptim.ml.optimize.template_example import example_clinic_problem
    from slotoptim.ml.optimize.template_input import slots_from_plain, template_problem_from_plain
    from slotoptim.ml.optimize.template_plan import plan_templates
    from slotoptim.ml.optimize.template_problem import TemplateInputError
    from slotoptim.ml.optimize.template_render import render_comparison

    if args.node_limit < 0:
        return report_error("--node-limit", f"must be >= 0, got {args.node_limit}")
    if args.time_limit is not None and args.time_limit <= 0:
        return report_error("--time-limit", f"must be positive, got {args.time_limit}")
    try:
        problem = (
            template_problem_from_plain(_read_json(args.input, "--input")) if args.input else (example_clinic_problem())
        )
    except OptionError as error:
        return report_error(error.option, error.message)
    except (TemplateInputError, ValueError, TypeError, AttributeError) as error:
        # Besides our checks: a number field holding text, or a row that is not a mapping.
        return report_error("--input", str(error))
    try:
        current = slots_from_plain(_read_json(args.current, "--current")) if args.current else None
    except OptionError as error:
        return report_error(error.option, error.message)
    except (TemplateInputError, ValueError, TypeError, AttributeError) as error:
        return report_error("--current", str(error))
    try:
        plan = plan_templates(
            problem,
            current_slots=current,
            solver=args.solver,
            node_limit=args.node_limit or None,
            time_limit_seconds=args.time_limit,
        )
    except TemplateSolveError as error:
        return report_error("--solver", str(error))
    table = render_comparison(
        problem, [("optimised", plan.optimised), (f"current ({plan.current_source})", plan.current)]
    )
    gap = f"optimised: {plan.optimised.status}, proven gap {100 * plan.optimised.relative_gap:.2f} %"
    _emit(args.format, plan.to_plain(), f"{table}\n\n{gap}")
    return 0


def _read_json(path: Path, option: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise OptionError(option, f"cannot read {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise OptionError(option, f"{path} is not JSON: {error}") from None


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
