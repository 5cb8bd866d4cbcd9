"""Replicated weeks of a clinic under several templates, on common random numbers, with 95 % CIs.

A replication simulates every provider-day once. Day metrics pool the providers of that weekday:
mean and 90th-percentile wait of scheduled patients, utilisation (attended / available minutes) and
overtime (minutes after closing, summed over providers) and scheduled patients seen. Replication
metrics average the days.
Replications are independent, so the CIs are Student-t over replications; differences between
templates are paired by replication, which is where common random numbers pay off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from slotoptim.ml.simulate.clinic import simulate_day
from slotoptim.ml.simulate.clinic_model import DayOutcome, ProviderDay, SimulationSettings
from slotoptim.ml.simulate.durations import DurationSampler
from slotoptim.ml.simulate.random_streams import DayStreams
from slotoptim.ml.simulate.stats import Estimate, estimate

METRICS = ("mean_wait", "p90_wait", "utilisation", "overtime", "patients_seen")
METRIC_LABELS = {
    "mean_wait": "mean wait (min)",
    "p90_wait": "p90 wait (min)",
    "utilisation": "utilisation",
    "overtime": "overtime/day (min)",
    "patients_seen": "patients seen/day",
}


@dataclass(frozen=True)
class DayMetrics:
    weekday: str
    mean_wait: float
    p90_wait: float
    utilisation: float
    overtime: float
    patients_seen: float


@dataclass(frozen=True)
class Replication:
    days: tuple[DayMetrics, ...]
    waits: tuple[float, ...]

    def metric(self, name: str) -> float:
        return float(np.mean([getattr(day, name) for day in self.days]))


def simulate_replications(
    days: Sequence[ProviderDay], sampler: DurationSampler, settings: SimulationSettings, *, replications: int, seed: int
) -> list[Replication]:
    weekdays = list(dict.fromkeys(day.weekday for day in days))
    runs = []
    for replication in range(replications):
        outcomes: dict[str, list[DayOutcome]] = {weekday: [] for weekday in weekdays}
        for day in days:
            streams = DayStreams(seed, replication, day.provider, day.weekday)
            outcomes[day.weekday].append(simulate_day(day, sampler, settings, streams))
        metrics = tuple(_day_metrics(weekday, outcomes[weekday]) for weekday in weekdays)
        waits = tuple(w for weekday in weekdays for outcome in outcomes[weekday] for w in outcome.waits)
        runs.append(Replication(metrics, waits))
    return runs


def _day_metrics(weekday: str, outcomes: list[DayOutcome]) -> DayMetrics:
    waits = [w for outcome in outcomes for w in outcome.waits]
    available = sum(o.available_minutes for o in outcomes)
    return DayMetrics(
        weekday=weekday,
        mean_wait=float(np.mean(waits)) if waits else 0.0,
        p90_wait=float(np.percentile(waits, 90)) if waits else 0.0,
        utilisation=sum(o.attended_minutes for o in outcomes) / available if available else 0.0,
        overtime=sum(o.overtime_minutes for o in outcomes),
        patients_seen=float(len(waits)),
    )


@dataclass(frozen=True)
class Comparison:
    """Templates simulated on the same random numbers; the first is the reference ("current")."""

    names: tuple[str, ...]
    runs: tuple[tuple[Replication, ...], ...]

    def estimate(self, name: str, metric: str) -> Estimate:
        return estimate([run.metric(metric) for run in self.runs[self.names.index(name)]])

    def difference(self, name: str, metric: str, against: str | None = None) -> Estimate:
        """``name`` minus ``against`` (the reference by default), paired by replication."""
        reference = self.runs[self.names.index(against)] if against else self.runs[0]
        other = self.runs[self.names.index(name)]
        return estimate([b.metric(metric) - a.metric(metric) for a, b in zip(reference, other, strict=True)])

    def weekday_estimate(self, name: str, weekday: str, metric: str) -> Estimate:
        runs = self.runs[self.names.index(name)]
        return estimate([getattr(d, metric) for run in runs for d in run.days if d.weekday == weekday])

    @property
    def weekdays(self) -> tuple[str, ...]:
        return tuple(day.weekday for day in self.runs[0][0].days) if self.runs and self.runs[0] else ()

    def to_plain(self) -> dict[str, Any]:
        reference = self.names[0]
        return {
            "replications": len(self.runs[0]),
            "reference": reference,
            "metrics": {
                metric: {
                    **{name: self.estimate(name, metric).to_plain() for name in self.names},
                    **{f"{name} - {reference}": self.difference(name, metric).to_plain() for name in self.names[1:]},
                }
                for metric in METRICS
            },
            "by_weekday": {
                weekday: {
                    name: {metric: self.weekday_estimate(name, weekday, metric).to_plain() for metric in METRICS}
                    for name in self.names
                }
                for weekday in self.weekdays
            },
        }

    def to_table(self) -> str:
        reference = self.names[0]
        columns = [*self.names, *(f"{n} - {reference}" for n in self.names[1:])]
        width = max(24, *(len(c) + 2 for c in columns))
        lines = [f"{'metric (95% CI)':<20}" + "".join(f"{c:>{width}}" for c in columns)]
        for metric in METRICS:
            cells = [self.estimate(name, metric) for name in self.names]
            cells += [self.difference(name, metric) for name in self.names[1:]]
            lines.append(f"{METRIC_LABELS[metric]:<20}" + "".join(f"{_interval(c, metric):>{width}}" for c in cells))
        lines.append("")
        lines.append(
            "mean wait by weekday (min): "
            + "  ".join(
                f"{w} " + "/".join(f"{self.weekday_estimate(n, w, 'mean_wait').mean:.1f}" for n in self.names)
                for w in self.weekdays
            )
            + f"   ({' / '.join(self.names)})"
        )
        return "\n".join(lines)


def compare(
    named_days: Sequence[tuple[str, Sequence[ProviderDay]]],
    sampler: DurationSampler,
    settings: SimulationSettings,
    *,
    replications: int,
    seed: int,
) -> Comparison:
    runs = tuple(
        tuple(simulate_replications(days, sampler, settings, replications=replications, seed=seed))
        for _, days in named_days
    )
    return Comparison(tuple(name for name, _ in named_days), runs)


def _interval(value: Estimate, metric: str) -> str:
    if metric == "utilisation":
        return f"{100 * value.mean:.1f}% [{100 * value.low:.1f}, {100 * value.high:.1f}]"
    return f"{value.mean:.2f} [{value.low:.2f}, {value.high:.2f}]"
