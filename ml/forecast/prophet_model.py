"""Prophet forecasts, quiet and configured from the series' frequency.

Seasonalities: weekly for hourly and daily series, daily only for hourly series (intra-day pattern),
yearly only when there are at least two years of history (Prophet cannot learn it from less).
Holidays are dates passed in by the caller (closures, public holidays); each is one Prophet holiday.
Forecasts are clipped at zero: demand is a count.

Regular closures: a weekday (hour of the week, for hourly series) with zero demand at every one of
its >= 2 occurrences in the history is taken as closed. Those periods are left out of the fit and
forecast as zero; otherwise Prophet's additive weekly curve spends itself on the open/closed jump
and fits the open days badly. Only the history decides this, so it is fair in a backtest.
Irregular zero days (a closure on a weekday that is usually open) stay in the fit; pass them as
holidays to let Prophet learn and forecast their effect.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from slotoptim.ml.forecast.series import STEP, DemandSeries

TWO_YEARS_DAYS = 730


def quiet_prophet_logging() -> None:
    """cmdstanpy logs every fit at INFO and prophet warns about plotly at import; neither helps a CLI user."""
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR)
        logger.propagate = False
    logging.getLogger("prophet.plot").disabled = True
    logging.getLogger("cmdstanpy").disabled = True


def prophet_forecast(history: DemandSeries, horizon: int, holidays: Sequence[date] = ()) -> npt.NDArray[np.float64]:
    quiet_prophet_logging()
    import pandas as pd
    from prophet import Prophet

    span_days = (history.periods[-1] - history.periods[0]).astype("timedelta64[D]").astype(np.int64)
    future_periods = _future_periods(history, horizon)
    closed_slots = regularly_closed_slots(history)
    open_history = ~np.isin(_slot_of_week(history.periods, history), closed_slots)
    model = Prophet(
        weekly_seasonality=history.frequency in ("hourly", "daily"),
        daily_seasonality=history.frequency == "hourly",
        yearly_seasonality=bool(span_days >= TWO_YEARS_DAYS),
        holidays=_holiday_frame(pd, history, holidays),
        # Point forecasts only: skipping the uncertainty simulation makes predict() ~10x faster.
        uncertainty_samples=0,
    )
    frame = pd.DataFrame({"ds": pd.to_datetime(history.periods[open_history]), "y": history.counts[open_history]})
    future = pd.DataFrame({"ds": pd.to_datetime(future_periods)})
    with warnings.catch_warnings():
        # Prophet 1.x still uses pandas' deprecated inplace= arguments; one warning per fit buries the progress.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="prophet")
        model.fit(frame)
        predicted = np.maximum(np.asarray(model.predict(future)["yhat"].to_numpy(), dtype=np.float64), 0.0)
    predicted[np.isin(_slot_of_week(future_periods, history), closed_slots)] = 0.0
    return predicted


def regularly_closed_slots(history: DemandSeries) -> npt.NDArray[np.int64]:
    """Slots of the week (weekday, or hour of the week) with zero demand at each of >= 2 occurrences."""
    if history.frequency == "weekly":
        return np.array([], dtype=np.int64)
    slots = _slot_of_week(history.periods, history)
    occurrences = np.bincount(slots, minlength=_SLOTS[history.frequency])
    demand = np.bincount(slots, weights=history.counts, minlength=_SLOTS[history.frequency])
    return np.flatnonzero((occurrences >= 2) & (demand == 0)).astype(np.int64)


_SLOTS = {"hourly": 168, "daily": 7, "weekly": 1}


def _slot_of_week(periods: npt.NDArray[np.datetime64], history: DemandSeries) -> npt.NDArray[np.int64]:
    if history.frequency == "weekly":
        return np.zeros(len(periods), dtype=np.int64)
    hours = periods.astype("datetime64[h]").astype(np.int64)
    # 1970-01-01 was a Thursday: shift so that slot 0 is Monday (00:00 for hourly series).
    weekday = (hours // 24 + 3) % 7
    return (weekday * 24 + hours % 24 if history.frequency == "hourly" else weekday).astype(np.int64)


def _future_periods(history: DemandSeries, horizon: int) -> npt.NDArray[np.datetime64]:
    future: npt.NDArray[np.datetime64] = history.periods[-1] + STEP[history.frequency] * np.arange(1, horizon + 1)
    return future


def _holiday_frame(pd: Any, history: DemandSeries, holidays: Sequence[date]) -> Any:
    if not holidays:
        return None
    days = np.array(sorted(set(holidays)), dtype="datetime64[D]")
    if history.frequency == "weekly":
        # A weekly series has one row per Monday: mark the week that contains the holiday.
        days = np.unique(days - ((days.astype(np.int64) + 3) % 7).astype("timedelta64[D]"))
    return pd.DataFrame({"holiday": "holiday", "ds": pd.to_datetime(days), "lower_window": 0, "upper_window": 0})
