"""The waiting-time model of the template MIP: a convex piecewise-linear curve in utilisation.

Within one provider-hour with A available minutes and expected attended load L (minutes), the
patient-minutes of waiting are approximated by A * Lq(rho), rho = L / A, with Kingman's G/G/1 queue
length Lq(rho) = rho^2 / (1 - rho) * (ca^2 + cs^2) / 2 (Little's law turns the time-average queue
length into waiting minutes). cs^2 is the squared coefficient of variation of service times of the
visit-type mix, so variability per visit type enters here; ca^2 describes how irregular scheduled
arrivals are once punctuality and no-shows act on them (small, since arrivals are booked).

This is a planning heuristic: apart from visits longer than their hour (whose minutes the MIP counts
in the hours they run into), it ignores work spilling from one hour into the next. The SimPy model
(slotoptim.ml.simulate) measures the real effect of a template; the guide says how to read both.

Chords between breakpoints, extended to lines, lie below a convex curve outside their segment, so
``waiting >= intercept * A + slope * L`` for every chord is exactly the piecewise-linear interpolant.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from slotoptim.ml.optimize.template_problem import TemplateProblem

_BREAKPOINTS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97)


@dataclass(frozen=True)
class WaitingChord:
    intercept: float
    """Waiting minutes per available minute at rho = 0 along this chord."""
    slope: float
    """Extra waiting minutes per attended minute of load."""


def queue_length(utilisation: float, arrival_scv: float, service_scv: float) -> float:
    return utilisation**2 / (1.0 - utilisation) * (arrival_scv + service_scv) / 2.0


def service_scv(problem: TemplateProblem) -> float:
    """Squared coefficient of variation of the demand-weighted mix of visit durations."""
    counts = {v.name: 0.0 for v in problem.visit_types}
    for (_, _, visit), requests in problem.demand.items():
        counts[visit] += requests
    total = sum(counts.values())
    if total == 0:
        counts = {name: 1.0 for name in counts}
        total = float(len(counts))
    first = sum(counts[v.name] / total * v.mean_minutes for v in problem.visit_types)
    second = sum(counts[v.name] / total * (v.std_minutes**2 + v.mean_minutes**2) for v in problem.visit_types)
    return second / first**2 - 1.0


def waiting_chords(problem: TemplateProblem) -> list[WaitingChord]:
    settings = problem.settings
    cap = settings.max_utilisation
    points = [rho for rho in _BREAKPOINTS if rho < cap] + [cap]
    scv = service_scv(problem)
    values = [queue_length(rho, settings.arrival_scv, scv) for rho in points]
    chords = []
    for (left, low), (right, high) in itertools.pairwise(zip(points, values, strict=True)):
        slope = (high - low) / (right - left)
        chords.append(WaitingChord(low - slope * left, slope))
    return chords


def waiting_minutes(chords: list[WaitingChord], available: float, load: float) -> float:
    """The curve the MIP optimises, for reporting a fixed template the same way."""
    if available <= 0:
        return 0.0
    return max(0.0, *(c.intercept * available + c.slope * load for c in chords))
