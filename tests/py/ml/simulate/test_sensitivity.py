from __future__ import annotations

from slotoptim.ml.optimize.template import solve_template
from slotoptim.ml.optimize.template_baseline import uniform_template_slots
from slotoptim.ml.optimize.template_problem import TemplateProblem, VisitType
from slotoptim.ml.simulate.clinic_model import SimulationSettings
from slotoptim.ml.simulate.durations import DurationShape
from slotoptim.ml.simulate.scenario import adjusted_problem
from slotoptim.ml.simulate.sensitivity import SessionSetup, run_sensitivity


def small_clinic() -> TemplateProblem:
    hours = (8, 9, 10, 11)
    return TemplateProblem(
        providers=("dr",),
        weekdays=("mon",),
        hours=hours,
        available_minutes={("dr", "mon", h): 60.0 for h in hours},
        visit_types=(VisitType("new", 20, 9, 0.15), VisitType("review", 10, 4.5, 0.1)),
        demand={("mon", 8, "new"): 2.0, ("mon", 9, "review"): 4.0, ("mon", 10, "new"): 1.0, ("mon", 9, "new"): 1.0},
    )


def test_adjusted_problem_changes_rates_and_spreads_only() -> None:
    problem = small_clinic()
    adjusted = adjusted_problem(problem, no_show_rate=0.3, cv_multiplier=2.0)
    assert [v.no_show_rate for v in adjusted.visit_types] == [0.3, 0.3]
    assert [v.std_minutes for v in adjusted.visit_types] == [18.0, 9.0]
    assert [v.mean_minutes for v in adjusted.visit_types] == [20.0, 10.0]
    assert adjusted_problem(problem, no_show_rate=None, cv_multiplier=1.0) == problem


def test_grid_reoptimises_and_reports_every_point(hangu_shape: DurationShape) -> None:
    problem = small_clinic()
    nominal = solve_template(problem)
    current = uniform_template_slots(problem, booked_minutes=120.0)
    result = run_sensitivity(
        problem,
        current,
        nominal,
        hangu_shape,
        SimulationSettings(),
        no_show_rates=(0.05, 0.3),
        cv_multipliers=(0.5,),
        replications=4,
        seed=2,
        node_limit=None,
        session=SessionSetup(patients=6, intervals=6, interval_minutes=15.0),
    )
    assert [(p.no_show_rate, p.cv_multiplier) for p in result.points] == [(0.05, 0.5), (0.3, 0.5)]
    for point in result.points:
        assert sum(point.session_schedule) == 6
        # The optimum can be no worse than the rule it is compared with.
        assert point.session_objective <= point.bailey_welch_objective + 1e-9
        assert point.slots_moved >= 0
    assert len(result.to_plain()["points"]) == 2
    assert "session schedule" in result.to_table()
    # More no-shows leave the provider idler: the optimal session objective (idle counts) grows.
    assert result.points[1].session_objective > result.points[0].session_objective
