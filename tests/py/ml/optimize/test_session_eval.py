from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from slotoptim.ml.optimize.service import DiscreteService, ExponentialService, parse_service
from slotoptim.ml.optimize.session_eval import SessionCost, SessionEvaluator, evaluate
from slotoptim.ml.optimize.session_problem import SessionInputError, SessionProblem, Weights

CHECK_SERVICE = parse_service("pmf:3=0.2,5=0.3,8=0.5")


def check_problem(*, count_no_show_waiting: bool) -> SessionProblem:
    return SessionProblem(6, 4, 5, CHECK_SERVICE, 0.1, Weights(0.5, 0, 0.5), count_no_show_waiting)


def test_published_check_case_both_waiting_definitions() -> None:
    shows_only = evaluate((2, 1, 1, 2), check_problem(count_no_show_waiting=False))
    published = evaluate((2, 1, 1, 2), check_problem(count_no_show_waiting=True))
    assert shows_only.objective == pytest.approx(9.5734588, abs=1e-6)
    assert published.objective == pytest.approx(9.8947055, abs=1e-6)
    # Showing is independent of the work ahead, so only waiting differs, by the factor 1 - q.
    assert shows_only.wait_per_patient == pytest.approx(0.9 * published.wait_per_patient, rel=1e-12)
    assert shows_only.lateness == published.lateness


def enumerate_outcomes(schedule: tuple[int, ...], problem: SessionProblem) -> SessionCost:
    """Expectations by listing every show/no-show and service outcome and replaying FCFS."""
    assert isinstance(problem.service, DiscreteService)
    d = problem.interval_minutes
    arrivals = [t * d for t, count in enumerate(schedule) for _ in range(count)]
    options = [(0.0, problem.no_show, False)] + [
        (m, p * (1 - problem.no_show), True)
        for m, p in zip(problem.service.minutes, problem.service.probabilities, strict=True)
    ]
    end = problem.session_minutes
    totals = np.zeros(3)
    for outcome in itertools.product(options, repeat=len(arrivals)):
        probability = math.prod(o[1] for o in outcome)
        free_at, waiting, busy = 0.0, 0.0, 0.0
        for arrival, (minutes, _, shows) in zip(arrivals, outcome, strict=True):
            start = max(arrival, free_at)
            if shows or problem.count_no_show_waiting:
                waiting += start - arrival
            busy += max(0.0, min(start + minutes, end) - min(start, end))
            free_at = start + minutes
        totals += probability * np.array([waiting, end - busy, max(0.0, free_at - end)])
    w = problem.weights
    per_patient = totals[0] / problem.patients
    objective = w.waiting * per_patient + w.idle * totals[1] + w.lateness * totals[2]
    return SessionCost(float(objective), float(per_patient), float(totals[1]), float(totals[2]))


@pytest.mark.parametrize(
    ("schedule", "service", "minutes", "no_show", "published"),
    [
        ((2, 1, 1, 2), "pmf:3=0.2,5=0.3,8=0.5", 5, 0.1, False),
        ((3, 0, 0, 2), "pmf:3=0.2,5=0.3,8=0.5", 5, 0.25, True),
        ((1, 0, 2, 1, 1), "pmf:2=0.5,7=0.25,12=0.25", 4, 0.0, False),
        ((0, 2, 1, 2), "pmf:2.5=0.4,10=0.6", 5, 0.3, False),
        ((2, 2, 0), "deterministic:6", 5, 0.2, True),
    ],
)
def test_chain_matches_replaying_every_outcome(
    schedule: tuple[int, ...], service: str, minutes: float, no_show: float, published: bool
) -> None:
    problem = SessionProblem(
        sum(schedule), len(schedule), minutes, parse_service(service), no_show, Weights(0.7, 0.2, 0.4), published
    )
    exact = evaluate(schedule, problem)
    replayed = enumerate_outcomes(schedule, problem)
    for got, want in zip(exact, replayed, strict=True):
        assert got == pytest.approx(want, abs=1e-10)


