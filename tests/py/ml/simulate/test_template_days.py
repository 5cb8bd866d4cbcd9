from __future__ import annotations

import pytest

from slotoptim.ml.optimize.template_example import example_clinic_problem
from slotoptim.ml.optimize.template_problem import TemplateProblem, VisitType
from slotoptim.ml.simulate.template_days import template_days


def problem() -> TemplateProblem:
    return TemplateProblem(
        providers=("dr",),
        weekdays=("mon",),
        hours=(8, 9, 13),
        available_minutes={("dr", "mon", 8): 60.0, ("dr", "mon", 9): 60.0, ("dr", "mon", 13): 30.0},
        visit_types=(VisitType("long", 20, 5, 0.1), VisitType("short", 10, 3, 0.2)),
        demand={("mon", 8, "long"): 1.0},
        no_show_hour_factor={("mon", 8): 2.0},
    )


def test_one_appointment_per_slot_spread_over_the_hour() -> None:
    slots = {("dr", "mon", 8, "long"): 1, ("dr", "mon", 8, "short"): 2, ("dr", "mon", 13, "short"): 2}
    (day,) = template_days(problem(), slots)
    assert day.working == ((480.0, 600.0), (780.0, 810.0))
    assert day.available_minutes == 150.0 and day.closes_at == 810.0
    eight = [a for a in day.appointments if a.minute < 540]
    # 40 booked minutes in 60: round-robin long, short, short at 0, 20*1.5, 30*1.5 minutes past.
    assert [(a.visit_type, a.minute) for a in eight] == [("long", 480.0), ("short", 510.0), ("short", 525.0)]
    assert [a.no_show_risk for a in eight] == pytest.approx([0.2, 0.4, 0.4])  # hour factor 2
    one = [a.minute for a in day.appointments if a.minute >= 780]
    assert one == [780.0, 795.0]


def test_fill_rates_become_booking_probabilities() -> None:
    slots = {("dr", "mon", 9, "short"): 3}
    (day,) = template_days(problem(), slots, lambda weekday, hour, visit: 0.25)
    assert [a.booking_probability for a in day.appointments] == [0.25] * 3


def test_example_days_cover_every_working_provider_day() -> None:
    example = example_clinic_problem()
    days = template_days(example, {})
    assert len(days) == 10
    assert all(not d.appointments for d in days)
    wednesday_b = next(d for d in days if (d.provider, d.weekday) == ("dr_b", "wed"))
    assert wednesday_b.working == ((480.0, 720.0),)
