"""Readable text rendering of a forecast backtest (the `--format table` output)."""

from __future__ import annotations

import math

from slotoptim.ml.forecast.backtest import BacktestResult


def format_backtest(result: BacktestResult, *, source: str, zero_weekdays: list[str]) -> str:
    lines = [
        f"{source}: {result.periods} {result.frequency} periods {result.first_period}..{result.last_period}",
        f"{len(result.origins)} rolling origins {result.origins[0]}..{result.origins[-1]},"
        f" horizon {result.horizon}, step {result.step}, initial history {result.initial}",
        f"MASE scale: in-sample seasonal-naive MAE, m = {result.seasonal_period}; MAPE skips zero-demand periods",
    ]
    if zero_weekdays:
        lines.append(f"weekdays with zero demand (closures or data gaps): {', '.join(zero_weekdays)}")
    lines += [
        "MASE open days: zero-demand periods left out of the error (not of the scale)",
        "",
        f"{'method':<16}{'MASE':>8}{'MASE open days':>16}{'MAE':>10}{'MAPE %':>9}{'scored':>8}{'zeros skipped':>15}",
    ]
    for s in result.summaries:
        lines.append(
            f"{s.method:<16}{_number(s.mase):>8}{_number(s.mase_open_days):>16}{_number(s.mae, 1):>10}"
            f"{_number(s.mape, 1):>9}{s.mape_points:>8}{s.skipped_zero_points:>15}"
        )
    return "\n".join(lines)


def _number(value: float, digits: int = 3) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"
