"""Readable text of `slotoptim ml forecast` in database mode (`--format table`)."""

from __future__ import annotations

from typing import Any


def format_forecast_summary(summary: dict[str, Any]) -> str:
    lines: list[str] = []
    for org in summary["organisations"]:
        lines.append(f"== {org['organisation']}")
        if "error" in org:
            lines.append(f"failed: {org['error']}")
            continue
        history = org["history"]
        lines.append(f"history: {history['days']} days, {history['first_day']} .. {history['last_day']}")
        for series in org.get("backtest", []):
            if "error" in series:
                lines.append(f"backtest {series['series']}: {series['error']}")
                continue
            lines.append(
                f"backtest {series['series']}: {len(series['origins'])} origins {series['origins'][0]}.."
                f"{series['origins'][-1]}, horizon {series['horizon']} {series['frequency']}"
            )
            lines.append(f"  {'method':<16}{'MASE':>8}{'MASE open':>11}{'MAPE %':>9}")
            for s in series["summaries"]:
                lines.append(
                    f"  {s['method']:<16}{_number(s['mase']):>8}{_number(s['mase_open_days']):>11}"
                    f"{_number(s['mape'], 1):>9}"
                )
        forecast = org["forecast"]
        if "note" in forecast:
            lines.append(f"forecast: {forecast['note']}")
        if forecast.get("method"):
            stored = "stored" if forecast["stored"] else "not stored"
            lines.append(
                f"forecast: {forecast['method']}, {forecast['days']} days from {forecast['first_day']} ({stored})"
            )
            for p in forecast["per_provider"]:
                lines.append(f"  {p['provider']:<16}{p['expected_total']:>8} appointments")
        lines.append("")
    return "\n".join(lines).rstrip()


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
