from __future__ import annotations

import pytest

from slotoptim.ml.optimize.template_example import example_clinic_problem
from slotoptim.ml.optimize.template_input import template_problem_from_plain, template_problem_to_plain
from slotoptim.ml.optimize.template_problem import TemplateInputError

DOCUMENT = {
    "providers": ["dr_a"],
    "weekdays": ["mon", "tue"],
    "hours": [8, 9, 10],
    "availability": [
        {"provider": "dr_a", "weekday": "mon", "start": "08:00", "end": "10:30"},
        {"provider": "dr_a", "weekday": "tue", "hour": 9, "minutes": 45},
    ],
    "visit_types": [{"name": "new", "mean_minutes": 20, "std_minutes": 9, "no_show_rate": 0.15}],
    "demand": [{"weekday": "mon", "hour": 8, "visit_type": "new", "requests": 2.5}],
    "settings": {"max_utilisation": 0.85},
}


def test_builds_a_problem_from_rows() -> None:
    problem = template_problem_from_plain(DOCUMENT)
    assert problem.available_minutes == {
        ("dr_a", "mon", 8): 60,
        ("dr_a", "mon", 9): 60,
        ("dr_a", "mon", 10): 30,
        ("dr_a", "tue", 9): 45,
    }
    assert problem.demand == {("mon", 8, "new"): 2.5}
    assert problem.settings.max_utilisation == 0.85
    assert problem.visit("new").unmet_penalty == 120.0


def test_plain_round_trip_of_the_example() -> None:
    problem = example_clinic_problem()
    assert template_problem_from_plain(template_problem_to_plain(problem)) == problem


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"demand": [{"weekday": "mon", "hour": 8, "visit_type": "x", "requests": 1}]}, "unknown visit type"),
        ({"demand": [{"weekday": "mon", "hour": 8, "requests": 1}]}, "missing field 'visit_type'"),
        ({"demand": [{"weekday": "sun", "hour": 8, "visit_type": "new", "requests": 1}]}, "unknown weekday"),
        ({"demand": [{"weekday": "mon", "hour": 8, "visit_type": "new", "requests": -1}]}, "non-negative"),
        ({"availability": [{"provider": "dr_a", "weekday": "mon", "start": "7:00", "end": "9:00"}]}, "hour 7"),
        ({"availability": [{"provider": "dr_a", "weekday": "mon", "start": "nine", "end": "10:00"}]}, "HH:MM"),
        ({"settings": {"max_utilisation": 1.5}}, "max_utilisation"),
        ({"settings": {"speed": 3}}, "unknown fields"),
        ({"visit_types": [{"name": "new", "mean_minutes": 0, "std_minutes": 1, "no_show_rate": 0.1}]}, "positive"),
    ],
)
def test_rejects_inconsistent_input_naming_the_field(change: dict[str, object], fragment: str) -> None:
    with pytest.raises(TemplateInputError, match=None) as raised:
        template_problem_from_plain({**DOCUMENT, **change})
    assert fragment in str(raised.value)
