from __future__ import annotations

import math

import numpy as np
import pytest

from slotoptim.ml.simulate.clinic_model import Appointment, ProviderDay, SimulationSettings
from slotoptim.ml.simulate.durations import DurationSampler, DurationShape
from slotoptim.ml.simulate.replicate import compare
from slotoptim.ml.simulate.stats import estimate

SHAPE = DurationShape.from_minutes(np.array([4.0, 8.0, 10.0, 12.0, 30.0]))


def test_confidence_interval_is_student_t() -> None:
    value = estimate([1.0, 2.0, 3.0])
    assert value.mean == 2.0
    assert value.half_width == pytest.approx(4.302652729911275 / math.sqrt(3))
    assert estimate([5.0]).half_width == 0.0


def week(spacing: float) -> list[ProviderDay]:
    return [
        ProviderDay(
            "dr",
            weekday,
            tuple(Appointment(480.0 + spacing * i, "x", 0.1) for i in range(int(240 // spacing))),
            ((480.0, 720.0),),
        )
        for weekday in ("mon", "tue")
    ]


def test_common_random_numbers_make_identical_templates_identical() -> None:
    sampler = DurationSampler(SHAPE, {"x": (10.0, 5.0)})
    comparison = compare([("a", week(12.0)), ("b", week(12.0))], sampler, SimulationSettings(), replications=8, seed=3)
    for metric in ("mean_wait", "p90_wait", "utilisation", "overtime", "patients_seen"):
        difference = comparison.difference("b", metric)
        assert difference.mean == 0.0 and difference.half_width == 0.0


def test_tighter_booking_raises_utilisation_and_waiting() -> None:
    sampler = DurationSampler(SHAPE, {"x": (10.0, 5.0)})
    comparison = compare(
        [("loose", week(15.0)), ("tight", week(10.0))], sampler, SimulationSettings(), replications=20, seed=5
    )
    assert comparison.difference("tight", "utilisation").low > 0
    assert comparison.difference("tight", "mean_wait").low > 0
    assert comparison.difference("tight", "patients_seen").low > 0
    plain = comparison.to_plain()
    assert plain["replications"] == 20
    assert set(plain["by_weekday"]) == {"mon", "tue"}
    assert "tight - loose" in comparison.to_table()
