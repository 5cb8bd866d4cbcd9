"""Weekly slot template by visit type: a mixed-integer programme solved with OR-Tools.

Decision: s[p, w, h, v], the number of slots of visit type v that provider p offers in hour h of
weekday w. Requests preferring (w, a) for type v are served in slots of hours h with |h - a| no more
than the allowed shift (flow f[w, a, h, v]) or left unmet (u[w, a, v]).

minimise   waiting_weight   * sum over provider-hours of the waiting curve (template_waiting)
         + no_show_weight   * sum s * mean_v * no-show rate        (provider minutes lost)
         + sum unmet_penalty_v * u                                 (requests not served)
         + shift_penalty    * sum |h - a| * f + sum hour_penalty * s (patient preferences)
subject to sum_h f + u = demand;  sum_a f <= sum_p s  (a request needs a slot);
           attended load <= max_utilisation * available minutes;
           booked minutes <= max_booking_ratio * available minutes;  s = 0 where not working or not offered.
A visit longer than its hour's working minutes (a 60-minute assessment, an hour starting at 08:30)
fills that hour and runs on into the next ones while the working time is continuous
(TemplateProblem.spread); at most one such visit starts in an hour. Its minutes count as booked in
every hour it covers; only its last part counts as attended load (waiting and the utilisation cap),
since no queue forms while one patient is with the provider.

Evaluating a given template (``evaluate_template``) fixes s, drops the capacity rows and solves the
same programme for the flows, so a current and an optimised template are scored by one yardstick.
Weekdays share no variable or constraint, so each is a programme of its own (solved once for days
that are identical).
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from slotoptim.ml.optimize.template_problem import ProviderHour, SlotKey, TemplateProblem
from slotoptim.ml.optimize.template_result import ObjectiveParts, Template
from slotoptim.ml.optimize.template_waiting import waiting_chords, waiting_minutes

# Stop when the proven bound is within this fraction of the best template: the waiting curve is an
# approximation (template_waiting), so closing the last hundredth of a percent buys nothing real.
DEFAULT_RELATIVE_GAP = 1e-4


class TemplateSolveError(RuntimeError):
    """The solver is missing or stopped without any feasible template."""


def solve_template(
    problem: TemplateProblem,
    *,
    solver: str = "SCIP",
    node_limit: int | None = None,
    time_limit_seconds: float | None = None,
    relative_gap: float = DEFAULT_RELATIVE_GAP,
) -> Template:
    """Optimal template, or the best found within the limits (status "feasible", see relative_gap).

    ``node_limit`` (SCIP branch-and-bound nodes) and ``time_limit_seconds`` apply to each weekday's
    programme; prefer the node limit, which is reproducible.

    Weekdays share nothing in the model (demand of a weekday is served that weekday), so each is
    solved on its own: the same optimum as one programme, found much faster.
    """
    solved: dict[tuple[object, ...], tuple[str, Template]] = {}
    days = []
    for day in _weekdays(problem):
        weekday = day.weekdays[0]
        signature = _day_signature(day)
        if signature in solved:
            # Days with identical hours, demand and penalties (common in templates) share one solve.
            twin, template = solved[signature]
            days.append(_renamed(template, twin, weekday))
            continue
        template = _solve(day, None, solver, node_limit, time_limit_seconds, relative_gap)
        solved[signature] = (weekday, template)
        days.append(template)
    return _merge(days)


def evaluate_template(problem: TemplateProblem, slots: Mapping[SlotKey, int], *, solver: str = "SCIP") -> Template:
    return _merge([_solve(day, slots, solver, None, None, DEFAULT_RELATIVE_GAP) for day in _weekdays(problem)])


def _weekdays(problem: TemplateProblem) -> list[TemplateProblem]:
    return [
        dataclasses.replace(
            problem,
            weekdays=(weekday,),
            available_minutes={k: m for k, m in problem.available_minutes.items() if k[1] == weekday},
            demand={k: r for k, r in problem.demand.items() if k[0] == weekday},
            hour_penalty={k: x for k, x in problem.hour_penalty.items() if k[0] == weekday},
            no_show_hour_factor={k: x for k, x in problem.no_show_hour_factor.items() if k[0] == weekday},
        )
        for weekday in problem.weekdays
    ]


def _day_signature(day: TemplateProblem) -> tuple[object, ...]:
    def strip(mapping: Mapping[Any, float], position: int) -> tuple[object, ...]:
        return tuple(sorted((key[:position] + key[position + 1 :], value) for key, value in mapping.items()))

    return (
        strip(day.available_minutes, 1),
        strip(day.demand, 0),
        strip(day.hour_penalty, 0),
        strip(day.no_show_hour_factor, 0),
    )


def _renamed(template: Template, old: str, new: str) -> Template:
    slots = {(p, new if w == old else w, h, v): n for (p, w, h, v), n in template.slots.items()}
    bookings = {(new if w == old else w, h, v): r for (w, h, v), r in template.bookings.items()}
    return dataclasses.replace(template, slots=slots, bookings=bookings)


def _merge(days: list[Template]) -> Template:
    statuses = {day.status for day in days}
    slots: dict[SlotKey, int] = {}
    served: dict[str, float] = defaultdict(float)
    unmet: dict[str, float] = defaultdict(float)
    bookings: dict[tuple[str, int, str], float] = {}
    for day in days:
        slots.update(day.slots)
        bookings.update(day.bookings)
        for name, value in day.served.items():
            served[name] += value
        for name, value in day.unmet.items():
            unmet[name] += value
    return Template(
        slots=slots,
        parts=ObjectiveParts(
            waiting=sum(d.parts.waiting for d in days),
            no_show=sum(d.parts.no_show for d in days),
            unmet=sum(d.parts.unmet for d in days),
            preference=sum(d.parts.preference for d in days),
        ),
        waiting_minutes=sum(d.waiting_minutes for d in days),
        served=dict(served),
        unmet=dict(unmet),
        bookings=bookings,
        status=statuses.pop() if len(statuses) == 1 else "feasible",
        lower_bound=sum(d.lower_bound for d in days),
    )


def _solve(
    problem: TemplateProblem,
    fixed: Mapping[SlotKey, int] | None,
    solver_name: str,
    node_limit: int | None,
    time_limit: float | None,
    relative_gap: float,
) -> Template:
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver(solver_name)
    if solver is None:
        raise TemplateSolveError(f"OR-Tools has no {solver_name} solver here; try SCIP or CBC")
    if time_limit is not None:
        solver.SetTimeLimit(int(time_limit * 1000))
    settings = problem.settings
    chords = waiting_chords(problem)
    infinity = solver.infinity()

    slots: dict[SlotKey, Any] = {}
    # Where each slot's minutes fall: its own hour, or (a visit longer than the hour's working
    # minutes) that hour and the ones it runs into.
    spreads: dict[SlotKey, list[tuple[int, float]]] = {}
    for p in problem.providers:
        for w in problem.weekdays:
            for h in problem.hours:
                available = problem.minutes(p, w, h)
                for v in problem.visit_types:
                    key = (p, w, h, v.name)
                    spread = problem.spread(p, w, h, v.mean_minutes)
                    if fixed is not None:
                        count = int(fixed.get(key, 0))
                        if count:
                            slots[key] = solver.IntVar(count, count, _name("s", key))
                            spreads[key] = spread or [(h, v.mean_minutes)]
                    elif available > 0 and problem.offers(p, v.name) and spread is not None:
                        most = math.floor(settings.max_booking_ratio * available / v.mean_minutes + 1e-9)
                        if len(spread) > 1:
                            # It fills the rest of its hour: one can start there.
                            most = 1
                        if most > 0:
                            slots[key] = solver.IntVar(0, most, _name("s", key))
                            spreads[key] = spread

    slots_by_cell: dict[tuple[str, int, str], list[Any]] = defaultdict(list)
    for (_, w, h, v_name), variable in slots.items():
        slots_by_cell[(w, h, v_name)].append(variable)

    flows: dict[tuple[str, int, int, str], Any] = {}
    unmet: dict[tuple[str, int, str], Any] = {}
    for (w, a, v_name), requests in problem.demand.items():
        if requests <= 0:
            continue
        unmet[(w, a, v_name)] = solver.NumVar(0, infinity, _name("u", (w, a, v_name)))
        for h in problem.hours:
            if abs(h - a) <= settings.max_shift_hours and slots_by_cell.get((w, h, v_name)):
                flows[(w, a, h, v_name)] = solver.NumVar(0, infinity, _name("f", (w, a, h, v_name)))
        served = [f for (fw, fa, _, fv), f in flows.items() if (fw, fa, fv) == (w, a, v_name)]
        solver.Add(solver.Sum(served) + unmet[(w, a, v_name)] == requests)
    for (w, h, v_name), cell_slots in slots_by_cell.items():
        incoming = [f for (fw, _, fh, fv), f in flows.items() if (fw, fh, fv) == (w, h, v_name)]
        if incoming:
            solver.Add(solver.Sum(incoming) <= solver.Sum(cell_slots))
        # Implied for integer slots but not for the LP relaxation (as in facility location): a
        # request stream of less than one a week cannot use a fraction of a slot. Tightens the bound.
        for (fw, fa, fh, fv), f in flows.items():
            if (fw, fh, fv) == (w, h, v_name) and problem.demand[(w, fa, v_name)] < 1:
                solver.Add(f <= problem.demand[(w, fa, v_name)] * solver.Sum(cell_slots))

    attended_terms: dict[ProviderHour, list[Any]] = defaultdict(list)
    booked_terms: dict[ProviderHour, list[Any]] = defaultdict(list)
    for key, var in slots.items():
        p, w, h, v_name = key
        visit = problem.visit(v_name)
        show = 1 - problem.no_show_rate(visit, w, h)
        for hour, minutes in spreads[key]:
            booked_terms[(p, w, hour)].append(var * minutes)
        # A visit running through whole hours is one patient with the provider: no queue forms there.
        # Its last part is what the patients after it may wait for, so only that part counts towards
        # the hour's attended load (waiting and the utilisation cap).
        last_hour, last_minutes = spreads[key][-1]
        attended_terms[(p, w, last_hour)].append(var * (last_minutes * show))
    waiting: dict[ProviderHour, Any] = {}
    loads: dict[ProviderHour, Any] = {}
    for cell in sorted(set(attended_terms) | set(booked_terms)):
        available = problem.minutes(*cell)
        if available <= 0:
            continue
        attended = solver.Sum(attended_terms.get(cell, []))
        loads[cell] = attended
        waiting[cell] = solver.NumVar(0, infinity, _name("wait", cell))
        for chord in chords:
            solver.Add(waiting[cell] >= chord.intercept * available + chord.slope * attended)
        if fixed is None:
            solver.Add(attended <= settings.max_utilisation * available)
            solver.Add(solver.Sum(booked_terms[cell]) <= settings.max_booking_ratio * available)

    no_show_terms = [
        var * (problem.visit(v_name).mean_minutes * problem.no_show_rate(problem.visit(v_name), w, h))
        for (_, w, h, v_name), var in slots.items()
    ]
    unmet_terms = [var * problem.visit(v_name).unmet_penalty for (_, _, v_name), var in unmet.items()]
    shift_terms = [var * abs(h - a) for (_, a, h, _), var in flows.items()]
    hour_terms = [var * problem.hour_penalty.get((w, h), 0.0) for (_, w, h, _), var in slots.items()]
    solver.Minimize(
        settings.waiting_weight * solver.Sum(list(waiting.values()))
        + settings.no_show_weight * solver.Sum(no_show_terms)
        + solver.Sum(unmet_terms)
        + settings.shift_penalty_per_hour * solver.Sum(shift_terms)
        + solver.Sum(hour_terms)
    )

    # A node limit, unlike a time limit, gives the same template on every machine and run.
    if node_limit is not None and (
        solver_name.upper() != "SCIP" or not solver.SetSolverSpecificParametersAsString(f"limits/nodes = {node_limit}")
    ):
        raise TemplateSolveError(f"a node limit needs the SCIP solver, not {solver_name}")
    parameters = pywraplp.MPSolverParameters()
    parameters.SetDoubleParam(parameters.RELATIVE_MIP_GAP, relative_gap)
    status = solver.Solve(parameters)
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        raise TemplateSolveError(f"{solver_name} found no template (status {status})")

    chosen = {key: round(var.solution_value()) for key, var in slots.items() if round(var.solution_value()) > 0}
    attended_minutes = {cell: load.solution_value() for cell, load in loads.items()}
    waited = sum(waiting_minutes(chords, problem.minutes(*cell), load) for cell, load in attended_minutes.items())
    unmet_by_type: dict[str, float] = defaultdict(float)
    for (_, _, v_name), var in unmet.items():
        unmet_by_type[v_name] += max(0.0, var.solution_value())
    served_by_type: dict[str, float] = defaultdict(float)
    bookings: dict[tuple[str, int, str], float] = defaultdict(float)
    for (w, _, h, v_name), var in flows.items():
        served_by_type[v_name] += var.solution_value()
        if var.solution_value() > 0:
            bookings[(w, h, v_name)] += var.solution_value()
    parts = ObjectiveParts(
        waiting=settings.waiting_weight * waited,
        no_show=settings.no_show_weight * sum(_solution(term) for term in no_show_terms),
        unmet=sum(_solution(term) for term in unmet_terms),
        preference=settings.shift_penalty_per_hour * sum(_solution(term) for term in shift_terms)
        + sum(_solution(term) for term in hour_terms),
    )
    optimal = status == pywraplp.Solver.OPTIMAL
    label = "evaluated" if fixed is not None else "optimal" if optimal else "feasible"
    return Template(
        slots=chosen,
        parts=parts,
        waiting_minutes=waited,
        served={v.name: served_by_type.get(v.name, 0.0) for v in problem.visit_types},
        unmet={v.name: unmet_by_type.get(v.name, 0.0) for v in problem.visit_types},
        bookings=dict(bookings),
        status=label,
        lower_bound=min(parts.total, solver.Objective().BestBound()) if fixed is None else parts.total,
    )


def _solution(term: Any) -> float:
    return float(term.solution_value())


def _name(prefix: str, key: tuple[object, ...]) -> str:
    return prefix + "[" + ",".join(str(k) for k in key) + "]"
