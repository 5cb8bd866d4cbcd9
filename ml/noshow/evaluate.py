"""Train on one set of appointments, score on another: the numbers behind `slotoptim ml evaluate`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slotoptim.ml.noshow.kaggle import ImportReport, read_noshow_csv
from slotoptim.ml.noshow.metrics import (
    CalibrationBin,
    average_precision,
    brier_score,
    calibration_table,
    log_loss,
    roc_auc,
)
from slotoptim.ml.noshow.model import (
    DEFAULT_ROUNDS,
    InsufficientDataError,
    NoShowModel,
    Progress,
    TrainingWindow,
    split_by_day,
    train_noshow_model,
)
from slotoptim.ml.noshow.table import AppointmentTable, concat


@dataclass(frozen=True)
class DataSummary:
    source: str
    rows: int
    first_day: str
    last_day: str
    no_show_rate: float


@dataclass(frozen=True)
class TestMetrics:
    roc_auc: float
    pr_auc: float
    brier: float
    brier_uncalibrated: float
    # Brier of always predicting the training no-show rate: the bar any model must clear.
    brier_base_rate: float
    log_loss: float
    # Lead time alone as the score: the published ~0.70 reference point.
    lead_time_only_roc_auc: float
    calibration: list[CalibrationBin]


@dataclass(frozen=True)
class EvaluationReport:
    train: DataSummary
    test: DataSummary
    window: TrainingWindow
    metrics: TestMetrics
    features: tuple[str, ...]
    imports: list[ImportReport]
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "train": asdict(self.train),
            "test": asdict(self.test),
            "training_window": self.window.to_json(),
            "metrics": asdict(self.metrics),
            "features": list(self.features),
            "imports": [asdict(i) | {"rows_kept": i.rows_kept} for i in self.imports],
            "notes": self.notes,
        }


def summarise(table: AppointmentTable, source: str) -> DataSummary:
    first, last = table.day_range()
    return DataSummary(source, len(table), first, last, float(table.no_show.mean()))


def score_model(model: NoShowModel, test: AppointmentTable, known: AppointmentTable) -> TestMetrics:
    raw = model.raw_scores(test, known)
    calibrated = model.calibration.apply(raw)
    labels = test.no_show
    lead_days = (test.appointment_day - test.scheduled_day).astype(np.float64)
    train_rate = model.encoding.base_rate
    return TestMetrics(
        roc_auc=roc_auc(labels, calibrated),
        pr_auc=average_precision(labels, calibrated),
        brier=brier_score(labels, calibrated),
        brier_uncalibrated=brier_score(labels, raw),
        brier_base_rate=brier_score(labels, np.full(len(test), train_rate)),
        log_loss=log_loss(labels, calibrated),
        lead_time_only_roc_auc=roc_auc(labels, lead_days),
        calibration=calibration_table(labels, calibrated),
    )


def evaluate_tables(
    train: AppointmentTable,
    test: AppointmentTable,
    *,
    train_source: str,
    test_source: str,
    imports: list[ImportReport],
    progress: Progress | None = None,
    rounds: int = DEFAULT_ROUNDS,
) -> tuple[NoShowModel, EvaluationReport]:
    if len(train) == 0 or len(test) == 0:
        raise InsufficientDataError(f"{train_source if len(train) == 0 else test_source}: no appointments to use")
    if len(np.unique(test.no_show)) < 2:
        raise InsufficientDataError(f"{test_source}: only one outcome present, the metrics are undefined")
    notes: list[str] = []
    try:
        model = train_noshow_model(train, progress=progress, rounds=rounds)
    except InsufficientDataError as error:
        raise InsufficientDataError(f"{train_source}: {error}") from None
    # The test rows' history may use training rows and earlier test rows: both are past at booking time.
    known = concat([train, test])
    _, first = np.unique(known.appointment_id, return_index=True)
    if len(first) < len(known):
        notes.append(f"{len(known) - len(first)} appointment ids appear in both sets; counted once in patient history")
        known = known.select(np.sort(first))
    if test.appointment_day.min() <= train.appointment_day.max():
        notes.append("test days overlap or precede training days: this is not a forward-in-time evaluation")
    if progress is not None:
        progress(f"scoring {len(test)} test rows {test.day_range()}")
    report = EvaluationReport(
        train=summarise(train, train_source),
        test=summarise(test, test_source),
        window=model.window,
        metrics=score_model(model, test, known),
        features=model.feature_names,
        imports=imports,
        notes=notes,
    )
    return model, report


def evaluate_files(
    train_path: Path, test_path: Path, progress: Progress | None = None
) -> tuple[NoShowModel, EvaluationReport]:
    train, train_import = read_noshow_csv(train_path)
    test, test_import = read_noshow_csv(test_path)
    return evaluate_tables(
        train,
        test,
        train_source=str(train_path),
        test_source=str(test_path),
        imports=[train_import, test_import],
        progress=progress,
    )


def evaluate_split(
    data_path: Path, split_day: np.datetime64, progress: Progress | None = None
) -> tuple[NoShowModel, EvaluationReport]:
    table, data_import = read_noshow_csv(data_path)
    train, test = split_by_day(table, split_day)
    return evaluate_tables(
        train,
        test,
        train_source=f"{data_path} (days < {split_day})",
        test_source=f"{data_path} (days >= {split_day})",
        imports=[data_import],
        progress=progress,
    )
