"""Means with 95 % confidence intervals over independent replications (Student t)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Estimate:
    mean: float
    half_width: float
    """Half the width of the 95 % confidence interval; 0 with fewer than two replications."""

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def to_plain(self) -> dict[str, float]:
        return {"mean": self.mean, "ci95_low": self.low, "ci95_high": self.high}


def estimate(values: Sequence[float]) -> Estimate:
    count = len(values)
    if count == 0:
        return Estimate(math.nan, math.nan)
    mean = math.fsum(values) / count
    if count < 2:
        return Estimate(mean, 0.0)
    from scipy.stats import t

    variance = math.fsum((v - mean) ** 2 for v in values) / (count - 1)
    return Estimate(mean, float(t.ppf(0.975, count - 1)) * math.sqrt(variance / count))
