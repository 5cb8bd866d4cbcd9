from __future__ import annotations

import itertools
import json
from collections.abc import Mapping

import pytest

from slotoptim.ml.optimize.template import TemplateSolveError, evaluate_template, solve_template
from slotoptim.ml.optimize.template_baseline import uniform_template_slots
from slotoptim.ml.optimize.template_example import example_clinic_problem
from slotoptim.ml.optimize.template_problem import SlotKey, TemplateProblem, TemplateSettings, VisitType
from slotoptim.ml.optimize.template_render import render_comparison


def one_provider(
    hours: tuple[int, ...],
    visit_types: tuple[VisitType, ...],
    demand: Mapping[tuple[str, int, str], float],
    **settings: float,
) -> TemplateProblem:
    return TemplateProblem(
        providers=("dr",),
        weekdays=("mon",),
        hours=hours,
        available_minutes={("dr", "mon", h): 60.0 for h in hours},
        visit_types=visit_types,
        demand=demand,
        settings=TemplateSettings(**settings),  # type: ignore[arg-type]
    )


TWENTY = VisitType("consult", mean_minutes=20, std_minutes=0, no_show_rate=0.0)
TEN = VisitType("review", mean_minutes=10, std_minutes=5, no_show_rate=0.0)


def test_fills_an_hour_up_to_the_utilisation_cap_and_no_further() -> None:
    # 3 x 20 minutes would be 100 % of the hour, above the 90 % cap: two slots, one request unmet.
    for requests, slots, unmet in ((2.0, 2, 0.0), (3.0, 2, 1.0), (100.0, 2, 98.0)):
        template = solve_template(one_provider((9,), (TWENTY,), {("mon", 9, "consult"): requests}))
        assert template.status == "optimal"
        assert template.count("dr", "mon", 9, "consult") == slots
        assert template.unmet["consult"] == pytest.approx(unmet)
        assert template.served["consult"] == pytest.approx(requests - unmet)


def test_shift_penalty_decides_between_smoothing_and_keeping_the_preferred_hour() -> None:
    demand = {("mon", 9, "review"): 6.0}
    # Free moves: convex waiting makes two half-full hours better than one full and one light.
    free = solve_template(one_provider((9, 10), (TEN,), demand, shift_penalty_per_hour=0.0))
    assert (free.count("dr", "mon", 9, "review"), free.count("dr", "mon", 10, "review")) == (3, 3)
    # Dear moves (but cheaper than losing the request): fill 9:00 to the cap (5), move one.
    dear = solve_template(one_provider((9, 10), (TEN,), demand, shift_penalty_per_hour=100.0))
    assert (dear.count("dr", "mon", 9, "review"), dear.count("dr", "mon", 10, "review")) == (5, 1)
    assert dear.parts.preference == pytest.approx(100.0)
    # Moves beyond the allowed distance are not offered: the request stays unmet instead.
    far = solve_template(one_provider((9, 12), (TEN,), demand, max_shift_hours=2))
    assert far.count("dr", "mon", 12, "review") == 0
    assert far.unmet["review"] == pytest.approx(1.0)


