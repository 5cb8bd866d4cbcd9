"""Submodular minimisation by the Fujishige-Wolfe minimum-norm-point algorithm.

Used to search the Kaandorp-Koole neighbourhood, which has 2^T - 2 members, without enumerating it:
that neighbourhood is {y + chi_S} and {y - chi_S} in cumulative coordinates, and for an L-natural
convex function (a multimodular one, transformed) both set functions are submodular.

Every point ``x`` the algorithm holds lies in the base polytope, so ``sum(min(x_i, 0))`` is a lower
bound on min F, and every greedy pass evaluates a chain of sets whose best value is an upper bound.
The search stops as soon as the caller's question is answered: a set below ``stop_below`` exists,
or the lower bound shows none does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
SetFunction = Callable[[BoolArray], float]

# Convex weights below this are dropped from the active set (they are rounding noise).
_WEIGHT_FLOOR = 1e-12


@dataclass(frozen=True)
class SubmodularResult:
    best_set: BoolArray
    best_value: float
    lower_bound: float
    greedy_passes: int

    @property
    def gap(self) -> float:
        return self.best_value - self.lower_bound


def minimise_submodular(
    function: SetFunction,
    size: int,
    *,
    stop_below: float = -np.inf,
    tolerance: float = 1e-12,
    max_passes: int = 10_000,
) -> SubmodularResult:
    """Minimise a submodular ``function`` with ``function(empty) == 0`` over subsets of range(size).

    Stops as soon as a set with value < ``stop_below`` is seen, when the best set found is within
    ``tolerance`` of the lower bound (proved optimal), or at Wolfe's optimality condition; the result
    carries both bounds, so the caller can see how tight the answer is.
    """
    if size == 0:
        return SubmodularResult(np.zeros(0, dtype=bool), 0.0, 0.0, 0)
    search = _GreedyOracle(function, size)
    point = search.vertex(np.zeros(size))
    vertices = [point]
    weights = np.ones(1)
    for _ in range(max_passes):
        lower = float(np.minimum(point, 0.0).sum())
        if search.best_value < stop_below or search.best_value - lower <= tolerance:
            break
        vertex = search.vertex(point)
        if search.best_value < stop_below:
            break
        # Wolfe's condition: no vertex lies beyond the hyperplane through ``point`` normal to it.
        if point @ point - point @ vertex <= tolerance * max(1.0, float(point @ point)):
            break
        vertices.append(vertex)
        weights = np.append(weights, 0.0)
        vertices, weights = _minor_cycles(vertices, weights)
        point = weights @ np.array(vertices)
    lower = float(np.minimum(point, 0.0).sum())
    return SubmodularResult(search.best_set, search.best_value, min(lower, search.best_value), search.passes)


class _GreedyOracle:
    """Edmonds' greedy vertex of the base polytope, remembering the best set of every chain it walks."""

    def __init__(self, function: SetFunction, size: int) -> None:
        self._function = function
        self._size = size
        self.best_set = np.zeros(size, dtype=bool)
        self.best_value = 0.0
        self.passes = 0

    def vertex(self, direction: FloatArray) -> FloatArray:
        self.passes += 1
        chosen = np.zeros(self._size, dtype=bool)
        vertex = np.zeros(self._size)
        previous = 0.0
        for element in np.argsort(direction, kind="stable"):
            chosen[element] = True
            value = self._function(chosen)
            vertex[element] = value - previous
            previous = value
            if value < self.best_value:
                self.best_value = value
                self.best_set = chosen.copy()
        return vertex


def _minor_cycles(vertices: list[FloatArray], weights: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Move to the affine minimiser of the active vertices, dropping vertices until it is convex."""
    while True:
        affine = _affine_minimiser(np.array(vertices))
        if np.all(affine > _WEIGHT_FLOOR):
            return vertices, affine
        # Step from the current convex weights towards the affine ones until one weight hits zero.
        falling = affine < weights
        ratios = np.where(falling, weights / np.where(falling, weights - affine, 1.0), np.inf)
        step = float(min(1.0, ratios[affine <= _WEIGHT_FLOOR].min()))
        weights = (1.0 - step) * weights + step * affine
        keep = weights > _WEIGHT_FLOOR
        if keep.all():
            keep[int(np.argmin(weights))] = False
        vertices = [v for v, k in zip(vertices, keep, strict=True) if k]
        weights = weights[keep] / weights[keep].sum()


def _affine_minimiser(points: FloatArray) -> FloatArray:
    """Weights (summing to 1) of the point of least norm in the affine hull of ``points``' rows."""
    count = len(points)
    system = np.zeros((count + 1, count + 1))
    system[:count, :count] = points @ points.T
    system[:count, count] = 1.0
    system[count, :count] = 1.0
    rhs = np.zeros(count + 1)
    rhs[count] = 1.0
    solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
    return np.asarray(solution[:count], dtype=np.float64)
