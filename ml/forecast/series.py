"""Demand series on a regular calendar grid (hourly, daily or weekly counts).

Inputs are a pandas Series indexed by timestamps or a plain iterable of (date or datetime, count).
Periods missing between the first and last observation are filled with zero: for appointment
counts, a day without appointments is a day with zero demand (a closed clinic), not an unknown.
Callers who know a day was a data gap rather than a closure should pass it as a holiday.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Frequency = Literal["hourly", "daily", "weekly"]
STEP: dict[Frequency, np.timedelta64] = {
    "hourly": np.timedelta64(1, "h"),
    "daily": np.timedelta64(1, "D"),
    "weekly": np.timedelta64(7, "D"),
}
# Seasonal period m: same hour last week, same weekday last week, same week last year.
SEASONAL_PERIOD: dict[Frequency, int] = {"hourly": 168, "daily": 7, "weekly": 52}


class SeriesInputError(ValueError):
    """The demand data cannot form a series (empty, unparseable date, negative count...)."""


@dataclass(frozen=True)
class DemandSeries:
    # Period starts: hours, days, or Mondays for weekly series.
    periods: npt.NDArray[np.datetime64]
    counts: npt.NDArray[np.float64]
    frequency: Frequency

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def seasonal_period(self) -> int:
        return SEASONAL_PERIOD[self.frequency]

    def head(self, length: int) -> DemandSeries:
        return DemandSeries(self.periods[:length], self.counts[:length], self.frequency)

    def window(self, start: int, stop: int) -> DemandSeries:
        return DemandSeries(self.periods[start:stop], self.counts[start:stop], self.frequency)


def demand_series(points: Any, frequency: Frequency = "daily") -> DemandSeries:
    """Sum counts into periods of `frequency`, fill missing periods with 0.

    `points`: a pandas Series (timestamp index, numeric values) or an iterable of (when, count).
    """
    when, counts = _unzip(points)
    if len(when) == 0:
        raise SeriesInputError("no demand observations")
    if np.any(~np.isfinite(counts)) or np.any(counts < 0):
        raise SeriesInputError("counts must be finite and non-negative")
    stamps = _period_starts(when, frequency)
    step = STEP[frequency]
    grid = np.arange(stamps.min(), stamps.max() + step, step)
    totals = np.zeros(len(grid), dtype=np.float64)
    np.add.at(totals, ((stamps - grid[0]) // step).astype(np.int64), counts)
    return DemandSeries(grid, totals, frequency)


def weekly_from_daily(daily: DemandSeries) -> DemandSeries:
    """Monday-to-Sunday totals; weeks the daily series covers only in part are dropped (they would look low)."""
    if daily.frequency != "daily":
        raise SeriesInputError(f"weekly_from_daily needs a daily series, got {daily.frequency}")
    weekdays = (daily.periods.astype(np.int64) + 3) % 7
    first_monday = int(np.argmax(weekdays == 0)) if np.any(weekdays == 0) else len(daily)
    whole_weeks = (len(daily) - first_monday) // 7
    if whole_weeks == 0:
        raise SeriesInputError("the daily series does not cover one whole Monday-Sunday week")
    block = daily.counts[first_monday : first_monday + 7 * whole_weeks].reshape(whole_weeks, 7)
    mondays = daily.periods[first_monday : first_monday + 7 * whole_weeks : 7]
    return DemandSeries(mondays, block.sum(axis=1), "weekly")


def _unzip(points: Any) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.float64]]:
    if hasattr(points, "index") and hasattr(points, "to_numpy"):
        # pandas Series: read through numpy so pandas need not be imported here.
        pairs: Iterable[tuple[Any, Any]] = zip(points.index, points.to_numpy(), strict=True)
    else:
        pairs = points
    when: list[datetime] = []
    counts: list[float] = []
    for position, pair in enumerate(pairs):
        try:
            stamp, count = pair
            when.append(_as_datetime(stamp))
            counts.append(float(count))
        except (TypeError, ValueError) as error:
            raise SeriesInputError(f"observation {position}: expected (date, count), got {pair!r} ({error})") from None
    stamps = np.array(when, dtype="datetime64[s]")
    if np.any(np.isnat(stamps)):
        raise SeriesInputError(f"observation {int(np.argmax(np.isnat(stamps)))}: missing date")
    return stamps, np.array(counts, dtype=np.float64)


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ValueError("missing date")
        value = str(value.astype("datetime64[s]"))
    if isinstance(value, str):
        value = datetime.fromisoformat(value.removesuffix("Z"))
    if isinstance(value, datetime):
        # pandas Timestamps are datetimes; drop any zone, counts are in clinic-local time.
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)  # noqa: DTZ001 - clinic-local, like every stamp here
    raise TypeError(f"not a date: {value!r}")


def _period_starts(when: npt.NDArray[np.datetime64], frequency: Frequency) -> npt.NDArray[np.datetime64]:
    if frequency == "hourly":
        return when.astype("datetime64[h]")
    days = when.astype("datetime64[D]")
    if frequency == "daily":
        return days
    weekday = (days.astype(np.int64) + 3) % 7
    mondays: npt.NDArray[np.datetime64] = days - weekday.astype("timedelta64[D]")
    return mondays
