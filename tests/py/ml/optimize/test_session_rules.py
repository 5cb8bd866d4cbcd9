from __future__ import annotations

import pytest

from slotoptim.ml.optimize.session_rules import bailey_welch, even_spread


@pytest.mark.parametrize(("patients", "intervals"), [(1, 1), (1, 5), (4, 5), (6, 4), (40, 40), (41, 40), (90, 40)])
def test_rules_book_everyone_once(patients: int, intervals: int) -> None:
    for rule in (bailey_welch, even_spread):
        schedule = rule(patients, intervals)
        assert len(schedule) == intervals
        assert sum(schedule) == patients
        assert min(schedule) >= 0


def test_bailey_welch_is_the_classic_rule_when_n_is_t_plus_one() -> None:
    assert bailey_welch(9, 8) == (2, 1, 1, 1, 1, 1, 1, 1)


def test_even_spread_never_starts_empty_and_differs_by_at_most_one() -> None:
    for patients in range(1, 30):
        schedule = even_spread(patients, 12)
        assert schedule[0] >= 1
        if patients >= 12:
            assert max(schedule) - min(schedule) <= 1