def hour_patterns(problem: TemplateProblem, hour: int) -> list[dict[str, int]]:
    settings = problem.settings
    available = problem.minutes("dr", "mon", hour)
    ranges = [range(int(available // v.mean_minutes) + 1) for v in problem.visit_types]
    patterns = []
    for counts in itertools.product(*ranges):
        booked = sum(n * v.mean_minutes for n, v in zip(counts, problem.visit_types, strict=True))
        attended = sum(
            n * v.mean_minutes * (1 - problem.no_show_rate(v, "mon", hour))
            for n, v in zip(counts, problem.visit_types, strict=True)
        )
        if booked <= settings.max_booking_ratio * available and attended <= settings.max_utilisation * available:
            patterns.append({v.name: n for n, v in zip(counts, problem.visit_types, strict=True)})
    return patterns


def test_mip_matches_enumerating_every_template_of_a_small_problem() -> None:
    problem = TemplateProblem(
        providers=("dr",),
        weekdays=("mon",),
        hours=(8, 9, 10),
        available_minutes={("dr", "mon", 8): 40.0, ("dr", "mon", 9): 60.0, ("dr", "mon", 10): 30.0},
        visit_types=(
            VisitType("consult", 20, 9, 0.2, unmet_penalty=60),
            VisitType("review", 10, 4, 0.1, unmet_penalty=25),
        ),
        demand={
            ("mon", 8, "consult"): 0.6,
            ("mon", 9, "consult"): 2.4,
            ("mon", 9, "review"): 3.3,
            ("mon", 10, "review"): 1.2,
        },
        hour_penalty={("mon", 10): 3.0},
        no_show_hour_factor={("mon", 8): 1.5},
        settings=TemplateSettings(shift_penalty_per_hour=4.0, max_shift_hours=1, max_booking_ratio=1.1),
    )
    best = solve_template(problem)
    assert best.status == "optimal"
    per_hour = [hour_patterns(problem, h) for h in problem.hours]
    enumerated = []
    for choice in itertools.product(*per_hour):
        slots: dict[SlotKey, int] = {
            ("dr", "mon", h, name): n
            for h, pattern in zip(problem.hours, choice, strict=True)
            for name, n in pattern.items()
            if n
        }
        enumerated.append(evaluate_template(problem, slots, solver="GLOP").parts.total)
    assert len(enumerated) > 100
    assert best.parts.total == pytest.approx(min(enumerated), rel=2e-4)
    assert best.lower_bound <= min(enumerated) + 1e-6


def test_example_template_respects_every_constraint() -> None:
    problem = example_clinic_problem(weekdays=("mon", "wed"))
    template = solve_template(problem, node_limit=20)
    settings = problem.settings
    for provider in problem.providers:
        for weekday in problem.weekdays:
            for hour in problem.hours:
                available = problem.minutes(provider, weekday, hour)
                booked = template.booked_minutes(problem, provider, weekday, hour)
                attended = sum(
                    template.count(provider, weekday, hour, v.name)
                    * v.mean_minutes
                    * (1 - problem.no_show_rate(v, weekday, hour))
                    for v in problem.visit_types
                )
                assert booked <= settings.max_booking_ratio * available + 1e-9
                assert attended <= settings.max_utilisation * available + 1e-9
                assert template.count(provider, weekday, hour, "procedure") == 0 or provider == "dr_a"
    for visit in problem.visit_types:
        wanted = sum(r for (_, _, name), r in problem.demand.items() if name == visit.name)
        assert template.served[visit.name] + template.unmet[visit.name] == pytest.approx(wanted)
        slots = sum(n for (_, _, _, name), n in template.slots.items() if name == visit.name)
        assert template.served[visit.name] <= slots + 1e-9
    assert template.lower_bound <= template.parts.total + 1e-9


def test_uniform_baseline_uses_the_same_capacity_and_scores_no_better() -> None:
    problem = one_provider(
        (8, 9, 10, 11),
        (TWENTY, TEN),
        {("mon", 8, "consult"): 2.0, ("mon", 9, "consult"): 1.0, ("mon", 9, "review"): 3.0, ("mon", 11, "review"): 1.0},
    )
    optimised = solve_template(problem)
    booked = sum(optimised.booked_minutes(problem, "dr", "mon", h) for h in problem.hours)
    baseline_slots = uniform_template_slots(problem, booked_minutes=booked)
    baseline = evaluate_template(problem, baseline_slots)
    assert baseline.status == "evaluated"
    assert sum(baseline.booked_minutes(problem, "dr", "mon", h) for h in problem.hours) == pytest.approx(booked, abs=20)
    # Every working hour gets slots: the baseline does not follow the demand's shape.
    assert all(baseline.booked_minutes(problem, "dr", "mon", h) > 0 for h in problem.hours)
    assert optimised.parts.total <= baseline.parts.total + 1e-9


def test_outputs_serialise_and_render() -> None:
    problem = one_provider((9, 10), (TEN,), {("mon", 9, "review"): 4.0})
    template = solve_template(problem)
    plain = json.loads(template.to_json())
    assert plain["status"] == "optimal"
    assert {row["hour"] for row in plain["slots"]} <= {9, 10}
    assert plain["objective"]["total"] == pytest.approx(template.parts.total)
    table = render_comparison(problem, [("optimised", template), ("current", template)])
    assert "dr" in table and "09:00" in table and "waiting" in table


def test_node_limit_needs_scip() -> None:
    problem = one_provider((9,), (TEN,), {("mon", 9, "review"): 1.0})
    with pytest.raises(TemplateSolveError, match="SCIP"):
        solve_template(problem, solver="CBC", node_limit=10)
