"""The baseline every forecast must beat: the value one season ago (same weekday last week for daily data)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import numpy.typing as npt

from slotoptim.ml.forecast.series import DemandSeries


def seasonal_naive_forecast(
    history: DemandSeries, horizon: int, holidays: Sequence[date] = ()
) -> npt.NDArray[np.float64]:
    """y[T+i] = y[T+i - m*k] with the smallest k >= 1 that lands inside the history. Holidays are ignored."""
    period = history.seasonal_period
    if len(history) < period:
        raise ValueError(f"seasonal naive needs at least {period} periods of history, got {len(history)}")
    steps = np.arange(horizon)
    source = len(history) + steps - period * (1 + steps // period)
    return np.asarray(history.counts[source], dtype=np.float64)
