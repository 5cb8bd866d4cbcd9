from __future__ import annotations

import numpy as np
import pytest

from slotoptim.ml.forecast.accuracy import mape, mase, seasonal_naive_scale
from slotoptim.ml.forecast.seasonal_naive import seasonal_naive_forecast
from slotoptim.ml.forecast.series import demand_series


def test_mase_uses_the_in_sample_seasonal_naive_error_as_scale() -> None:
    history = np.array([10.0, 20, 30, 12, 18, 33])  # m = 3: diffs 2, 2, 3 -> scale 7/3
    assert seasonal_naive_scale(history, 3) == pytest.approx(7 / 3)
    assert mase(np.array([10.0, 20]), np.array([12.0, 21]), history, 3) == pytest.approx(1.5 / (7 / 3))
    assert np.isnan(mase(np.array([1.0]), np.array([1.0]), np.array([5.0, 5.0]), 1))  # zero scale
    assert np.isnan(seasonal_naive_scale(history, 6))


def test_mape_skips_zero_actuals_and_counts_them() -> None:
    result = mape(np.array([0.0, 100, 50, 0]), np.array([5.0, 110, 40, 0]))
    assert result.mape == pytest.approx((10 + 20) / 2)
    assert (result.scored_points, result.skipped_zero_points) == (2, 2)
    assert np.isnan(mape(np.array([0.0]), np.array([1.0])).mape)


def test_seasonal_naive_repeats_the_last_week() -> None:
    days = np.arange(np.datetime64("2016-05-02"), np.datetime64("2016-05-12"))
    history = demand_series([(d, float(i)) for i, d in enumerate(days)])  # 10 days: 0..9
    # Next day = same weekday last week (index 3), and so on; day 8 ahead wraps to two weeks back.
    assert seasonal_naive_forecast(history, 9).tolist() == [3, 4, 5, 6, 7, 8, 9, 3, 4]
