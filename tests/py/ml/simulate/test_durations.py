from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from slotoptim.ml.simulate.durations import (
    DurationDataError,
    DurationSampler,
    DurationShape,
    empirical_service,
    load_service_minutes,
)


def test_reads_the_hangu_consultation_times(hangu_file: Path) -> None:
    minutes = load_service_minutes(hangu_file)
    assert len(minutes) == 6637
    # Published summary of the data set: mean 801.9 s, standard deviation 372.9 s.
    assert minutes.mean() == pytest.approx(801.91 / 60, abs=0.01)
    assert minutes.std(ddof=1) == pytest.approx(372.91 / 60, abs=0.01)


def test_scaling_keeps_the_mean_and_sets_the_spread(hangu_shape: DurationShape) -> None:
    for mean, std, multiplier in ((20.0, 9.0, 1.0), (10.0, 4.5, 0.5), (30.0, 6.0, 1.5)):
        sample = hangu_shape.scaled(mean, std, multiplier)
        assert sample.mean() == pytest.approx(mean, rel=1e-12)
        assert sample.std() / mean == pytest.approx(std / mean * multiplier, rel=0.03)
        assert sample.min() > 0
    constant = hangu_shape.scaled(12.0, 5.0, 0.0)
    assert np.allclose(constant, 12.0)


def test_sampler_is_monotone_in_its_uniform(hangu_shape: DurationShape) -> None:
    sampler = DurationSampler(hangu_shape, {"new": (20.0, 9.0)})
    draws = [sampler.draw("new", u) for u in np.linspace(0, 0.999, 50)]
    assert draws == sorted(draws)
    assert sampler.mean("new") == pytest.approx(20.0)


def test_empirical_service_is_a_proper_pmf(hangu_shape: DurationShape) -> None:
    service = empirical_service(hangu_shape, 13.0, 6.0)
    assert math.fsum(service.probabilities) == pytest.approx(1.0, abs=1e-12)
    assert service.mean_minutes == pytest.approx(13.0, abs=0.05)  # rounding to whole minutes
    assert all(m == int(m) and m >= 1 for m in service.minutes)


def test_missing_or_wrong_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DurationDataError, match="cannot read"):
        load_service_minutes(tmp_path / "absent.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DurationDataError, match="ServTime"):
        load_service_minutes(wrong)
