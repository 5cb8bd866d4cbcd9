"""Rolling-origin backtest: forecast from several cut-off points, score each against what happened.

At each origin T the forecaster sees periods [0, T) only and predicts [T, T + horizon). Origins step
back from the last one that still has a full horizon, `step` periods apart, and never start before
`initial` periods of history. Per method: MASE is averaged over origins (each origin scaled by its own
history's seasonal-naive error); MAPE is pooled over all scored points with non-zero actual demand.
`mase_open_days` is the same MASE with zero-demand periods left out of the numerator: closures that
no model saw coming dominate plain MASE on short clinic series, and this shows the error on days
the clinic actually worked. It is our addition, not a standard measure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from slotoptim.ml.forecast.accuracy import mape, mase
from slotoptim.ml.forecast.series import DemandSeries, SeriesInputError

Forecaster = Callable[[DemandSeries, int, Sequence[date]], npt.NDArray[np.float64]]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class OriginScore:
    method: str
    origin: str
    mase: float
    mase_open_days: float
    mae: float
    actual: list[float]
    forecast: list[float]


@dataclass(frozen=True)
class MethodSummary:
    method: str
    mase: float
    mase_origins: int
    mase_open_days: float
    mae: float
    mape: float
    mape_points: int
    skipped_zero_points: int


@dataclass(frozen=True)
class BacktestResult:
    frequency: str
    seasonal_period: int
    periods: int
    first_period: str
    last_period: str
    horizon: int
    initial: int
    step: int
    origins: list[str]
    summaries: list[MethodSummary]
    scores: list[OriginScore]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        # JSON has no NaN; null says "undefined" (e.g. MAPE with only zero actuals).
        return _nan_to_none(data)  # type: ignore[no-any-return]


def rolling_origins(length: int, *, initial: int, horizon: int, step: int, max_origins: int | None = None) -> list[int]:
    if horizon < 1 or step < 1 or initial < 1:
        raise SeriesInputError("horizon, step and initial must be positive")
    origins = list(range(length - horizon, initial - 1, -step))[::-1]
    if not origins:
        raise SeriesInputError(
            f"the series has {length} periods; a backtest needs at least initial + horizon = {initial + horizon}"
        )
    return origins if max_origins is None else origins[-max_origins:]


def backtest(
    series: DemandSeries,
    forecasters: dict[str, Forecaster],
    *,
    horizon: int,
    initial: int,
    step: int,
    holidays: Sequence[date] = (),
    max_origins: int | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    period = series.seasonal_period
    if initial <= period:
        raise SeriesInputError(
            f"initial history must exceed one season ({period} {series.frequency} periods) to scale MASE; got {initial}"
        )
    origins = rolling_origins(len(series), initial=initial, horizon=horizon, step=step, max_origins=max_origins)
    scores: list[OriginScore] = []
    for number, origin in enumerate(origins, start=1):
        history = series.head(origin)
        actual = series.counts[origin : origin + horizon]
        open_days = actual > 0
        label = str(series.periods[origin])
        if progress is not None:
            progress(f"origin {number}/{len(origins)}: forecasting {horizon} periods from {label}")
        for method, forecaster in forecasters.items():
            forecast = np.asarray(forecaster(history, horizon, holidays), dtype=np.float64)
            scores.append(
                OriginScore(
                    method=method,
                    origin=label,
                    mase=mase(actual, forecast, history.counts, period),
                    mase_open_days=mase(actual[open_days], forecast[open_days], history.counts, period),
                    mae=float(np.mean(np.abs(actual - forecast))),
                    actual=actual.tolist(),
                    forecast=forecast.tolist(),
                )
            )
    return BacktestResult(
        frequency=series.frequency,
        seasonal_period=period,
        periods=len(series),
        first_period=str(series.periods[0]),
        last_period=str(series.periods[-1]),
        horizon=horizon,
        initial=initial,
        step=step,
        origins=[str(series.periods[o]) for o in origins],
        summaries=[_summarise(method, [s for s in scores if s.method == method]) for method in forecasters],
        scores=scores,
    )


def _summarise(method: str, scores: list[OriginScore]) -> MethodSummary:
    per_origin = np.array([s.mase for s in scores])
    defined = per_origin[np.isfinite(per_origin)]
    open_days = np.array([s.mase_open_days for s in scores])
    open_defined = open_days[np.isfinite(open_days)]
    actual = np.concatenate([s.actual for s in scores])
    forecast = np.concatenate([s.forecast for s in scores])
    percentage = mape(actual, forecast)
    return MethodSummary(
        method=method,
        mase=float(defined.mean()) if len(defined) else float("nan"),
        mase_origins=len(defined),
        mase_open_days=float(open_defined.mean()) if len(open_defined) else float("nan"),
        mae=float(np.mean(np.abs(actual - forecast))),
        mape=percentage.mape,
        mape_points=percentage.scored_points,
        skipped_zero_points=percentage.skipped_zero_points,
    )


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value
