from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotoptim.ml.optimize.service import parse_service
from slotoptim.ml.optimize.session_eval import SessionEvaluator, evaluate
from slotoptim.ml.optimize.session_neighbourhood import search_neighbourhood
from slotoptim.ml.optimize.session_problem import SessionProblem, Weights
from slotoptim.ml.optimize.session_rules import bailey_welch, even_spread
from slotoptim.ml.optimize.session_search import optimise


def compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    """Every way to book ``total`` customers over ``parts`` intervals (stars and bars)."""
    result = []
    for bars in itertools.combinations(range(total + parts - 1), parts - 1):
        edges = (-1, *bars, total + parts - 1)
        result.append(tuple(edges[i + 1] - edges[i] - 1 for i in range(parts)))
    return result


def brute_force_minimum(problem: SessionProblem) -> float:
    evaluator = SessionEvaluator(problem)
    return min(evaluator.evaluate(x).objective for x in compositions(problem.patients, problem.intervals))


def test_check_case_optimum_in_both_variants() -> None:
    service = parse_service("pmf:3=0.2,5=0.3,8=0.5")
    for published, value in ((False, 9.5734588), (True, 9.8947055)):
        problem = SessionProblem(6, 4, 5, service, 0.1, Weights(0.5, 0, 0.5), published)
        for start in ("bailey-welch", "even", (6, 0, 0, 0), (0, 0, 0, 6)):
            result = optimise(problem, start=start)
            assert result.schedule == (2, 1, 1, 2)
            assert result.cost.objective == pytest.approx(value, abs=1e-6)
            assert result.cost.objective == pytest.approx(brute_force_minimum(problem), abs=1e-12)


CASES = [
    # patients, intervals, minutes, service, no-show, weights, published
    (7, 5, 5, "pmf:3=0.2,5=0.3,8=0.5", 0.1, (0.5, 0.0, 0.5), False),
    (8, 6, 10, "exponential:9", 0.2, (1.0, 0.5, 1.0), False),
    (5, 8, 5, "pmf:4=0.5,9=0.5", 0.0, (1.0, 1.0, 2.0), False),  # N < T: empty intervals in the optimum
    (9, 5, 15, "pmf:5=0.3,15=0.4,30=0.3", 0.3, (0.2, 1.0, 0.1), True),
    (6, 9, 4, "exponential:3", 0.05, (0.3, 0.6, 0.1), True),
    (10, 4, 10, "deterministic:8", 0.25, (1.0, 0.2, 0.7), False),
    (6, 7, 10, "pmf:2=0.6,25=0.4", 0.15, (1.0, 0.0, 3.0), False),
]


@pytest.mark.parametrize(("patients", "intervals", "minutes", "service", "no_show", "weights", "published"), CASES)
@pytest.mark.parametrize("neighbourhood", ["exhaustive", "submodular"])
def test_local_search_reaches_the_brute_force_optimum(
    patients: int,
    intervals: int,
    minutes: float,
    service: str,
    no_show: float,
    weights: tuple[float, float, float],
    published: bool,
    neighbourhood: str,
) -> None:
    problem = SessionProblem(
        patients, intervals, minutes, parse_service(service), no_show, Weights(*weights), published
    )
    best = brute_force_minimum(problem)
    for start in ("bailey-welch", "even"):
        result = optimise(problem, start=start, neighbourhood=neighbourhood)
        assert result.cost.objective == pytest.approx(best, abs=1e-9)
        assert result.cost == evaluate(result.schedule, problem)
        assert result.certified_gap >= -1e-9
        # The rules are feasible schedules, so they can never beat the optimum.
        for rule in (bailey_welch, even_spread):
            assert evaluate(rule(patients, intervals), problem).objective >= best - 1e-12


def test_from_a_bad_start_the_full_neighbourhood_does_the_work() -> None:
    # Everyone at the end is far from optimal; the result must still match enumeration.
    problem = SessionProblem(7, 7, 5, parse_service("exponential:5"), 0.1, Weights(1, 1, 1))
    result = optimise(problem, start=(0, 0, 0, 0, 0, 0, 7), neighbourhood="submodular")
    assert result.cost.objective == pytest.approx(brute_force_minimum(problem), abs=1e-9)
    assert result.moves > 0


def single_move_neighbours(schedule: tuple[int, ...]) -> list[tuple[int, ...]]:
    result = []
    for source, target in itertools.permutations(range(len(schedule)), 2):
        if schedule[source]:
            moved = list(schedule)
            moved[source] -= 1
            moved[target] += 1
            result.append(tuple(moved))
    return result


@pytest.mark.parametrize("method", ["exhaustive", "submodular"])
def test_neighbourhood_finds_a_combined_move_no_single_move_matches(method: str) -> None:
    # Found by a random sweep: moving any one customer anywhere makes this schedule worse, yet moving
    # two at once (interval 2 -> 3 and 4 -> 5) improves it. Only the full neighbourhood sees that.
    problem = SessionProblem(3, 6, 10, parse_service("exponential:5"), 0.1, Weights(0.45, 0.68, 0.19))
    evaluator = SessionEvaluator(problem)
    schedule = (1, 1, 0, 1, 0, 0)
    current = evaluator.trajectory(schedule)
    assert all(evaluator.evaluate(x).objective > current.cost.objective for x in single_move_neighbours(schedule))
    verdict = search_neighbourhood(evaluator, current, tolerance=1e-12, method=method)
    assert verdict.improvement == (1, 0, 1, 0, 1, 0)
    assert evaluator.evaluate(verdict.improvement).objective < current.cost.objective
    assert optimise(problem, start=schedule, neighbourhood=method).cost.objective == pytest.approx(
        brute_force_minimum(problem), abs=1e-12
    )


SERVICES = ["pmf:3=0.2,5=0.3,8=0.5", "exponential:5", "pmf:1=0.5,12=0.5", "deterministic:7", "pmf:2=0.7,20=0.3"]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    patients=st.integers(1, 7),
    intervals=st.integers(1, 6),
    minutes=st.sampled_from([3.0, 5.0, 10.0]),
    service=st.sampled_from(SERVICES),
    no_show=st.sampled_from([0.0, 0.1, 0.3]),
    weights=st.tuples(*(st.sampled_from([0.0, 0.2, 1.0, 2.5]) for _ in range(3))).filter(any),
    published=st.booleans(),
)
def test_random_small_problems_match_enumeration(
    patients: int,
    intervals: int,
    minutes: float,
    service: str,
    no_show: float,
    weights: tuple[float, float, float],
    published: bool,
) -> None:
    problem = SessionProblem(
        patients, intervals, minutes, parse_service(service), no_show, Weights(*weights), published
    )
    result = optimise(problem, neighbourhood="submodular")
    assert result.cost.objective == pytest.approx(brute_force_minimum(problem), abs=1e-9)
