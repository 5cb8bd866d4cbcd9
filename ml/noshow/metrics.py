"""Scoring of predicted no-show probabilities, in plain numpy (no scikit-learn at import or run time)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class CalibrationBin:
    bin: int
    count: int
    mean_predicted: float
    observed_rate: float


def roc_auc(labels: npt.NDArray[np.bool_], scores: npt.NDArray[np.float64]) -> float:
    """Probability that a random miss scores above a random show (ties count half): Mann-Whitney U."""
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        raise ValueError("ROC AUC needs both outcomes present")
    ranks = _average_ranks(scores)
    rank_sum = float(ranks[labels].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def average_precision(labels: npt.NDArray[np.bool_], scores: npt.NDArray[np.float64]) -> float:
    """PR AUC as average precision: sum over thresholds of precision x recall gained (ties form one step)."""
    positives = int(labels.sum())
    if positives == 0:
        raise ValueError("PR AUC needs at least one positive")
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    hits = np.cumsum(labels[order])
    seen = np.arange(1, len(labels) + 1)
    # Evaluate only at the last index of each run of tied scores.
    step_end = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(labels) - 1]
    precision = hits[step_end] / seen[step_end]
    recall = hits[step_end] / positives
    recall_gain = np.diff(np.r_[0.0, recall])
    return float(np.sum(precision * recall_gain))


def brier_score(labels: npt.NDArray[np.bool_], probabilities: npt.NDArray[np.float64]) -> float:
    return float(np.mean((probabilities - labels.astype(np.float64)) ** 2))


def log_loss(labels: npt.NDArray[np.bool_], probabilities: npt.NDArray[np.float64]) -> float:
    p = np.clip(probabilities, 1e-12, 1 - 1e-12)
    y = labels.astype(np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def calibration_table(
    labels: npt.NDArray[np.bool_], probabilities: npt.NDArray[np.float64], bins: int = 10
) -> list[CalibrationBin]:
    """Equal-count bins (deciles by default) of predicted probability: mean predicted vs observed rate."""
    order = np.argsort(probabilities, kind="mergesort")
    table: list[CalibrationBin] = []
    for index, chunk in enumerate(np.array_split(order, bins)):
        if len(chunk) == 0:
            continue
        table.append(
            CalibrationBin(
                bin=index + 1,
                count=len(chunk),
                mean_predicted=float(probabilities[chunk].mean()),
                observed_rate=float(labels[chunk].mean()),
            )
        )
    return table


def _average_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # Runs of equal values share the mean of their 1-based ranks.
    run_starts = np.r_[0, np.flatnonzero(np.diff(sorted_values)) + 1]
    run_ends = np.r_[run_starts[1:], len(values)]
    run_ranks = (run_starts + run_ends + 1) / 2.0
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(run_ranks, run_ends - run_starts)
    return ranks
