"""Optimal session schedule: Kaandorp-Koole local search with a cheap first phase.

Phase 1 moves one customer to an adjacent interval (or between the first and last, the cyclic move),
taking the best such move while one improves: these are the single vectors u_t of the neighbourhood
and cost T evaluations, each reusing the chain states before the first changed interval.
Phase 2 searches the whole neighbourhood (session_neighbourhood); if it finds an improvement the
search goes back to phase 1, otherwise the schedule is a global optimum by multimodularity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slotoptim.ml.optimize.session_eval import SessionCost, SessionEvaluator, Trajectory
from slotoptim.ml.optimize.session_neighbourhood import search_neighbourhood
from slotoptim.ml.optimize.session_problem import SessionProblem
from slotoptim.ml.optimize.session_rules import bailey_welch, even_spread

# Improvements smaller than this (relative to the objective) are floating-point noise, not progress.
RELATIVE_TOLERANCE = 1e-10


@dataclass(frozen=True)
class OptimisedSession:
    schedule: tuple[int, ...]
    cost: SessionCost
    start: tuple[int, ...]
    evaluations: int
    moves: int
    neighbourhood: str
    """How the final neighbourhood was searched: "exhaustive" or "submodular"."""
    certified_gap: float
    """Lower bound on (best neighbour - optimum found); 0 up to rounding means proved optimal."""


def optimise(
    problem: SessionProblem, *, start: Sequence[int] | str = "bailey-welch", neighbourhood: str = "auto"
) -> OptimisedSession:
    evaluator = SessionEvaluator(problem)
    initial = _starting_schedule(problem, start)
    current = evaluator.trajectory(initial)
    moves = 0
    while True:
        tolerance = RELATIVE_TOLERANCE * max(1.0, abs(current.cost.objective))
        better = _best_single_move(evaluator, current, tolerance)
        if better is None:
            verdict = search_neighbourhood(evaluator, current, tolerance=tolerance, method=neighbourhood)
            if verdict.improvement is None:
                return OptimisedSession(
                    schedule=current.schedule,
                    cost=current.cost,
                    start=initial,
                    evaluations=evaluator.evaluations,
                    moves=moves,
                    neighbourhood=verdict.method,
                    certified_gap=verdict.lower_bound,
                )
            better = verdict.improvement
        current = evaluator.trajectory(better)
        moves += 1


def _starting_schedule(problem: SessionProblem, start: Sequence[int] | str) -> tuple[int, ...]:
    if start == "bailey-welch":
        return bailey_welch(problem.patients, problem.intervals)
    if start == "even":
        return even_spread(problem.patients, problem.intervals)
    if isinstance(start, str):
        raise ValueError(f"unknown start {start!r}; use bailey-welch, even or a schedule")
    schedule = tuple(int(v) for v in start)
    problem.check_schedule(schedule)
    return schedule


def _best_single_move(evaluator: SessionEvaluator, base: Trajectory, tolerance: float) -> tuple[int, ...] | None:
    schedule = base.schedule
    last = len(schedule) - 1
    pairs = [(t, t + 1) for t in range(last)] + [(t + 1, t) for t in range(last)]
    if last >= 2:
        pairs += [(0, last), (last, 0)]
    best_value = base.cost.objective - tolerance
    best: tuple[int, ...] | None = None
    for source, target in pairs:
        if schedule[source] == 0:
            continue
        moved = list(schedule)
        moved[source] -= 1
        moved[target] += 1
        value = evaluator.evaluate_from(moved, base, min(source, target)).objective
        if value < best_value:
            best_value, best = value, tuple(moved)
    return best
