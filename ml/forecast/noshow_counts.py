"""Daily demand from the Kaggle no-show file: appointments per appointment day (attended or not).

The file covers 2016-04-29..2016-06-01 and has appointments on weekdays only (plus one Saturday
with a few dozen); weekends and a few weekdays without rows become zero-demand days.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from slotoptim.ml.forecast.series import DemandSeries, demand_series
from slotoptim.ml.noshow.kaggle import read_noshow_csv


def daily_appointment_counts(path: Path | str) -> DemandSeries:
    table, _ = read_noshow_csv(path)
    days, counts = np.unique(table.appointment_day, return_counts=True)
    return demand_series(list(zip(days, counts.astype(np.float64), strict=True)), "daily")


def zero_weekdays(series: DemandSeries) -> list[str]:
    """Monday-Friday days with no demand: closures or gaps in the data, worth a look before forecasting."""
    weekday = (series.periods.astype("datetime64[D]").astype(np.int64) + 3) % 7
    return [str(day) for day in series.periods[(series.counts == 0) & (weekday < 5)]]
