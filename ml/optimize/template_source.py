"""Where `optimize template` and `simulate template` get their problem: a file, the built-in example,
or (the default) a practice in the database.

The rule: ``--input FILE`` reads a problem file; ``--example`` solves the built-in example clinic;
otherwise the database is read (DATABASE_URL, or the embedded server), for the organisation named
by ``--org KEY``, or for its only organisation when it holds exactly one (several: name one).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slotoptim.ml.optimize.cli_support import OptionError
from slotoptim.ml.optimize.template_db import PracticeTemplate
from slotoptim.ml.optimize.template_problem import SlotKey, TemplateProblem


@dataclass(frozen=True)
class TemplateSource:
    problem: TemplateProblem
    current_slots: Mapping[SlotKey, int] | None
    label: str
    """What was planned: "example", the file name, or "organisation KEY"."""
    practice: PracticeTemplate | None = None
    """Set in database mode: ids for storing, and where each input came from."""


def add_source_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--input", type=Path, metavar="FILE", help="problem as JSON (see slotoptim.ml.optimize.template_input)"
    )
    source.add_argument("--example", action="store_true", help="the built-in example clinic instead of a practice")
    source.add_argument(
        "--org",
        metavar="KEY",
        help="the practice in the database to plan (default: the database's only organisation)",
    )
    parser.add_argument(
        "--current",
        type=Path,
        metavar="FILE",
        help="current template as JSON slot rows (default: the practice's booked appointments; for a file or the"
        " example, the same capacity spread uniformly)",
    )
    parser.add_argument(
        "--waiting-weight",
        type=float,
        metavar="W",
        help="cost of a patient-minute of waiting in the template model (default 1, or the file's setting)",
    )
    parser.add_argument(
        "--arrival-scv",
        type=float,
        metavar="C2",
        help="irregularity of arrivals in the waiting curve (default: from the practice's start delays in database"
        " mode, 0.3 otherwise, or the file's setting)",
    )
    parser.add_argument(
        "--at", metavar="ISO", help="database mode: plan as of this instant, with a UTC offset (default: now)"
    )
    parser.add_argument(
        "--history-weeks",
        type=int,
        default=12,
        metavar="N",
        help="database mode: weeks of history for durations, no-shows, demand and the current template (default 12)",
    )


def load_source(args: argparse.Namespace) -> TemplateSource:
    """The problem and current template the options ask for; OptionError names a bad option."""
    from slotoptim.ml.optimize.template_input import slots_from_plain, template_problem_from_plain

    current: Mapping[SlotKey, int] | None = None
    if args.current:
        current = _parse("--current", lambda: slots_from_plain(read_json(args.current, "--current")))
    if args.input:
        problem = _parse("--input", lambda: template_problem_from_plain(read_json(args.input, "--input")))
        return TemplateSource(_tuned(problem, args), current, str(args.input))
    if args.example:
        from slotoptim.ml.optimize.template_example import example_clinic_problem

        return TemplateSource(_tuned(example_clinic_problem(), args), current, "example")
    practice = load_practice(args)
    practice = dataclasses.replace(practice, problem=_tuned(practice.problem, args))
    return TemplateSource(
        practice.problem,
        current if current is not None else practice.current_slots,
        f"organisation {practice.organisation.key}",
        practice,
    )


def _tuned(problem: TemplateProblem, args: argparse.Namespace) -> TemplateProblem:
    """The problem with the settings given on the command line."""
    from slotoptim.ml.optimize.template_problem import TemplateInputError

    changes: dict[str, Any] = {}
    for option, name in (("--waiting-weight", "waiting_weight"), ("--arrival-scv", "arrival_scv")):
        value = getattr(args, name, None)
        if value is not None:
            try:
                dataclasses.replace(problem.settings, **{name: value})
            except TemplateInputError as error:
                raise OptionError(option, str(error)) from None
            changes[name] = value
    if not changes:
        return problem
    return dataclasses.replace(problem, settings=dataclasses.replace(problem.settings, **changes))


def load_practice(args: argparse.Namespace) -> PracticeTemplate:
    import psycopg

    from slotoptim.listener.db import database_url
    from slotoptim.ml.optimize.template_db import PracticeDataError, load_practice_template, resolve_organisation
    from slotoptim.ml.optimize.template_problem import TemplateInputError

    at = parse_instant("--at", args.at)
    if args.history_weeks < 1:
        raise OptionError("--history-weeks", f"must be >= 1, got {args.history_weeks}")
    with psycopg.connect(database_url(), autocommit=True) as conn:
        try:
            organisation = resolve_organisation(conn, args.org)
        except PracticeDataError as error:
            raise OptionError("--org", str(error)) from None
        try:
            return load_practice_template(conn, organisation, at, history_weeks=args.history_weeks)
        except (PracticeDataError, TemplateInputError) as error:
            raise OptionError("--org", f"{organisation.key}: {error}") from None


def parse_instant(option: str, text: str | None) -> dt.datetime:
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise OptionError(option, f"not an ISO 8601 date-time: {text!r}") from None
    if value.tzinfo is None:
        raise OptionError(option, f"{text!r} needs a UTC offset, e.g. 2026-11-24T08:00:00-05:00")
    return value


def read_json(path: Path, option: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise OptionError(option, f"cannot read {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise OptionError(option, f"{path} is not JSON: {error}") from None


def _parse(option: str, build: Any) -> Any:
    try:
        return build()
    except OptionError:
        raise
    except (ValueError, TypeError, AttributeError) as error:
        # Besides our checks: a number field holding text, or a row that is not a mapping.
        raise OptionError(option, str(error)) from None


def describe_sources(practice: PracticeTemplate) -> str:
    """A few lines telling the planner where the practice's inputs came from."""
    sources = practice.sources
    lines = [f"Practice {practice.organisation.key}, as of {sources.get('at')}"]
    demand = sources.get("demand", {})
    if demand.get("source") == "forecast":
        lines.append(
            f"  demand: stored forecast ({demand.get('method')}, {demand.get('days')}),"
            f" {sources.get('demand_per_week')} requests a week"
        )
    else:
        lines.append(f"  demand: {demand.get('source')}, {sources.get('demand_per_week')} requests a week")
    current = sources.get("current", {})
    lines.append(
        f"  current template: {current.get('source')}, {current.get('slots_per_week')} slots a week"
        f" (window {sources.get('window', {}).get('from', '')[:10]} .. {sources.get('window', {}).get('to', '')[:10]})"
    )
    for name, visit in sources.get("visit_types", {}).items():
        lines.append(
            f"  {name}: {visit['mean_minutes']:.1f} +- {visit['std_minutes']:.1f} min"
            f" ({visit['duration_source']}; turnover {visit['turnover_minutes']:g} included),"
            f" no-show {100 * visit['no_show_rate']:.1f} % ({visit['no_show_source']})"
        )
    return "\n".join(lines)
