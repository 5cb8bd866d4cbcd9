"""`slotoptim simulate ...`: discrete-event simulation of templates.

`template` simulates the practice in the database (--org KEY, or its only organisation) unless
--input gives a problem file (the JSON of `slotoptim optimize template --input`) or --example asks
for the built-in example clinic. `fill` (waitlist backfilling on the real engine) is registered by
slotoptim.ml.simulate.fill_cli.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from slotoptim.ml.optimize.cli_support import OptionError, parse_floats, report_error

DEFAULT_NODE_LIMIT = 500


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from slotoptim.ml.optimize.template_source import add_source_options
    from slotoptim.ml.simulate.fill_cli import register_fill

    simulate = subparsers.add_parser("simulate", help="simulate clinic days (SimPy) and waitlist backfilling")
    commands = simulate.add_subparsers(dest="simulate_command", metavar="COMMAND", required=True)
    template = commands.add_parser(
        "template",
        help="current vs optimised template over replicated weeks, with 95%% CIs",
        description="Optimises the template, then simulates it and the current one on common random "
        "numbers with durations drawn from the hangu consultation times. Plans the practice in the database"
        " (--org KEY, or its only organisation; the current template is its booked appointments) unless"
        " --input or --example is given.",
    )
    add_source_options(template)
    template.add_argument("--replications", type=int, default=30, metavar="R", help="simulated weeks (default 30)")
    template.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    template.add_argument("--out", type=Path, metavar="DIR", help="write figures (PNG, SVG) and result.json here")
    template.add_argument("--format", choices=("table", "json"), default="table")
    template.add_argument(
        "--no-show", type=float, metavar="RATE", help="one no-show rate for every visit type (default: each type's own)"
    )
    template.add_argument(
        "--punctuality",
        default="normal:-5,8,-30,30",
        metavar="normal:MEAN,SD[,EARLY,LATE]",
        help="arrival minus appointment time, minutes, truncated (default normal:-5,8,-30,30)",
    )
    template.add_argument("--cancellation-rate", type=float, default=0.0, metavar="RATE")
    template.add_argument("--walk-ins-per-hour", type=float, default=0.0, metavar="RATE")
    template.add_argument(
        "--cv-multiplier",
        type=float,
        default=1.0,
        metavar="K",
        help="multiply every visit type's duration spread (default 1)",
    )
    template.add_argument("--see-early", action="store_true", help="early patients may be seen before their time")
    template.add_argument(
        "--data",
        type=Path,
        metavar="CSV",
        help="consultation times (ServTime, seconds); default $SLOTOPTIM_SHARED_DATA/hangu/Data.csv",
    )
    template.add_argument(
        "--node-limit",
        type=int,
        default=DEFAULT_NODE_LIMIT,
        metavar="N",
        help=f"SCIP nodes per weekday for each template solve (default {DEFAULT_NODE_LIMIT})",
    )
    template.add_argument(
        "--sensitivity", action="store_true", help="also re-optimise and simulate over the no-show and spread grids"
    )
    template.add_argument("--sensitivity-no-show", default="0.05,0.15,0.25", metavar="RATES")
    template.add_argument("--sensitivity-cv", default="0.5,1,1.5", metavar="MULTIPLIERS")
    template.set_defaults(func=run_template)
    register_fill(commands)


def run_template(args: argparse.Namespace) -> int:
    from slotoptim.ml.optimize.template import TemplateSolveError
    from slotoptim.ml.simulate.clinic_model import SimulationInputError
    from slotoptim.ml.simulate.durations import DurationDataError

    try:
        result = _run(args)
    except OptionError as error:
        return report_error(error.option, error.message)
    except SimulationInputError as error:
        return report_error(error.option, error.message)
    except DurationDataError as error:
        return report_error("--data", str(error))
    except TemplateSolveError as error:
        return report_error("--node-limit", str(error))
    if args.format == "json":
        json.dump(result.plain, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(result.table)
    return 0


class _Result:
    def __init__(self, plain: dict[str, Any], table: str) -> None:
        self.plain = plain
        self.table = table


def _run(args: argparse.Namespace) -> _Result:
    from slotoptim.ml.optimize.template_plan import plan_templates
    from slotoptim.ml.simulate.clinic_model import SimulationSettings
    from slotoptim.ml.simulate.durations import DurationShape, default_duration_file, load_service_minutes
    from slotoptim.ml.simulate.replicate import compare
    from slotoptim.ml.simulate.scenario import adjusted_problem, sampler_for
    from slotoptim.ml.simulate.template_days import template_days

    if args.replications < 2:
        raise OptionError("--replications", f"need at least 2 for a confidence interval, got {args.replications}")
    if args.node_limit < 0:
        raise OptionError("--node-limit", f"must be >= 0, got {args.node_limit}")
    from slotoptim.ml.optimize.template_source import describe_sources, load_source

    source = load_source(args)
    problem, current_slots = source.problem, source.current_slots
    settings = SimulationSettings(
        punctuality=_parse_punctuality(args.punctuality),
        no_show_rate=args.no_show,
        cancellation_rate=args.cancellation_rate,
        walk_ins_per_hour=args.walk_ins_per_hour,
        cv_multiplier=args.cv_multiplier,
        see_early=args.see_early,
    )
    data_file = args.data or default_duration_file()
    shape = DurationShape.from_minutes(load_service_minutes(data_file))
    scenario = adjusted_problem(problem, no_show_rate=args.no_show, cv_multiplier=args.cv_multiplier)
    node_limit = args.node_limit or None
    plan = plan_templates(scenario, current_slots=current_slots, node_limit=node_limit)
    comparison = compare(
        [
            ("current", template_days(scenario, plan.current.slots, plan.current.fill_rate)),
            ("optimised", template_days(scenario, plan.optimised.slots, plan.optimised.fill_rate)),
        ],
        sampler_for(problem, shape, settings),
        settings,
        replications=args.replications,
        seed=args.seed,
    )
    plain: dict[str, Any] = {
        "source": source.label,
        "scenario": {
            "data_file": str(data_file),
            "replications": args.replications,
            "seed": args.seed,
            "no_show_rate": args.no_show,
            "punctuality": settings.punctuality.describe(),
            "cancellation_rate": settings.cancellation_rate,
            "walk_ins_per_hour": settings.walk_ins_per_hour,
            "cv_multiplier": settings.cv_multiplier,
            "see_early": settings.see_early,
            "node_limit": node_limit,
        },
        "templates": plan.to_plain(),
        "simulation": comparison.to_plain(),
    }
    if source.practice is not None:
        plain["sources"] = dict(source.practice.sources)
    current_name = "booked" if source.practice is not None and not args.current else plan.current_source
    lines = [
        *([describe_sources(source.practice), ""] if source.practice is not None else []),
        f"Templates (model objective per week): optimised {plan.optimised.parts.total:.1f} "
        f"({plan.optimised.status}, gap {100 * plan.optimised.relative_gap:.1f} %), "
        f"current ({current_name}) {plan.current.parts.total:.1f}",
        f"Simulated {args.replications} weeks, seed {args.seed}, durations from {data_file}",
        "",
        comparison.to_table(),
    ]
    sensitivity = None
    if args.sensitivity:
        from slotoptim.ml.simulate.sensitivity import run_sensitivity

        sensitivity = run_sensitivity(
            problem,
            plan.current.slots,
            plan.optimised,
            shape,
            settings,
            no_show_rates=parse_floats("--sensitivity-no-show", args.sensitivity_no_show),
            cv_multipliers=parse_floats("--sensitivity-cv", args.sensitivity_cv),
            replications=args.replications,
            seed=args.seed,
            node_limit=node_limit,
        )
        plain["sensitivity"] = sensitivity.to_plain()
        lines += ["", sensitivity.to_table()]
    if args.out:
        from slotoptim.ml.simulate.plots import (
            plot_comparison,
            plot_sensitivity,
            plot_template_load,
            plot_waiting_distribution,
        )

        files = plot_comparison(comparison, args.out) + plot_waiting_distribution(comparison, args.out)
        files += plot_template_load(scenario, [("current", plan.current), ("optimised", plan.optimised)], args.out)
        if sensitivity is not None:
            files += plot_sensitivity(sensitivity, args.out)
        result_file = args.out / "result.json"
        plain["files"] = [str(f) for f in [*files, result_file]]
        result_file.write_text(json.dumps(plain, indent=2) + "\n", encoding="utf-8")
        lines += ["", "wrote " + ", ".join(f.name for f in [*files, result_file]) + f" to {args.out}"]
    return _Result(plain, "\n".join(lines))


def _parse_punctuality(text: str) -> Any:
    from slotoptim.ml.simulate.clinic_model import Punctuality

    kind, separator, body = text.partition(":")
    if kind.strip().lower() != "normal" or not separator:
        raise OptionError("--punctuality", f"expected normal:MEAN,SD[,EARLIEST,LATEST], got {text!r}")
    values = parse_floats("--punctuality", body)
    if len(values) == 2:
        return Punctuality(values[0], values[1])
    if len(values) == 4:
        return Punctuality(*values)
    raise OptionError("--punctuality", f"expected 2 or 4 numbers after normal:, got {len(values)}")


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry until the top-level CLI registers this module: python -m slotoptim.ml.simulate.cli."""
    parser = argparse.ArgumentParser(prog="slotoptim")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
