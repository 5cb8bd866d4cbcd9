"""Neighbourhood encoding fitted on the training fold only.

Target encoding: smoothed no-show rate per neighbourhood,
    rate(n) = (misses(n) + m * base_rate) / (rows(n) + m),
so a neighbourhood with few rows stays near the overall rate (m = `smoothing`, in rows). Also the
neighbourhood's share of training rows (frequency encoding). Neighbourhoods unseen in training get
the base rate and share 0. Fitting on the fold being scored would leak its labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from slotoptim.ml.noshow.table import AppointmentTable

DEFAULT_SMOOTHING_ROWS = 50.0


@dataclass(frozen=True)
class NeighbourhoodEncoding:
    base_rate: float
    smoothing: float
    rates: dict[str, float]
    shares: dict[str, float]

    def transform(self, neighbourhood: npt.NDArray[np.str_]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(smoothed no-show rate, share of training rows) for each value."""
        names, inverse = np.unique(neighbourhood, return_inverse=True)
        rates = np.array([self.rates.get(str(n), self.base_rate) for n in names], dtype=np.float64)
        shares = np.array([self.shares.get(str(n), 0.0) for n in names], dtype=np.float64)
        return rates[inverse], shares[inverse]

    def to_json(self) -> dict[str, Any]:
        return {"base_rate": self.base_rate, "smoothing": self.smoothing, "rates": self.rates, "shares": self.shares}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NeighbourhoodEncoding:
        return cls(
            base_rate=float(data["base_rate"]),
            smoothing=float(data["smoothing"]),
            rates={str(k): float(v) for k, v in data["rates"].items()},
            shares={str(k): float(v) for k, v in data["shares"].items()},
        )


def fit_neighbourhood_encoding(
    training: AppointmentTable, smoothing: float = DEFAULT_SMOOTHING_ROWS
) -> NeighbourhoodEncoding:
    if len(training) == 0:
        raise ValueError("cannot fit a neighbourhood encoding on no rows")
    base_rate = float(training.no_show.mean())
    names, inverse, counts = np.unique(training.neighbourhood, return_inverse=True, return_counts=True)
    misses = np.bincount(inverse, weights=training.no_show.astype(np.float64), minlength=len(names))
    rates = (misses + smoothing * base_rate) / (counts + smoothing)
    shares = counts / len(training)
    return NeighbourhoodEncoding(
        base_rate=base_rate,
        smoothing=smoothing,
        rates={str(n): float(r) for n, r in zip(names, rates, strict=True)},
        shares={str(n): float(s) for n, s in zip(names, shares, strict=True)},
    )
