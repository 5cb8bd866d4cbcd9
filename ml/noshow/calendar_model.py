"""The no-show model a practice scores its calendar with: its own, or the Kaggle model mapped onto it.

Both are XGBoost trees plus a calibration, applied to rows of slotoptim_private.noshow_features().
`source` says which feature matrix they read (practice_matrix.py). The Kaggle model may carry a
`logit_shift`: one number added to the calibrated log-odds so that its mean risk on the practice's
labelled rows equals the practice's observed no-show rate (recalibration in the large). Its base
rate was Vitória's 20 %; a practice's may be far from it, and the overbooking advice sums risks.

Practice training mirrors model.py: trees on the earlier days, Platt calibration on the latest
whole days holding `calibration_share` of the rows; time order, because the model always scores
bookings after the ones it learned from. When the calibration days disagree with the trees (Platt
slope <= 0, which small practices do produce) training fails and train_db falls back to Kaggle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from slotoptim.ml.noshow.calibration import Calibration, calibration_from_json, fit_platt
from slotoptim.ml.noshow.metrics import average_precision, brier_score, calibration_table, log_loss, roc_auc
from slotoptim.ml.noshow.model import DEFAULT_CALIBRATION_SHARE, DEFAULT_PARAMS, InsufficientDataError, Progress
from slotoptim.ml.noshow.practice_matrix import kaggle_matrix, practice_columns, practice_matrix
from slotoptim.ml.noshow.practice_rows import PracticeRows

if TYPE_CHECKING:
    import xgboost

Source = Literal["practice", "kaggle"]
PRACTICE_ROUNDS = 150
# The Kaggle parameters, with smaller leaves: min_child_weight is a sum of hessians p(1 - p), about
# 0.1 per row at a 12 % no-show rate, so Kaggle's 20 asks ~200 rows per leaf, more than a practice's
# whole fit part holds in places. 3 asks ~30 rows; depth 3 keeps the trees as coarse as the data.
# One thread: on a few thousand rows the threads only wait for each other (150 rounds on 600 rows took
# 4 s with two threads on a busy two-core machine, 0.2 s with one).
PRACTICE_PARAMS: dict[str, Any] = DEFAULT_PARAMS | {"min_child_weight": 3.0, "max_depth": 3, "nthread": 1}
# Search range of the logit shift; |shift| = 5 multiplies the odds by ~150, far beyond any real prior change.
MAX_LOGIT_SHIFT = 5.0


@dataclass
class CalendarModel:
    source: Source
    booster: xgboost.Booster
    calibration: Calibration
    columns: tuple[str, ...]
    neighbourhood_base_rate: float = 0.0
    logit_shift: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    rounds: int = 0

    def __post_init__(self) -> None:
        # Scoring a calendar is a few hundred rows at most: one thread (see PRACTICE_PARAMS).
        self.booster.set_param({"nthread": 1})

    def matrix(self, rows: PracticeRows) -> npt.NDArray[np.float64]:
        if self.source == "kaggle":
            return kaggle_matrix(rows, self.neighbourhood_base_rate)
        return practice_matrix(rows, self.columns)

    def calibrated(self, rows: PracticeRows) -> npt.NDArray[np.float64]:
        """Risks before the logit shift."""
        import xgboost

        if len(rows) == 0:
            return np.empty(0, dtype=np.float64)
        data = xgboost.DMatrix(self.matrix(rows), feature_names=list(self.columns), missing=np.nan)
        raw = np.asarray(self.booster.predict(data), dtype=np.float64)
        return self.calibration.apply(raw)

    def predict(self, rows: PracticeRows) -> npt.NDArray[np.float64]:
        """Calibrated no-show probability per row."""
        return shift_probabilities(self.calibrated(rows), self.logit_shift)

    def describe(self) -> dict[str, Any]:
        """What metadata must hold to rebuild the model from its booster (see from_description)."""
        return {
            "source": self.source,
            "columns": list(self.columns),
            "calibration": self.calibration.to_json(),
            "neighbourhood_base_rate": self.neighbourhood_base_rate,
            "logit_shift": self.logit_shift,
            "params": self.params,
            "rounds": self.rounds,
        }

    def artifact(self) -> bytes:
        return bytes(self.booster.save_raw("json"))

    @classmethod
    def from_description(cls, description: dict[str, Any], artifact: bytes) -> CalendarModel:
        import xgboost

        booster = xgboost.Booster()
        booster.load_model(bytearray(artifact))
        source: Source = "kaggle" if description["source"] == "kaggle" else "practice"
        return cls(
            source=source,
            booster=booster,
            calibration=calibration_from_json(description["calibration"]),
            columns=tuple(description["columns"]),
            neighbourhood_base_rate=float(description["neighbourhood_base_rate"]),
            logit_shift=float(description["logit_shift"]),
            params=dict(description["params"]),
            rounds=int(description["rounds"]),
        )


def shift_probabilities(p: npt.NDArray[np.float64], shift: float) -> npt.NDArray[np.float64]:
    if shift == 0.0:
        return p
    clipped = np.clip(p, 1e-9, 1 - 1e-9)
    return np.asarray(1.0 / (1.0 + np.exp(-(np.log(clipped / (1 - clipped)) + shift))), dtype=np.float64)


def fit_logit_shift(p: npt.NDArray[np.float64], target_rate: float) -> float:
    """The shift s with mean(shift_probabilities(p, s)) == target_rate (the mean is increasing in s)."""
    low, high = -MAX_LOGIT_SHIFT, MAX_LOGIT_SHIFT
    for _ in range(60):
        middle = (low + high) / 2
        if float(shift_probabilities(p, middle).mean()) < target_rate:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def latest_days_cut(days: npt.NDArray[np.datetime64], share: float) -> np.datetime64:
    """First day of the latest run of whole days holding at least `share` of the rows (never the first day)."""
    unique, counts = np.unique(days, return_counts=True)
    if len(unique) < 2:
        raise InsufficientDataError("needs appointments on at least two days (an earlier part and a later one)")
    rows_from_day = np.cumsum(counts[::-1])[::-1]
    candidates = np.flatnonzero(rows_from_day >= share * len(days))
    return np.datetime64(unique[max(1, int(candidates[-1]))], "D")


def split_by_days(rows: PracticeRows, share: float) -> tuple[PracticeRows, PracticeRows]:
    """(earlier rows, the latest whole days holding about `share` of the rows)."""
    later = rows.local_day >= latest_days_cut(rows.local_day, share)
    return rows.select(~later), rows.select(later)


def train_practice_model(
    rows: PracticeRows,
    *,
    rounds: int = PRACTICE_ROUNDS,
    calibration_share: float = DEFAULT_CALIBRATION_SHARE,
    progress: Progress | None = None,
) -> CalendarModel:
    import xgboost

    say = progress or (lambda _message: None)
    fit_part, calibration_part = split_by_days(rows, calibration_share)
    for part, name in ((fit_part, "fit"), (calibration_part, "calibration")):
        if len(np.unique(part.label)) < 2:
            raise InsufficientDataError(f"the {name} part ({len(part)} rows) has only one outcome")
    columns = practice_columns(sorted(set(fit_part.provider_key.tolist())), sorted(set(fit_part.service_key.tolist())))
    params = dict(PRACTICE_PARAMS)
    say(f"practice model: {len(fit_part)} fit rows {fit_part.day_range()}, {len(calibration_part)} calibration rows")
    data = xgboost.DMatrix(
        practice_matrix(fit_part, columns), label=fit_part.label, feature_names=list(columns), missing=np.nan
    )
    booster = xgboost.train(params, data, num_boost_round=rounds)
    calibration_data = xgboost.DMatrix(
        practice_matrix(calibration_part, columns), feature_names=list(columns), missing=np.nan
    )
    raw = np.asarray(booster.predict(calibration_data), dtype=np.float64)
    calibration = fit_platt(raw, calibration_part.no_show)
    if calibration.slope <= 0:
        # Later days rank the appointments the other way round from the trees: what they learned does not
        # hold up, and a negative slope would turn every risk upside down.
        raise InsufficientDataError(
            f"the trees' ranking does not hold on the calibration days {calibration_part.day_range()}"
            f" (Platt slope {calibration.slope:.2f} <= 0)"
        )
    return CalendarModel("practice", booster, calibration, columns, params=params, rounds=rounds)


def evaluate(model: CalendarModel, rows: PracticeRows, base_rate: float) -> dict[str, Any]:
    """ROC AUC, PR AUC, Brier (with the base-rate reference), log loss and a calibration table on labelled rows."""
    labels = rows.no_show
    if len(rows) == 0 or labels.all() or not labels.any():
        raise InsufficientDataError(f"{len(rows)} rows without both outcomes: the metrics are undefined")
    risk = model.predict(rows)
    lead = rows.numeric["lead_days"]
    bins = max(2, min(10, len(rows) // 30))
    return {
        "rows": len(rows),
        "days": list(rows.day_range()),
        "no_show_rate": float(labels.mean()),
        "roc_auc": roc_auc(labels, risk),
        "pr_auc": average_precision(labels, risk),
        "brier": brier_score(labels, risk),
        "brier_base_rate": brier_score(labels, np.full(len(rows), base_rate)),
        "log_loss": log_loss(labels, risk),
        "lead_time_only_roc_auc": roc_auc(labels, np.nan_to_num(lead)),
        "mean_risk": float(risk.mean()),
        "calibration": [
            {"bin": b.bin, "count": b.count, "mean_predicted": b.mean_predicted, "observed_rate": b.observed_rate}
            for b in calibration_table(labels, risk, bins)
        ],
    }
