"""Calibration of raw model scores, fitted on a slice later in time than the model's training rows.

Platt (the default): p = 1 / (1 + exp(-(a * logit(score) + b))), two parameters fitted by maximum
likelihood (Newton's method). Isotonic: pool-adjacent-violators gives the non-decreasing step
function closest (least squares) to the outcomes; we interpolate linearly between its knots.
Platt is the default because on the Kaggle data, with a calibration slice of a few days (8-13k rows),
isotonic overfits it: on the inner validation split (fit < 2016-05-09, scored 2016-05-09..13) Brier
was raw 0.1507, isotonic 0.1510, Platt 0.1506, and the same order held on later weeks.
Both are stored as plain numbers so the database can apply them later without Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

CalibrationMethod = Literal["platt", "isotonic"]
# Keeps logit() finite for scores of exactly 0 or 1.
SCORE_CLIP = 1e-6
NEWTON_STEPS = 100


class Calibration(Protocol):
    def apply(self, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PlattCalibration:
    slope: float
    intercept: float

    def apply(self, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return _sigmoid(self.slope * _logit(scores) + self.intercept)

    def to_json(self) -> dict[str, Any]:
        return {"method": "platt", "slope": self.slope, "intercept": self.intercept}


IDENTITY = PlattCalibration(1.0, 0.0)


@dataclass(frozen=True)
class IsotonicCalibration:
    knots_x: tuple[float, ...]
    knots_y: tuple[float, ...]

    def apply(self, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.asarray(np.interp(scores, np.asarray(self.knots_x), np.asarray(self.knots_y)), dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        return {"method": "isotonic", "knots_x": list(self.knots_x), "knots_y": list(self.knots_y)}


def calibration_from_json(data: dict[str, Any]) -> Calibration:
    if data.get("method") == "platt":
        return PlattCalibration(float(data["slope"]), float(data["intercept"]))
    if data.get("method") == "isotonic":
        return IsotonicCalibration(tuple(float(x) for x in data["knots_x"]), tuple(float(y) for y in data["knots_y"]))
    raise ValueError(f"unknown calibration method {data.get('method')!r}")


def fit_calibration(
    scores: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_], method: CalibrationMethod = "platt"
) -> Calibration:
    return fit_platt(scores, labels) if method == "platt" else fit_isotonic(scores, labels)


def fit_platt(scores: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_]) -> PlattCalibration:
    if len(scores) == 0:
        raise ValueError("cannot calibrate on no rows")
    x = _logit(scores)
    y = labels.astype(np.float64)
    slope, intercept = 1.0, 0.0
    for _ in range(NEWTON_STEPS):
        p = _sigmoid(slope * x + intercept)
        gradient = np.array([np.sum((p - y) * x), np.sum(p - y)])
        w = p * (1 - p)
        # A tiny ridge keeps the Hessian invertible when all scores are equal.
        hessian = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        slope, intercept = slope - float(step[0]), intercept - float(step[1])
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return PlattCalibration(slope, intercept)


def fit_isotonic(scores: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_]) -> IsotonicCalibration:
    if len(scores) == 0:
        raise ValueError("cannot calibrate on no rows")
    unique_x, inverse = np.unique(scores, return_inverse=True)
    weights = np.bincount(inverse).astype(np.float64)
    sums = np.bincount(inverse, weights=labels.astype(np.float64))

    # Blocks of adjacent unique scores: first/last index, weight, label sum. Merge while levels decrease.
    firsts: list[int] = []
    lasts: list[int] = []
    block_weights: list[float] = []
    block_sums: list[float] = []
    for index in range(len(unique_x)):
        firsts.append(index)
        lasts.append(index)
        block_weights.append(float(weights[index]))
        block_sums.append(float(sums[index]))
        while len(firsts) > 1 and block_sums[-2] / block_weights[-2] >= block_sums[-1] / block_weights[-1]:
            firsts.pop()
            merged_last, merged_weight, merged_sum = lasts.pop(), block_weights.pop(), block_sums.pop()
            lasts[-1] = merged_last
            block_weights[-1] += merged_weight
            block_sums[-1] += merged_sum

    knots_x: list[float] = []
    knots_y: list[float] = []
    for first, last, weight, total in zip(firsts, lasts, block_weights, block_sums, strict=True):
        # Both ends of a flat block, so interpolation stays flat inside it.
        for position in sorted({first, last}):
            knots_x.append(float(unique_x[position]))
            knots_y.append(total / weight)
    return IsotonicCalibration(tuple(knots_x), tuple(knots_y))


def _logit(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    clipped = np.clip(scores, SCORE_CLIP, 1 - SCORE_CLIP)
    return np.asarray(np.log(clipped / (1 - clipped)), dtype=np.float64)


def _sigmoid(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-values)), dtype=np.float64)
