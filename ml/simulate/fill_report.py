"""The strategy comparison as a table and as a chart (PNG and SVG)."""

from __future__ import annotations

import math
from pathlib import Path

from slotoptim.ml.simulate.fill import FillComparison
from slotoptim.ml.simulate.fill_metrics import StrategyResult
from slotoptim.ml.simulate.plots import _pyplot, _save

PRD_TARGET_PCT = 12.0

COLUMNS = (
    ("strategy", "{}"),
    ("fill<=60m", "{:.1%}"),
    ("fill", "{:.1%}"),
    ("same-day", "{:.1%}"),
    ("median m", "{}"),
    ("p90 m", "{}"),
    ("offers", "{}"),
    ("per fill", "{}"),
    ("messaged", "{}"),
    ("late yes", "{}"),
    ("'filled' msgs", "{}"),
    ("recovered h", "{:.1f}"),
    ("util gain", "{:+.1f}%"),
)


def _row(result: StrategyResult) -> list[str]:
    def minutes(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    values: list[object] = [
        result.strategy,
        result.fill_rate_60,
        result.fill_rate,
        result.same_day_fill_rate,
        minutes(result.median_minutes_to_fill),
        minutes(result.p90_minutes_to_fill),
        result.offers_sent,
        "-" if result.offers_per_fill is None else f"{result.offers_per_fill:.1f}",
        result.customers_contacted,
        result.late_claims,
        result.filled_notices,
        result.recovered_minutes / 60.0,
        result.utilisation_gain_pct,
    ]
    return [fmt.format(value) for (_, fmt), value in zip(COLUMNS, values, strict=True)]


def render_table(comparison: FillComparison) -> str:
    plain = comparison.to_plain()["scenario"]
    lines = [
        f"Fill strategies on the real engine: {plain['practice']} (SYNTHETIC demo practice),"
        f" {plain['weeks']} weeks from {plain['start'][:10]}, seed {plain['seed']}",
        f"{plain['appointments']} appointments, {plain['cancellations']} cancellations"
        f" ({plain['same_day_cancellations']} less than 24 h ahead), {plain['waitlist_entries']} waitlist entries",
        "",
    ]
    rows = [[name for name, _ in COLUMNS], *(_row(r) for r in comparison.results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for index, row in enumerate(rows):
        cells = [cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += [
        "",
        "fill<=60m, fill: cancellations re-booked from the waitlist within 60 minutes / at all; same-day: of those"
        " cancelled <24 h ahead",
        "median m, p90 m: minutes from cancellation to re-booking; offers: offer messages sent (manual: calls),"
        " per fill: per waitlist booking",
        "messaged: customers contacted; late yes: yes after the slot was taken; 'filled' msgs: withdrawal notices",
        f"util gain: waitlist-booked minutes / minutes that stayed booked (PRD target +{PRD_TARGET_PCT:.0f} %)",
    ]
    for result in comparison.results:
        if result.staff_phone_minutes is not None:
            hours = result.staff_phone_minutes / 60
            lines.append(f"{result.strategy}: {result.offers_sent} calls, {hours:.1f} hours on the phone")
    return "\n".join(lines)


def plot_fill(comparison: FillComparison, path: Path) -> list[Path]:
    """Two panels: share of cancellations filled against minutes since they happened, and the gains."""
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.4, 1]})
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    horizon = max([1.0, *(t for r in comparison.results for t in r.minutes_to_fill)])
    for colour, result in zip(colours, comparison.results, strict=False):
        xs = [0.5, *result.minutes_to_fill, horizon * 1.5]
        ys = [0.0, *((i + 1) / result.cancellations for i in range(len(result.minutes_to_fill)))]
        ys.append(ys[-1])
        left.step([max(x, 0.5) for x in xs], ys, where="post", color=colour, label=result.strategy)
    left.axvline(60, color="grey", linestyle=":", linewidth=1)
    left.set_xscale("log")
    left.set_xlim(0.5, horizon * 1.5)
    left.set_ylim(0, 1)
    left.set_xlabel("minutes since the cancellation (log scale)")
    left.set_ylabel("share of cancellations re-booked")
    left.legend(fontsize=8, loc="upper left")
    left.set_title("How fast cancelled time is re-booked", fontsize=10)

    names = [r.strategy for r in comparison.results]
    gains = [r.utilisation_gain_pct for r in comparison.results]
    bars = right.barh(names, gains, color=colours[: len(names)])
    right.axvline(PRD_TARGET_PCT, color="grey", linestyle="--", linewidth=1, label=f"PRD target +{PRD_TARGET_PCT:g} %")
    for bar, result in zip(bars, comparison.results, strict=True):
        per_fill = "-" if result.offers_per_fill is None else f"{result.offers_per_fill:.1f}"
        right.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f"  {per_fill} offers/fill, {result.late_claims} late yes",
            va="center",
            fontsize=8,
        )
    right.set_xlim(0, max([PRD_TARGET_PCT, *gains]) * 1.9 if gains and not math.isnan(max(gains)) else 20)
    right.invert_yaxis()
    right.set_xlabel("utilisation gain: billable minutes recovered, % of booked")
    right.legend(fontsize=8, loc="lower right")
    right.set_title("What it wins back, and at what cost", fontsize=10)
    plain = comparison.to_plain()["scenario"]
    figure.suptitle(
        f"Fill strategies, demo practice (synthetic), {plain['weeks']} weeks, {plain['cancellations']} cancellations,"
        f" seed {plain['seed']}",
        fontsize=10,
    )
    figure.tight_layout()
    stem = path.name[: -len(path.suffix)] if path.suffix in (".png", ".svg") else path.name
    return _save(figure, path.parent, stem)
