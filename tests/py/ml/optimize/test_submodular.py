from __future__ import annotations

import itertools

import numpy as np
import pytest

from slotoptim.ml.optimize.submodular import BoolArray, minimise_submodular


def random_submodular(size: int, seed: int) -> tuple[object, float]:
    """A cut function plus a concave function of a weighted count, minus a modular term: submodular."""
    rng = np.random.default_rng(seed)
    edges = np.triu(rng.random((size, size)) * (rng.random((size, size)) < 0.5), 1)
    edges = edges + edges.T
    weights = rng.random(size)
    modular = rng.normal(0, 1.2, size)

    def function(chosen: BoolArray) -> float:
        mask = chosen.astype(float)
        cut = float(mask @ edges @ (1 - mask))
        return cut + 2.0 * float(np.sqrt(weights @ mask)) - float(modular @ mask)

    best = min(function(np.array(bits, dtype=bool)) for bits in itertools.product((False, True), repeat=size))
    return function, best


@pytest.mark.parametrize("seed", range(12))
def test_finds_the_minimum_of_random_submodular_functions(seed: int) -> None:
    function, best = random_submodular(9, seed)
    result = minimise_submodular(function, 9)  # type: ignore[arg-type]
    assert result.best_value == pytest.approx(best, abs=1e-9)
    assert function(result.best_set) == pytest.approx(result.best_value)  # type: ignore[operator]
    assert result.lower_bound <= best + 1e-9
    assert result.gap <= 1e-6


def test_stops_at_the_first_set_below_the_threshold() -> None:
    function, best = random_submodular(9, 3)
    assert best < -0.5
    result = minimise_submodular(function, 9, stop_below=-0.01)  # type: ignore[arg-type]
    assert result.best_value < -0.01


def test_modular_function_with_no_negative_set_is_certified() -> None:
    costs = np.linspace(0.1, 1.0, 6)
    result = minimise_submodular(lambda chosen: float(costs @ chosen), 6, stop_below=-1e-9)
    assert result.best_value == 0.0
    assert result.lower_bound == pytest.approx(0.0)