def test_exponential_closed_form_for_two_at_the_start() -> None:
    mean, length, q = 4.0, 6.0, 0.2
    problem = SessionProblem(2, 1, length, ExponentialService(mean), q, Weights(1, 1, 1))
    cost = evaluate((2,), problem)
    tail_one = mean * math.exp(-length / mean)  # E[(S - D)+]
    tail_two = mean * math.exp(-length / mean) * (2 + length / mean)  # E[(S1 + S2 - D)+]
    lateness = 2 * q * (1 - q) * tail_one + (1 - q) ** 2 * tail_two
    work = 2 * (1 - q) * mean
    assert cost.lateness == pytest.approx(lateness, rel=1e-12)
    assert cost.idle == pytest.approx(length - work + lateness, rel=1e-12)  # idle - lateness = D - work
    assert cost.wait_per_patient == pytest.approx((1 - q) * (1 - q) * mean / 2, rel=1e-12)


def simulate_exponential(schedule: tuple[int, ...], problem: SessionProblem, samples: int) -> np.ndarray:
    """Per-sample (waiting per patient, idle, lateness) by the Lindley recursion, vectorised over samples."""
    rng = np.random.default_rng(20070217)
    d = problem.interval_minutes
    arrivals = [t * d for t, count in enumerate(schedule) for _ in range(count)]
    shows = rng.random((samples, len(arrivals))) >= problem.no_show
    service = rng.exponential(problem.service.mean_minutes, (samples, len(arrivals))) * shows
    end = problem.session_minutes
    free_at = np.zeros(samples)
    waiting = np.zeros(samples)
    busy = np.zeros(samples)
    for i, arrival in enumerate(arrivals):
        start = np.maximum(arrival, free_at)
        waiting += (start - arrival) * shows[:, i]
        busy += np.clip(start + service[:, i], None, end) - np.clip(start, None, end)
        free_at = start + service[:, i]
    return np.column_stack([waiting / problem.patients, end - busy, np.maximum(free_at - end, 0.0)])


def test_exponential_chain_agrees_with_simulation() -> None:
    schedule = (3, 1, 0, 2, 1, 1)
    problem = SessionProblem(8, 6, 5, ExponentialService(6.0), 0.15, Weights(1, 1, 1))
    exact = evaluate(schedule, problem)
    draws = simulate_exponential(schedule, problem, 200_000)
    means = draws.mean(axis=0)
    errors = draws.std(axis=0) / math.sqrt(len(draws))
    for got, mean, error in zip(exact[1:], means, errors, strict=True):
        assert abs(got - mean) < 5 * error


def test_prefix_reuse_gives_the_same_cost() -> None:
    problem = SessionProblem(9, 6, 5, CHECK_SERVICE, 0.1, Weights(1, 1, 1))
    evaluator = SessionEvaluator(problem)
    base = evaluator.trajectory((2, 2, 1, 1, 2, 1))
    changed = (2, 2, 0, 2, 2, 1)
    assert evaluator.evaluate_from(changed, base, 2) == evaluator.evaluate(changed)


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"patients": 0}, "--patients"),
        ({"intervals": 0}, "--intervals"),
        ({"interval_minutes": -5.0}, "--interval-minutes"),
        ({"no_show": -0.1}, "--no-show"),
        ({"no_show": 1.0}, "--no-show"),
    ],
)
def test_bad_inputs_name_their_option(kwargs: dict[str, float], option: str) -> None:
    values: dict[str, object] = {
        "patients": 4,
        "intervals": 4,
        "interval_minutes": 5.0,
        "service": CHECK_SERVICE,
        "no_show": 0.1,
        "weights": Weights(1, 1, 1),
    }
    values.update(kwargs)
    with pytest.raises(SessionInputError) as raised:
        SessionProblem(**values)  # type: ignore[arg-type]
    assert raised.value.option == option


def test_weights_must_be_non_negative_and_not_all_zero() -> None:
    with pytest.raises(SessionInputError, match="--weights"):
        Weights(-1, 0, 1)
    with pytest.raises(SessionInputError, match="--weights"):
        Weights(0, 0, 0)
