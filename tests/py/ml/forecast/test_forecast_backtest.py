from __future__ import annotations

import logging

import numpy as np
import pytest

from slotoptim.ml.forecast.backtest import backtest, rolling_origins
from slotoptim.ml.forecast.prophet_model import prophet_forecast, regularly_closed_slots
from slotoptim.ml.forecast.seasonal_naive import seasonal_naive_forecast
from slotoptim.ml.forecast.series import DemandSeries, SeriesInputError, demand_series

WEEK = np.array([50.0, 60, 55, 58, 40, 0, 0])  # Monday..Sunday, closed at weekends


def clinic_days(weeks: int, growth_per_day: float = 0.0, seed: int = 0) -> DemandSeries:
    rng = np.random.default_rng(seed)
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-01-01") + 7 * weeks)  # starts on a Monday
    level = 1 + growth_per_day * np.arange(len(days)) / 50
    counts = np.tile(WEEK, weeks) * level + (np.tile(WEEK, weeks) > 0) * rng.normal(0, 2, len(days))
    return demand_series(list(zip(days, np.maximum(counts, 0.0), strict=True)))


def test_origins_step_back_from_the_end_and_respect_the_initial_history() -> None:
    assert rolling_origins(34, initial=14, horizon=7, step=3) == [15, 18, 21, 24, 27]
    assert rolling_origins(34, initial=14, horizon=7, step=3, max_origins=2) == [24, 27]
    with pytest.raises(SeriesInputError, match="at least initial \\+ horizon = 21"):
        rolling_origins(20, initial=14, horizon=7, step=1)


def test_seasonal_naive_is_perfect_on_a_noiseless_weekly_pattern() -> None:
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-01-29"))
    series = demand_series(list(zip(days, np.tile(WEEK, 4), strict=True)))
    result = backtest(series, {"naive": seasonal_naive_forecast}, horizon=7, initial=14, step=7)
    summary = result.summaries[0]
    assert result.origins == ["2024-01-15", "2024-01-22"]
    # The in-sample scale is zero too, so MASE is undefined: reported as NaN / null, not as a number.
    assert summary.mae == 0 and summary.mape == 0 and np.isnan(summary.mase) and np.isnan(summary.mase_open_days)
    assert result.to_json()["summaries"][0]["mase"] is None
    assert summary.skipped_zero_points == 4


def test_weekend_closures_are_learned_from_history_only() -> None:
    series = clinic_days(3)
    assert regularly_closed_slots(series).tolist() == [5, 6]
    assert regularly_closed_slots(series.head(6)).tolist() == []  # one Saturday seen: not yet a rule


def test_prophet_beats_seasonal_naive_on_a_growing_clinic(caplog: pytest.LogCaptureFixture) -> None:
    series = clinic_days(8, growth_per_day=1.0, seed=1)
    with caplog.at_level(logging.DEBUG):
        result = backtest(
            series,
            {"prophet": prophet_forecast, "seasonal_naive": seasonal_naive_forecast},
            horizon=7,
            initial=21,
            step=7,
            max_origins=2,
        )
    prophet, naive = result.summaries
    # Demand grows ~2 % a day: last week's value is always too low, a trend model is not.
    assert prophet.mase < naive.mase
    assert prophet.mape < naive.mape
    forecasts = [s.forecast for s in result.scores if s.method == "prophet"]
    assert all(day[5] == 0 and day[6] == 0 for day in forecasts)  # forecasts start on Mondays
    assert not [r for r in caplog.records if r.name.startswith(("cmdstanpy", "prophet"))]


def test_weekly_series_need_a_year_of_history() -> None:
    weekly = demand_series([(np.datetime64("2024-01-01") + 7 * i, 10.0) for i in range(30)], "weekly")
    with pytest.raises(SeriesInputError, match="exceed one season"):
        backtest(weekly, {"naive": seasonal_naive_forecast}, horizon=4, initial=20, step=4)
