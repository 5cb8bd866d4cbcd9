"""`slotoptim ml train`: a no-show model per organisation, from its own calendar when it can.

With at least `min_practice_rows` labelled appointments (learning_settings, default 200) the practice
gets its own model: evaluated on a time split (the latest whole days holding HOLDOUT_SHARE of the
rows, the model trained on everything before them), then refitted on all labelled rows with the
same recipe and stored with the holdout metrics. With fewer rows, or when the split leaves a part
with one outcome only, the Kaggle model is stored for it instead, shifted in the large to the
practice's no-show rate when there are MIN_SHIFT_ROWS labelled rows with both outcomes, and its
metrics are measured on all the practice's labelled rows (out of sample for the trees; the one
shift number is fitted on the same rows). Metadata records which and why.
"""

from __future__ import annotations

import platform
from datetime import datetime
from typing import Any

import numpy as np
import psycopg

from slotoptim.ml.noshow.calendar_model import (
    PRACTICE_ROUNDS,
    CalendarModel,
    evaluate,
    fit_logit_shift,
    split_by_days,
    train_practice_model,
)
from slotoptim.ml.noshow.features import FEATURE_NAMES
from slotoptim.ml.noshow.kaggle_source import KaggleSource, kaggle_model
from slotoptim.ml.noshow.model import InsufficientDataError, Progress
from slotoptim.ml.noshow.model_versions import save_version
from slotoptim.ml.noshow.organisations import Organisation, learning_settings
from slotoptim.ml.noshow.practice_matrix import KAGGLE_TYPICAL
from slotoptim.ml.noshow.practice_rows import PracticeRows, read_practice_rows

HOLDOUT_SHARE = 0.25
MIN_SHIFT_ROWS = 50


class NoModelError(RuntimeError):
    """Neither the practice's history nor a Kaggle model can give this organisation a model."""


def train_noshow(
    conn: psycopg.Connection[Any],
    org: Organisation,
    at: datetime,
    *,
    kaggle: KaggleSource,
    rounds: int = PRACTICE_ROUNDS,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train, store as the active 'noshow' version, and return the summary (also the stored metadata)."""
    say = progress or (lambda _message: None)
    settings = learning_settings(conn, org.id)
    labelled = read_practice_rows(conn, org.id, at, "labelled")
    say(f"{org.key}: {len(labelled)} labelled appointments before {at.isoformat()}")
    data: dict[str, Any] = {
        "organisation": org.key,
        "labelled_rows": len(labelled),
        "no_show_rate": float(labelled.no_show.mean()) if len(labelled) else None,
        "min_practice_rows": settings.min_practice_rows,
    }
    model: CalendarModel | None = None
    if len(labelled) >= settings.min_practice_rows:
        try:
            model, facts = _practice(labelled, rounds, say)
            data |= facts
        except InsufficientDataError as error:
            data["reason"] = f"practice model not possible: {error}"
    else:
        data["reason"] = (
            f"{len(labelled)} labelled appointments, fewer than min_practice_rows {settings.min_practice_rows}"
        )
    if model is None:
        model, facts = _kaggle(labelled, kaggle, data["reason"], say)
        data |= facts
    data |= {
        "model": model.describe(),
        "library_versions": _library_versions(),
    }
    data["version"] = save_version(conn, org.id, "noshow", at, data, model.artifact())
    say(f"{org.key}: stored {data['source']} model version {data['version']}")
    return data


def _practice(labelled: PracticeRows, rounds: int, say: Progress) -> tuple[CalendarModel, dict[str, Any]]:
    earlier, holdout = split_by_days(labelled, HOLDOUT_SHARE)
    say(f"holdout: training on {len(earlier)} rows {earlier.day_range()}, testing on {len(holdout)}")
    evaluated = train_practice_model(earlier, rounds=rounds, progress=say)
    metrics = evaluate(evaluated, holdout, base_rate=float(earlier.no_show.mean()))
    say(f"holdout ROC AUC {metrics['roc_auc']:.3f}, Brier {metrics['brier']:.4f} vs {metrics['brier_base_rate']:.4f}")
    say(f"refitting on all {len(labelled)} labelled rows")
    model = train_practice_model(labelled, rounds=rounds, progress=say)
    return model, {
        "source": "practice",
        "training_window": {"days": list(labelled.day_range()), "rows": len(labelled)},
        "evaluation": {
            "method": f"time split: trained on days {_days(earlier)}, tested on days {_days(holdout)};"
            " the stored model is refitted on all labelled rows",
            "train_rows": len(earlier),
        },
        "metrics": metrics,
    }


def _kaggle(
    labelled: PracticeRows, source: KaggleSource, reason: str, say: Progress
) -> tuple[CalendarModel, dict[str, Any]]:
    found = kaggle_model(source, progress=say)
    if found is None:
        raise NoModelError(
            f"{reason}, and no Kaggle model to fall back on: store one with `slotoptim ml evaluate --data"
            " noshow_train.csv --split-date YYYY-MM-DD --save-model`, or give the CSV with --noshow-csv"
        )
    trained, stored = found
    say(f"using the Kaggle model {stored['version']} ({reason})")
    model = CalendarModel(
        source="kaggle",
        booster=trained.booster,
        calibration=trained.calibration,
        columns=FEATURE_NAMES,
        neighbourhood_base_rate=trained.encoding.base_rate,
        params=trained.params,
        rounds=trained.rounds,
    )
    facts: dict[str, Any] = {
        "source": "kaggle",
        "kaggle": {
            "version": stored["version"],
            "training_source": stored.get("training_source", ""),
            "training_window": stored.get("training_window"),
            "metrics_on_kaggle_test": stored.get("metrics", {}),
        },
        "imputed_features": KAGGLE_TYPICAL,
        "missing_from_kaggle": ["start hour", "provider", "service", "prior cancellations"],
    }
    labels = labelled.no_show
    if len(labelled) >= MIN_SHIFT_ROWS and labels.any() and not labels.all():
        unshifted = model.calibrated(labelled)
        model.logit_shift = fit_logit_shift(unshifted, float(labels.mean()))
        metrics = evaluate(model, labelled, base_rate=float(labels.mean()))
        metrics["brier_before_shift"] = float(np.mean((unshifted - labels) ** 2))
        facts["metrics"] = metrics
        facts["evaluation"] = {
            "method": "all the practice's labelled rows (the trees never saw them; the logit shift was fitted on them)"
        }
    else:
        facts["metrics"] = {}
        facts["evaluation"] = {"method": f"none: fewer than {MIN_SHIFT_ROWS} labelled rows with both outcomes"}
    return model, facts


def _library_versions() -> dict[str, str]:
    import xgboost

    return {"python": platform.python_version(), "numpy": np.__version__, "xgboost": xgboost.__version__}


def _days(rows: PracticeRows) -> str:
    first, last = rows.day_range()
    return f"{first}..{last}"
