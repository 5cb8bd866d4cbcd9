from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from slotoptim.ml.forecast.series import SeriesInputError, demand_series, weekly_from_daily


def test_plain_pairs_are_summed_per_day_and_gaps_filled_with_zero() -> None:
    series = demand_series([(date(2016, 5, 2), 3), ("2016-05-02T15:00:00", 2), (datetime(2016, 5, 5, 9), 4)])
    assert series.periods.astype(str).tolist() == ["2016-05-02", "2016-05-03", "2016-05-04", "2016-05-05"]
    assert series.counts.tolist() == [5, 0, 0, 4]
    assert series.seasonal_period == 7


def test_a_pandas_series_is_accepted() -> None:
    index = pd.to_datetime(["2016-05-02", "2016-05-03", "2016-05-05"])
    series = demand_series(pd.Series([1.0, 2.0, 3.0], index=index))
    assert series.counts.tolist() == [1, 2, 0, 3]


def test_hourly_and_weekly_grids() -> None:
    hourly = demand_series([("2016-05-02T09:10", 1), ("2016-05-02T11:59", 1)], "hourly")
    assert hourly.counts.tolist() == [1, 0, 1] and hourly.seasonal_period == 168
    # 2016-05-04 is a Wednesday: it counts in the week of Monday 2016-05-02.
    weekly = demand_series([("2016-05-04", 2), ("2016-05-16", 5)], "weekly")
    assert weekly.periods.astype(str).tolist() == ["2016-05-02", "2016-05-09", "2016-05-16"]
    assert weekly.counts.tolist() == [2, 0, 5]


def test_weekly_from_daily_keeps_whole_weeks_only() -> None:
    # Friday 2016-04-29 .. Wednesday 2016-05-18: whole weeks are May 2-8 and May 9-15.
    days = np.arange(np.datetime64("2016-04-29"), np.datetime64("2016-05-19"))
    daily = demand_series([(d, 1.0) for d in days])
    weekly = weekly_from_daily(daily)
    assert weekly.periods.astype(str).tolist() == ["2016-05-02", "2016-05-09"]
    assert weekly.counts.tolist() == [7, 7]


@pytest.mark.parametrize(
    ("points", "problem"),
    [
        ([], "no demand"),
        ([("not a date", 1)], "observation 0"),
        ([("2016-05-02", -1)], "non-negative"),
        ([(1, 2, 3)], "observation 0"),
    ],
)
def test_bad_input_is_refused(points: list[tuple[object, ...]], problem: str) -> None:
    with pytest.raises(SeriesInputError, match=problem):
        demand_series(points)
