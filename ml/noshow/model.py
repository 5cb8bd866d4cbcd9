"""The no-show model: gradient-boosted trees on booking-time features, calibrated on a later slice.

Training splits the training rows by appointment day: the earlier (1 - calibration_share) fits the
trees and the neighbourhood encoding, the later slice fits the calibration (Platt). Time order,
not random order, because the model will always score bookings after the ones it learned from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from slotoptim.ml.noshow.calibration import IDENTITY, Calibration, CalibrationMethod, fit_calibration
from slotoptim.ml.noshow.encoding import NeighbourhoodEncoding, fit_neighbourhood_encoding
from slotoptim.ml.noshow.features import FEATURE_NAMES, feature_matrix
from slotoptim.ml.noshow.table import AppointmentTable

if TYPE_CHECKING:
    import xgboost

DEFAULT_CALIBRATION_SHARE = 0.2
DEFAULT_ROUNDS = 200
# Shallow trees, a slow learning rate and few rounds: the signal is weak and more rounds overfit.
# Chosen on an inner time split (fit < 2016-05-09, validate 2016-05-09..13), never on the test weeks:
# depth 3-6 and 100-500 rounds all land within 0.01 AUC of each other there.
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "eta": 0.03,
    "max_depth": 4,
    "min_child_weight": 20,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "lambda": 5.0,
    "tree_method": "hist",
    "seed": 20160429,
    "nthread": 2,
}

Progress = Callable[[str], None]


class InsufficientDataError(ValueError):
    """The training data cannot support a fit (too few days, one outcome only)."""


@dataclass(frozen=True)
class TrainingWindow:
    fit_days: tuple[str, str]
    calibration_days: tuple[str, str]
    fit_rows: int
    calibration_rows: int

    def to_json(self) -> dict[str, Any]:
        return {
            "fit_days": list(self.fit_days),
            "calibration_days": list(self.calibration_days),
            "fit_rows": self.fit_rows,
            "calibration_rows": self.calibration_rows,
        }


@dataclass
class NoShowModel:
    booster: xgboost.Booster
    calibration: Calibration
    encoding: NeighbourhoodEncoding
    window: TrainingWindow
    feature_names: tuple[str, ...] = FEATURE_NAMES
    params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    rounds: int = DEFAULT_ROUNDS

    def raw_scores(self, rows: AppointmentTable, known: AppointmentTable) -> npt.NDArray[np.float64]:
        """Uncalibrated tree output; `known` is the appointment record the history is read from."""
        import xgboost

        features = feature_matrix(rows, known, self.encoding)
        matrix = xgboost.DMatrix(features, feature_names=list(self.feature_names), missing=np.nan)
        return np.asarray(self.booster.predict(matrix), dtype=np.float64)

    def predict(self, rows: AppointmentTable, known: AppointmentTable) -> npt.NDArray[np.float64]:
        """Calibrated no-show probability per row."""
        return self.calibration.apply(self.raw_scores(rows, known))


def split_by_day(table: AppointmentTable, first_later_day: np.datetime64) -> tuple[AppointmentTable, AppointmentTable]:
    """(appointments before the day, appointments on or after it)."""
    later = table.appointment_day >= first_later_day
    return table.select(~later), table.select(later)


def calibration_start_day(table: AppointmentTable, share: float) -> np.datetime64:
    """The first day of the latest run of whole days holding about `share` of the rows."""
    days, counts = np.unique(table.appointment_day, return_counts=True)
    if len(days) < 2:
        raise InsufficientDataError("needs at least two appointment days (one to fit, a later one to calibrate)")
    rows_from_day = np.cumsum(counts[::-1])[::-1]
    # Latest day whose tail holds >= share of rows, never the first day (the fit part must not be empty).
    candidates = np.flatnonzero(rows_from_day >= share * len(table))
    index = max(1, int(candidates[-1]))
    return np.datetime64(days[index], "D")


def train_noshow_model(
    training: AppointmentTable,
    *,
    calibration_share: float = DEFAULT_CALIBRATION_SHARE,
    calibration_method: CalibrationMethod = "platt",
    rounds: int = DEFAULT_ROUNDS,
    params: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> NoShowModel:
    import xgboost

    say = progress or (lambda _message: None)
    chosen = dict(DEFAULT_PARAMS if params is None else params)
    cut = calibration_start_day(training, calibration_share)
    fit_part, calibration_part = split_by_day(training, cut)
    for part, name in ((fit_part, "fit"), (calibration_part, "calibration")):
        if len(np.unique(part.no_show)) < 2:
            raise InsufficientDataError(f"the {name} part {part.day_range()} has only one outcome")

    encoding = fit_neighbourhood_encoding(fit_part)
    say(f"features: {len(fit_part)} fit rows {fit_part.day_range()}, {len(calibration_part)} calibration rows")
    fit_features = feature_matrix(fit_part, training, encoding)
    matrix = xgboost.DMatrix(fit_features, label=fit_part.no_show.astype(np.float64), feature_names=list(FEATURE_NAMES))
    say(f"training {rounds} boosting rounds")
    booster = xgboost.train(chosen, matrix, num_boost_round=rounds)

    window = TrainingWindow(
        fit_days=fit_part.day_range(),
        calibration_days=calibration_part.day_range(),
        fit_rows=len(fit_part),
        calibration_rows=len(calibration_part),
    )
    uncalibrated = NoShowModel(booster, IDENTITY, encoding, window, FEATURE_NAMES, chosen, rounds)
    raw = uncalibrated.raw_scores(calibration_part, training)
    calibration = fit_calibration(raw, calibration_part.no_show, calibration_method)
    say(f"calibrated on {len(calibration_part)} rows {calibration_part.day_range()}")
    return NoShowModel(booster, calibration, encoding, window, FEATURE_NAMES, chosen, rounds)
