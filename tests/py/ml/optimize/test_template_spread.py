"""Visits longer than their hour: where their minutes go, and what the MIP and the simulation make of it."""

from __future__ import annotations

import pytest

from slotoptim.ml.optimize.template import evaluate_template, solve_template
from slotoptim.ml.optimize.template_problem import TemplateProblem, VisitType
from slotoptim.ml.simulate.template_days import template_days

LONG = VisitType("assessment", mean_minutes=75, std_minutes=5, no_show_rate=0.0)
SHORT = VisitType("review", mean_minutes=20, std_minutes=5, no_show_rate=0.0)


def clinic(minutes: dict[int, float], demand: dict[tuple[str, int, str], float]) -> TemplateProblem:
    return TemplateProblem(
        providers=("pt",),
        weekdays=("mon",),
        hours=tuple(sorted(minutes)),
        available_minutes={("pt", "mon", h): m for h, m in minutes.items()},
        visit_types=(LONG, SHORT),
        demand=demand,
    )


def test_window_of_a_part_time_hour() -> None:
    problem = clinic({8: 30, 9: 60, 10: 60, 12: 30, 14: 30}, {})
    assert problem.window("pt", "mon", 8) == (510.0, 540.0)  # a day starting at 08:30
    assert problem.window("pt", "mon", 12) == (720.0, 750.0)  # a morning ending at 12:30
    assert problem.window("pt", "mon", 14) == (840.0, 870.0)  # alone: the start of the hour


def test_spread_follows_continuous_working_time() -> None:
    problem = clinic({8: 30, 9: 60, 10: 60, 12: 30}, {})
    assert problem.spread("pt", "mon", 9, 20) == [(9, 20)]
    assert problem.spread("pt", "mon", 9, 75) == [(9, 60), (10, 15)]
    assert problem.spread("pt", "mon", 8, 75) == [(8, 30), (9, 45)]
    assert problem.spread("pt", "mon", 10, 75) is None  # the block ends at 11:00
    assert problem.spread("pt", "mon", 12, 45) is None
    assert problem.spread("pt", "mon", 11, 20) is None  # not working


def test_mip_books_long_visits_and_charges_the_next_hour() -> None:
    problem = clinic({9: 60, 10: 60, 11: 60}, {("mon", 9, "assessment"): 1.0, ("mon", 10, "review"): 3.0})
    template = solve_template(problem)
    assert template.status == "optimal"
    assert template.unmet["assessment"] == pytest.approx(0.0)
    assert sum(n for (_, _, _, v), n in template.slots.items() if v == "assessment") == 1
    # Its 15 minutes in the next hour leave room for two 20-minute reviews there, not three.
    after = next(h for (_, _, h, v) in template.slots if v == "assessment") + 1
    assert template.count("pt", "mon", after, "review") <= 2
    # A template with a long visit where the block ends is still scored, all of it in its hour.
    scored = evaluate_template(problem, {("pt", "mon", 11, "assessment"): 1})
    assert scored.status == "evaluated"


def test_simulated_day_starts_the_next_hour_after_a_long_visit() -> None:
    problem = clinic({9: 60, 10: 60}, {})
    (day,) = template_days(problem, {("pt", "mon", 9, "assessment"): 1, ("pt", "mon", 10, "review"): 2})
    assert [(a.visit_type, a.minute) for a in day.appointments] == [
        ("assessment", 540.0),
        ("review", 615.0),
        ("review", 637.5),
    ]
