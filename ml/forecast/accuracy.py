"""Forecast error measures.

MASE (Hyndman & Koehler 2006) = mean |actual - forecast| over the horizon, divided by the in-sample
mean absolute error of the seasonal-naive forecast, mean_{t>m} |y_t - y_{t-m}| over the history the
forecast was made from (m = 7 for daily data). Below 1: better than last week's value was in-sample.
MAPE = mean |actual - forecast| / actual x 100 over points with actual > 0; it is undefined on
zero-demand periods (closed days), so those are skipped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class PercentageError:
    mape: float
    scored_points: int
    skipped_zero_points: int


def seasonal_naive_scale(history: npt.NDArray[np.float64], period: int) -> float:
    """In-sample MAE of the seasonal-naive forecast; NaN when the history is shorter than one season + 1."""
    if len(history) <= period:
        return float("nan")
    return float(np.mean(np.abs(history[period:] - history[:-period])))


def mase(
    actual: npt.NDArray[np.float64], forecast: npt.NDArray[np.float64], history: npt.NDArray[np.float64], period: int
) -> float:
    scale = seasonal_naive_scale(history, period)
    if len(actual) == 0 or not np.isfinite(scale) or scale == 0.0:
        return float("nan")
    return float(np.mean(np.abs(actual - forecast)) / scale)


def mape(actual: npt.NDArray[np.float64], forecast: npt.NDArray[np.float64]) -> PercentageError:
    nonzero = actual > 0
    scored = int(nonzero.sum())
    value = (
        float(np.mean(np.abs(actual[nonzero] - forecast[nonzero]) / actual[nonzero]) * 100) if scored else float("nan")
    )
    return PercentageError(value, scored, int((~nonzero).sum()))
