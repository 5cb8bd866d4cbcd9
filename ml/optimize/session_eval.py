"""Exact expected waiting, idle time and lateness of one session schedule.

Waiting needs only the mean backlog at each interval start: the k-th customer (0-based) of a batch
of x waits for the backlog V plus the k customers before it, so the batch waits
x * E[V] + x(x-1)/2 * E[S'] in total, where S' is the service time or 0 for a no-show. That is the
published variant ("a no-show waits as if present"). Whether a customer shows is independent of the
work ahead of it, so the waiting of those who show is exactly (1 - q) times that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from slotoptim.ml.optimize.session_chains import FloatArray, make_chain
from slotoptim.ml.optimize.session_problem import SessionProblem


class SessionCost(NamedTuple):
    objective: float
    wait_per_patient: float
    """E[total waiting] / N, minutes (of those who show, or of all N in the published variant)."""
    idle: float
    """E[server idle minutes within the session's T*d minutes]."""
    lateness: float
    """E[work left after T*d], minutes of overtime."""


@dataclass(frozen=True)
class Trajectory:
    """Chain states and running totals at every interval start of one schedule, for prefix reuse."""

    schedule: tuple[int, ...]
    states: tuple[FloatArray, ...]
    waiting_before: tuple[float, ...]
    idle_before: tuple[float, ...]
    cost: SessionCost


class SessionEvaluator:
    """Evaluates many schedules of one problem, sharing the precomputed batch distributions."""

    def __init__(self, problem: SessionProblem) -> None:
        self.problem = problem
        self._chain = make_chain(problem)
        self.evaluations = 0
        self._waiting_share = 1.0 if problem.count_no_show_waiting else 1.0 - problem.no_show

    def evaluate(self, schedule: Sequence[int]) -> SessionCost:
        return self._run(tuple(schedule), None, 0, keep=False).cost

    def trajectory(self, schedule: Sequence[int]) -> Trajectory:
        return self._run(tuple(schedule), None, 0, keep=True)

    def evaluate_from(self, schedule: Sequence[int], base: Trajectory, first_change: int) -> SessionCost:
        """Cost of ``schedule``, which equals ``base.schedule`` before interval ``first_change``."""
        return self._run(tuple(schedule), base, first_change, keep=False).cost

    def _run(self, schedule: tuple[int, ...], base: Trajectory | None, first: int, *, keep: bool) -> Trajectory:
        self.problem.check_schedule(schedule)
        self.evaluations += 1
        chain = self._chain
        if base is None or not base.states:
            first = 0
            states, waits, idles = [chain.start()], [0.0], [0.0]
        else:
            states = list(base.states[: first + 1])
            waits = list(base.waiting_before[: first + 1])
            idles = list(base.idle_before[: first + 1])
        state, waiting, idle = states[-1], waits[-1], idles[-1]
        for customers in schedule[first:]:
            if customers:
                waiting += customers * chain.mean_work(state)
                waiting += customers * (customers - 1) / 2 * chain.mean_effective_service
            state, interval_idle = chain.serve_interval(chain.arrive(state, customers))
            idle += interval_idle
            if keep:
                states.append(state)
                waits.append(waiting)
                idles.append(idle)
        cost = self._cost(waiting, idle, chain.mean_work(state))
        if not keep:
            return Trajectory(schedule, (), (), (), cost)
        return Trajectory(schedule, tuple(states), tuple(waits), tuple(idles), cost)

    def _cost(self, waiting_all: float, idle: float, lateness: float) -> SessionCost:
        weights = self.problem.weights
        wait_per_patient = self._waiting_share * waiting_all / self.problem.patients
        objective = weights.waiting * wait_per_patient + weights.idle * idle + weights.lateness * lateness
        return SessionCost(objective, wait_per_patient, idle, lateness)


def evaluate(schedule: Sequence[int], problem: SessionProblem) -> SessionCost:
    """(objective, E[waiting]/N, E[idle], E[lateness]) of ``schedule`` under ``problem``."""
    return SessionEvaluator(problem).evaluate(schedule)
