"""Consultation durations drawn from real data: shared/data/hangu/Data.csv (column ServTime, seconds).

The 6,600-odd times of one outpatient physician give the *shape* of a duration distribution (right
skew, coefficient of variation about 0.47). Each visit type borrows that shape: a draw is
mean_v * (1 + a_v * (r - 1)), where r is a bootstrapped time divided by the data's mean and a_v
rescales the spread to the visit type's own coefficient of variation times a sensitivity multiplier.
Draws are floored at a tenth of the mean (a visit is never instantaneous) and the whole transformed
sample is rescaled to keep the mean exact.

The data are CC BY-NC-SA: they are read where they lie (SLOTOPTIM_SHARED_DATA, default
<repository>/../shared/data), never copied into the repository.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from slotoptim.ml.optimize.service import DiscreteService

FloatArray = NDArray[np.float64]
SHARED_DATA_ENV = "SLOTOPTIM_SHARED_DATA"
HANGU_FILE = Path("hangu") / "Data.csv"
# Shortest visit as a fraction of its mean: flooring keeps a large spread multiplier from producing
# zero or negative durations.
MIN_FRACTION_OF_MEAN = 0.1


class DurationDataError(RuntimeError):
    """The duration file is missing or has no usable ServTime values."""


def shared_data_dir() -> Path:
    configured = os.environ.get(SHARED_DATA_ENV)
    if configured:
        return Path(configured)
    # ml/simulate/durations.py -> the repository root is two levels up (symlinks resolved).
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def default_duration_file() -> Path:
    return shared_data_dir() / HANGU_FILE


def load_service_minutes(path: Path | None = None) -> FloatArray:
    """ServTime column in minutes."""
    path = path or default_duration_file()
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or "ServTime" not in reader.fieldnames:
                raise DurationDataError(f"{path} has no ServTime column")
            seconds = [float(row["ServTime"]) for row in reader if row["ServTime"] not in ("", "NA")]
    except OSError as error:
        raise DurationDataError(f"cannot read {path}: {error.strerror}; set {SHARED_DATA_ENV}") from None
    except ValueError as error:
        raise DurationDataError(f"{path}: ServTime is not numeric ({error})") from None
    minutes = np.array(seconds) / 60.0
    minutes = minutes[minutes > 0]
    if len(minutes) < 2:
        raise DurationDataError(f"{path} has fewer than two positive ServTime values")
    return minutes


@dataclass(frozen=True)
class DurationShape:
    """Durations divided by their mean: a unit-mean sample to bootstrap from."""

    ratios: FloatArray

    @classmethod
    def from_minutes(cls, minutes: FloatArray) -> DurationShape:
        return cls(np.asarray(minutes / minutes.mean(), dtype=np.float64))

    @property
    def coefficient_of_variation(self) -> float:
        return float(self.ratios.std())

    def scaled(self, mean_minutes: float, std_minutes: float, cv_multiplier: float = 1.0) -> FloatArray:
        """The whole sample transformed to the visit type's mean and (multiplied) spread."""
        target_cv = std_minutes / mean_minutes * cv_multiplier
        stretch = target_cv / self.coefficient_of_variation
        transformed = np.maximum(1.0 + stretch * (self.ratios - 1.0), MIN_FRACTION_OF_MEAN)
        result: FloatArray = mean_minutes * transformed / transformed.mean()
        return result


class DurationSampler:
    """Bootstrap draws per visit type, driven by the caller's uniforms (common random numbers)."""

    def __init__(self, shape: DurationShape, visit_spread: dict[str, tuple[float, float]], cv_multiplier: float = 1.0):
        self._samples = {
            name: np.sort(shape.scaled(mean, std, cv_multiplier)) for name, (mean, std) in visit_spread.items()
        }

    @property
    def visit_types(self) -> tuple[str, ...]:
        return tuple(self._samples)

    def draw(self, visit: str, uniform: float) -> float:
        # Sorted samples indexed by the uniform: a monotone map, so the same uniform gives a long visit
        # under both templates being compared.
        sample = self._samples[visit]
        return float(sample[min(int(uniform * len(sample)), len(sample) - 1)])

    def mean(self, visit: str) -> float:
        return float(self._samples[visit].mean())


def empirical_service(
    shape: DurationShape, mean_minutes: float, std_minutes: float, cv_multiplier: float = 1.0, unit: float = 1.0
) -> DiscreteService:
    """The scaled sample as a pmf on a ``unit``-minute grid, for the exact session evaluator."""
    minutes = np.maximum(np.round(shape.scaled(mean_minutes, std_minutes, cv_multiplier) / unit), 1) * unit
    values, counts = np.unique(minutes, return_counts=True)
    probabilities = counts / counts.sum()
    # Make the probabilities sum to exactly 1 in floating point, as the pmf check requires.
    probabilities[-1] = 1.0 - probabilities[:-1].sum()
    return DiscreteService(tuple(float(v) for v in values), tuple(float(p) for p in probabilities))
