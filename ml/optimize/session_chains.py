"""Markov chains that carry the session's backlog from one interval boundary to the next.

Both chains expose the same four operations; the evaluator (session_eval) only adds up their
expectations, so exactness rests here:

* ``WorkChain`` (discrete service times): the state is the distribution of remaining work, in lattice
  units, at an interval start (Kaandorp & Koole 2007). Arrivals convolve it with the work of the
  batch; each customer brings a service draw or, with probability q, nothing. The interval then
  removes d minutes of work and the shortfall is idle time. No truncation, no rounding: the only
  error is floating point.
* ``CountChain`` (exponential service): the state is the distribution of the number of customers
  present. Memorylessness makes remaining work equal to that many fresh exponentials, so departures
  during an interval are Poisson(d/m) capped at the number present, the idle time has a closed form,
  and no time grid is needed: exact in continuous time.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from slotoptim.ml.optimize.service import DiscreteService, ExponentialService, ServiceSpecError, lattice_unit
from slotoptim.ml.optimize.session_problem import SessionProblem

FloatArray = NDArray[np.float64]

# A grid finer than this per interval would make each convolution slow; such inputs should be rounded.
MAX_UNITS_PER_INTERVAL = 2000


class BacklogChain(Protocol):
    mean_effective_service: float
    """E[service time or 0 for a no-show], minutes."""

    def start(self) -> FloatArray: ...

    def mean_work(self, state: FloatArray) -> float: ...

    def arrive(self, state: FloatArray, customers: int) -> FloatArray: ...

    def serve_interval(self, state: FloatArray) -> tuple[FloatArray, float]:
        """State at the next boundary and the expected idle minutes within this interval."""
        ...


class WorkChain:
    def __init__(self, problem: SessionProblem, service: DiscreteService) -> None:
        unit = lattice_unit((*service.minutes, problem.interval_minutes))
        self.unit_minutes = unit
        self.units_per_interval = round(problem.interval_minutes / unit)
        if self.units_per_interval > MAX_UNITS_PER_INTERVAL:
            raise ServiceSpecError(
                f"service times and interval length share only a {unit:g}-minute grid "
                f"({self.units_per_interval} steps per interval); round them to coarser minutes"
            )
        longest = max(round(m / unit) for m in service.minutes)
        one_customer = np.zeros(longest + 1)
        for minutes, probability in zip(service.minutes, service.probabilities, strict=True):
            one_customer[round(minutes / unit)] += (1.0 - problem.no_show) * probability
        one_customer[0] += problem.no_show
        self.mean_effective_service = (1.0 - problem.no_show) * service.mean_minutes
        # batch_work[k] is the work brought by k customers; filled on demand, shared by all schedules.
        self._batch_work: list[FloatArray] = [np.ones(1), one_customer]
        self._unit_indices = np.arange(0, dtype=np.float64)

    def start(self) -> FloatArray:
        return np.ones(1)

    def mean_work(self, state: FloatArray) -> float:
        return float(self._indices(len(state)) @ state) * self.unit_minutes

    def arrive(self, state: FloatArray, customers: int) -> FloatArray:
        if customers == 0:
            return state
        return np.convolve(state, self._batch(customers))

    def serve_interval(self, state: FloatArray) -> tuple[FloatArray, float]:
        d = self.units_per_interval
        head = state[:d]
        idle_units = float((d - self._indices(len(head))) @ head)
        if len(state) <= d:
            return np.ones(1), idle_units * self.unit_minutes
        carried = state[d:].copy()
        carried[0] = state[: d + 1].sum()
        return carried, idle_units * self.unit_minutes

    def _batch(self, customers: int) -> FloatArray:
        while len(self._batch_work) <= customers:
            self._batch_work.append(np.convolve(self._batch_work[-1], self._batch_work[1]))
        return self._batch_work[customers]

    def _indices(self, length: int) -> FloatArray:
        if len(self._unit_indices) < length:
            self._unit_indices = np.arange(max(length, 2 * len(self._unit_indices)), dtype=np.float64)
        return self._unit_indices[:length]


class CountChain:
    def __init__(self, problem: SessionProblem, service: ExponentialService) -> None:
        n_max = problem.patients
        mean = service.mean_minutes
        self._mean_service = mean
        self.mean_effective_service = (1.0 - problem.no_show) * mean
        self._show = 1.0 - problem.no_show
        self._n_max = n_max
        departures_mean = problem.interval_minutes / mean
        poisson = np.array(
            [math.exp(-departures_mean + j * math.log(departures_mean) - math.lgamma(j + 1)) for j in range(n_max + 1)]
        )
        # at_least[k] = P(Poisson >= k); summed from the top so small tails keep their precision.
        at_least = np.concatenate([np.cumsum(poisson[::-1])[::-1], [0.0]])
        at_least = np.minimum(at_least + (1.0 - at_least[0]), 1.0)
        transition = np.zeros((n_max + 1, n_max + 1))
        transition[0, 0] = 1.0
        for present in range(1, n_max + 1):
            transition[present, present:0:-1] = poisson[:present]
            transition[present, 0] = at_least[present]
        self._transition = transition
        # E[max(d - Erlang(n, 1/m), 0)] = d - m * sum_{k=1..n} P(Poisson(d/m) >= k)
        self._idle = problem.interval_minutes - mean * np.concatenate([[0.0], np.cumsum(at_least[1 : n_max + 1])])
        self._counts = np.arange(n_max + 1, dtype=np.float64)

    def start(self) -> FloatArray:
        state = np.zeros(self._n_max + 1)
        state[0] = 1.0
        return state

    def mean_work(self, state: FloatArray) -> float:
        return float(self._counts @ state) * self._mean_service

    def arrive(self, state: FloatArray, customers: int) -> FloatArray:
        if customers == 0:
            return state
        shows = np.array(
            [
                math.comb(customers, k) * self._show**k * (1.0 - self._show) ** (customers - k)
                for k in range(customers + 1)
            ]
        )
        # The schedule books at most N customers, so the count never exceeds N and the tail is empty.
        return np.convolve(state, shows)[: self._n_max + 1]

    def serve_interval(self, state: FloatArray) -> tuple[FloatArray, float]:
        return state @ self._transition, float(state @ self._idle)


def make_chain(problem: SessionProblem) -> BacklogChain:
    service = problem.service
    if isinstance(service, ExponentialService):
        return CountChain(problem, service)
    return WorkChain(problem, service)
