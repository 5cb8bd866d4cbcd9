"""The Kaandorp-Koole neighbourhood of a session schedule, searched exhaustively or by submodular minimisation.

Kaandorp & Koole move customers along the vectors u_1 = e_T - e_1 and u_t = e_{t-1} - e_t, and take as
neighbours x + sum_{t in V} u_t for every non-empty proper subset V of {1..T}. In cumulative
coordinates y_t = x_1 + ... + x_t (y_T = N fixed) these are exactly y + chi_S and y - chi_S for the
non-empty S within {1..T-1}: multimodularity of the objective in x is L-natural convexity in y, so a
schedule no neighbour improves is a global optimum. Both set functions S -> f(y +/- chi_S) - f(y) are
submodular, which lets large T be searched without listing the 2^T - 2 neighbours.

Some S would make an interval negative. The admissible S form a ring family (closed under union and
intersection), given by implications between consecutive elements. The submodular search works on all
subsets through the standard extension F(closure(S)) + K * |closure(S) - S|, which is submodular, equal
to F on admissible sets and minimised there when K bounds the objective (here f >= 0 and f <= K).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from slotoptim.ml.optimize.session_eval import SessionEvaluator, Trajectory
from slotoptim.ml.optimize.submodular import BoolArray, minimise_submodular

IntArray = NDArray[np.int64]

# Exhaustive listing costs 2 * (2^(T-1) - 1) evaluations; beyond this T the submodular search is cheaper.
EXHAUSTIVE_MAX_INTERVALS = 10


@dataclass(frozen=True)
class NeighbourhoodVerdict:
    improvement: tuple[int, ...] | None
    """A neighbour better than the schedule by more than the tolerance, if one was found."""
    lower_bound: float
    """No neighbour is better than the schedule by more than -lower_bound (0 when fully listed)."""
    method: str


def shifted(schedule: IntArray, members: BoolArray, sign: int) -> IntArray:
    """The schedule of y + sign * chi_S, with S given as a mask over cumulative indices 1..T-1."""
    rising = np.append(members, False).astype(np.int64)
    falling = np.insert(members, 0, False).astype(np.int64)
    result: IntArray = schedule + sign * (rising - falling)
    return result


def closure(schedule: IntArray, members: BoolArray, sign: int) -> BoolArray:
    """Smallest admissible superset: an emptied interval pulls its neighbour into S as well."""
    closed = members.copy()
    size = len(closed)
    if sign > 0:
        # Interval j (0-based) loses a customer when j-1 is in S and j is not.
        for j in range(1, size):
            if closed[j - 1] and schedule[j] == 0:
                closed[j] = True
    else:
        for j in range(size - 1, 0, -1):
            if closed[j] and schedule[j] == 0:
                closed[j - 1] = True
    return closed


def movable(schedule: IntArray, sign: int) -> BoolArray:
    """Elements whose closure stays admissible (a customer exists to be moved)."""
    intervals = len(schedule)
    occupied = schedule > 0
    if sign > 0:
        # y_t + 1 needs a customer at or after interval t+1 (1-based) to pull forward.
        later = np.logical_or.accumulate(occupied[::-1])[::-1]
        return np.asarray(later[1:intervals], dtype=bool)
    earlier = np.logical_or.accumulate(occupied)
    return np.asarray(earlier[: intervals - 1], dtype=bool)


def search_neighbourhood(
    evaluator: SessionEvaluator, base: Trajectory, *, tolerance: float, method: str = "auto"
) -> NeighbourhoodVerdict:
    intervals = len(base.schedule)
    if intervals < 2:
        return NeighbourhoodVerdict(None, 0.0, "exhaustive")
    if method == "auto":
        method = "exhaustive" if intervals <= EXHAUSTIVE_MAX_INTERVALS else "submodular"
    if method == "exhaustive":
        return _exhaustive(evaluator, base, tolerance)
    if method == "submodular":
        return _submodular(evaluator, base, tolerance)
    raise ValueError(f"unknown neighbourhood search {method!r}")


def _exhaustive(evaluator: SessionEvaluator, base: Trajectory, tolerance: float) -> NeighbourhoodVerdict:
    schedule = np.array(base.schedule, dtype=np.int64)
    size = len(schedule) - 1
    best: tuple[float, tuple[int, ...]] | None = None
    for code in range(1, 2**size):
        members = np.array([(code >> i) & 1 for i in range(size)], dtype=bool)
        first = int(np.argmax(members))
        for sign in (1, -1):
            neighbour = shifted(schedule, members, sign)
            if neighbour.min() < 0:
                continue
            candidate = tuple(int(v) for v in neighbour)
            value = evaluator.evaluate_from(candidate, base, first).objective
            if best is None or value < best[0]:
                best = (value, candidate)
    if best is not None and best[0] < base.cost.objective - tolerance:
        return NeighbourhoodVerdict(best[1], best[0] - base.cost.objective, "exhaustive")
    floor = 0.0 if best is None else min(0.0, best[0] - base.cost.objective)
    return NeighbourhoodVerdict(None, floor, "exhaustive")


def _submodular(evaluator: SessionEvaluator, base: Trajectory, tolerance: float) -> NeighbourhoodVerdict:
    schedule = np.array(base.schedule, dtype=np.int64)
    current = base.cost.objective
    problem = evaluator.problem
    weights = problem.weights
    # An upper bound on the objective of any schedule: each expectation is at most all the work
    # booked (waiting, lateness) or the whole session (idle). It is the penalty K of the extension.
    total_work = problem.patients * problem.service.mean_minutes
    penalty = (
        1.0 + weights.waiting * total_work + weights.idle * problem.session_minutes + weights.lateness * total_work
    )
    lowest = 0.0
    for sign in (1, -1):
        allowed = np.flatnonzero(movable(schedule, sign))
        if len(allowed) == 0:
            continue

        def gain(chosen: BoolArray, sign: int = sign, allowed: IntArray = allowed) -> float:
            members = np.zeros(len(schedule) - 1, dtype=bool)
            members[allowed[chosen]] = True
            closed = closure(schedule, members, sign)
            neighbour = tuple(int(v) for v in shifted(schedule, closed, sign))
            value = evaluator.evaluate_from(neighbour, base, int(np.argmax(closed))).objective - current
            return value + penalty * float(closed.sum() - members.sum())

        result = minimise_submodular(gain, len(allowed), stop_below=-tolerance, tolerance=tolerance)
        if result.best_value < -tolerance:
            members = np.zeros(len(schedule) - 1, dtype=bool)
            members[allowed[result.best_set]] = True
            improved = shifted(schedule, closure(schedule, members, sign), sign)
            return NeighbourhoodVerdict(tuple(int(v) for v in improved), result.best_value, "submodular")
        lowest = min(lowest, result.lower_bound)
    return NeighbourhoodVerdict(None, lowest, "submodular")
