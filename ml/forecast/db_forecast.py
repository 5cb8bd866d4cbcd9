"""`slotoptim ml forecast` against the database: backtest, forecast and store a practice's demand.

Per provider, and per provider and service, a daily series of appointments (db_history.py) is
forecast `days` ahead from `at`'s local date:
- Prophet (weekly seasonality; the provider's whole-day closures as holidays; weekdays that were
  closed all along forecast as zero) when the history holds at least PROPHET_MIN_DAYS days,
- else the seasonal-naive value (same weekday last week) with at least one week,
- else nothing, and the summary says the history is too short.
Forecast days the provider is closed are set to zero.
Hourly rows (for slotoptim.demand_heatmap) split each provider's daily forecast over the hours of
the day in the proportions of its history on that weekday (top-down). Prophet's daily seasonality
would need an hourly series, and at one or two appointments per provider-hour the counts are too
small for it to beat the stable intra-day shape a clinic's opening hours impose; the split keeps
the hours summing to the day.

The backtest (rolling origins, MASE and MAPE for Prophet and seasonal-naive, backtest.py) runs on
the organisation's total and on each provider's series; a series too short for it gets its reason
instead of numbers. The forecast replaces the organisation's rows in demand_forecast and the run is
recorded as a 'forecast' model version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import psycopg

from slotoptim.ml.forecast.backtest import Forecaster, Progress, backtest
from slotoptim.ml.forecast.db_history import PracticeDemand, read_demand
from slotoptim.ml.forecast.series import DemandSeries, SeriesInputError, weekly_from_daily
from slotoptim.ml.noshow.model_versions import save_version
from slotoptim.ml.noshow.organisations import Organisation

Method = Literal["prophet", "seasonal_naive"]
PROPHET_MIN_DAYS = 28
NAIVE_MIN_DAYS = 7


@dataclass(frozen=True)
class BacktestOptions:
    frequency: Literal["daily", "weekly"] = "daily"
    horizon: int = 7
    initial: int = 28
    step: int = 7
    max_origins: int | None = 6


def forecasters(method: Method) -> dict[str, Forecaster]:
    from slotoptim.ml.forecast.prophet_model import prophet_forecast
    from slotoptim.ml.forecast.seasonal_naive import seasonal_naive_forecast

    chosen: dict[str, Forecaster] = {"seasonal_naive": seasonal_naive_forecast}
    if method == "prophet":
        chosen = {"prophet": prophet_forecast, **chosen}
    return chosen


def forecast_demand(
    conn: psycopg.Connection[Any],
    org: Organisation,
    at: dt.datetime,
    *,
    days: int = 14,
    method: Method = "prophet",
    backtest_options: BacktestOptions | None = None,
    store: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    say = progress or (lambda _message: None)
    demand = read_demand(conn, org, at)
    summary: dict[str, Any] = {
        "organisation": org.key,
        "history": {
            "first_day": None if demand.first_day is None else demand.first_day.isoformat(),
            "last_day": (demand.today - dt.timedelta(days=1)).isoformat(),
            "days": demand.history_days,
        },
        "holidays": [d.isoformat() for d in sorted(demand.org_holidays)],
    }
    say(f"{org.key}: {demand.history_days} days of history before {demand.today}")
    if backtest_options is not None:
        summary["backtest"] = _backtests(demand, backtest_options, method, say)
    chosen = _method_for(demand.history_days, method)
    if chosen is None:
        summary["forecast"] = {
            "stored": False,
            "note": f"history too short: {demand.history_days} days, a forecast needs at least {NAIVE_MIN_DAYS}",
        }
        return summary
    say(f"forecasting {days} days with {chosen}")
    rows = _forecast_rows(demand, days, chosen)
    summary["forecast"] = {
        "method": chosen,
        "first_day": demand.today.isoformat(),
        "days": days,
        "rows": len(rows),
        "stored": store,
        "per_provider": _per_provider(demand, rows),
    }
    if chosen != method:
        summary["forecast"]["note"] = (
            f"{demand.history_days} days of history: Prophet needs {PROPHET_MIN_DAYS},"
            " the seasonal-naive forecast is used"
        )
    if store:
        with conn.transaction():
            version = save_version(conn, org.id, "forecast", at, {"source": "appointments", **summary})
            conn.execute("delete from slotoptim_private.demand_forecast where org_id = %s", (org.id,))
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into slotoptim_private.demand_forecast"
                    " (org_id, provider_id, service_id, day, hour, expected, method, generated_at, model_version)"
                    " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(org.id, p, s, d, h, round(v, 3), chosen, at, version) for p, s, d, h, v in rows],
                )
        summary["version"] = version
    return summary


def _method_for(history_days: int, wanted: Method) -> Method | None:
    if wanted == "prophet" and history_days >= PROPHET_MIN_DAYS:
        return "prophet"
    return "seasonal_naive" if history_days >= NAIVE_MIN_DAYS else None


Row = tuple[int, int | None, dt.date, int | None, float]


def _forecast_rows(demand: PracticeDemand, days: int, method: Method) -> list[Row]:
    forecaster = forecasters(method)[method]
    future = [demand.today + dt.timedelta(days=i) for i in range(days)]
    rows: list[Row] = []
    for provider in demand.providers:
        closed = demand.holidays_of(provider)
        series_keys: list[int | None] = [None, *sorted(s for p, s in demand.daily if p == provider)]
        if not demand.daily or all(p != provider for p, _ in demand.daily):
            continue
        for service in series_keys:
            values = _predict(forecaster, demand.series(provider, service), days, closed, future)
            rows += [(provider, service, d, None, float(v)) for d, v in zip(future, values, strict=True)]
            if service is None:
                rows += _hourly(demand, provider, future, values)
    return rows


def _predict(
    forecaster: Callable[..., npt.NDArray[np.float64]],
    series: DemandSeries,
    days: int,
    closed: list[dt.date],
    future: list[dt.date],
) -> npt.NDArray[np.float64]:
    values = np.maximum(np.asarray(forecaster(series, days, closed), dtype=np.float64), 0.0)
    shut = set(closed)
    return np.array([0.0 if d in shut else v for d, v in zip(future, values, strict=True)])


def _hourly(demand: PracticeDemand, provider: int, future: list[dt.date], values: npt.NDArray[np.float64]) -> list[Row]:
    profile = demand.hour_profile.get(provider, {})
    rows: list[Row] = []
    for day, total in zip(future, values, strict=True):
        hours = {h: n for (w, h), n in profile.items() if w == day.weekday()}
        weight = sum(hours.values())
        if weight == 0:
            continue
        rows += [(provider, None, day, h, float(total) * n / weight) for h, n in sorted(hours.items())]
    return rows


def _per_provider(demand: PracticeDemand, rows: list[Row]) -> list[dict[str, Any]]:
    out = []
    for provider, key in demand.providers.items():
        daily = [v for p, s, _, h, v in rows if p == provider and s is None and h is None]
        if daily:
            out.append({"provider": key, "expected_total": round(sum(daily), 1), "days": len(daily)})
    return out


def _backtests(demand: PracticeDemand, options: BacktestOptions, method: Method, say: Progress) -> list[dict[str, Any]]:
    if demand.first_day is None:
        return [{"series": "total", "error": "no appointment history"}]
    targets: list[tuple[str, int | None]] = [("total", None)]
    targets += [(key, pid) for pid, key in demand.providers.items() if any(p == pid for p, _ in demand.daily)]
    results = []
    for name, provider in targets:
        series = demand.series(provider)
        holidays = demand.holidays_of(provider) if provider is not None else sorted(demand.org_holidays)
        try:
            if options.frequency == "weekly":
                series = weekly_from_daily(series)
            say(f"backtest {name}: {len(series)} {series.frequency} periods")
            result = backtest(
                series,
                forecasters(method),
                horizon=options.horizon,
                initial=options.initial,
                step=options.step,
                holidays=holidays,
                max_origins=options.max_origins,
                progress=say,
            )
        except (SeriesInputError, ValueError) as error:
            results.append({"series": name, "error": f"history too short for this backtest: {error}"})
            continue
        data = result.to_json()
        data.pop("scores")
        results.append({"series": name, **data})
    return results
