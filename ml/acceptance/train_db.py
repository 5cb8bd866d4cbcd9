"""Training and time-split evaluation of an organisation's acceptance model.

Training is slotoptim.train_acceptance_model (sql/54n_fn_acceptance.sql): seed 002's channel x
send-window prior with shrunk multiplicative factors, fitted on the offers resolved before the
cut-off. The evaluation trains on what was known at ``cutoff`` and scores the offers *sent* from
``cutoff`` on (later than anything it learned from): log loss, ROC AUC, Brier score and a
calibration table, for the model and for the prior alone. A nightly run evaluates the model it
trains the same way, holding out the last ``holdout`` days, then trains the active model on all
history up to ``at``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from slotoptim.ml.noshow.metrics import brier_score, calibration_table, log_loss, roc_auc

MIN_TEST_OFFERS = 30


@dataclass(frozen=True)
class Scores:
    log_loss: float
    roc_auc: float | None
    """None when the test offers hold only one outcome."""
    brier: float
    mean_predicted: float
    calibration: list[dict[str, float]]


@dataclass(frozen=True)
class Evaluation:
    model_version_id: int
    cutoff: dt.datetime
    until: dt.datetime
    test_offers: int
    accepted: int
    model: Scores
    prior: Scores

    def to_plain(self) -> dict[str, Any]:
        plain = asdict(self)
        plain["cutoff"] = self.cutoff.isoformat()
        plain["until"] = self.until.isoformat()
        return plain


def train(conn: psycopg.Connection[Any], org_id: int, trained_until: dt.datetime, version: str | None = None) -> int:
    """Trains (and activates) a model version on what was known at ``trained_until``; returns its id."""
    row = conn.execute(
        "select slotoptim.train_acceptance_model(%s, %s, %s) as id", (org_id, trained_until, version)
    ).fetchone()
    assert row is not None
    return int(row[0] if not isinstance(row, dict) else row["id"])


def _scores(labels: np.ndarray[Any, np.dtype[np.bool_]], p: np.ndarray[Any, np.dtype[np.float64]]) -> Scores:
    auc = roc_auc(labels, p) if 0 < int(labels.sum()) < len(labels) else None
    return Scores(
        log_loss=log_loss(labels, p),
        roc_auc=auc,
        brier=brier_score(labels, p),
        mean_predicted=float(p.mean()),
        calibration=[
            {"bin": b.bin, "count": b.count, "mean_predicted": b.mean_predicted, "observed_rate": b.observed_rate}
            for b in calibration_table(labels, p, bins=5)
        ],
    )


def evaluate(
    conn: psycopg.Connection[Any], model_version_id: int, cutoff: dt.datetime, until: dt.datetime
) -> Evaluation | None:
    """Scores a model version against the prior on the offers sent in [cutoff, until); None if too few."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "select accepted, p_model, p_prior from slotoptim.acceptance_predictions(%s, %s, %s)",
            (model_version_id, cutoff, until),
        ).fetchall()
    if len(rows) < MIN_TEST_OFFERS:
        return None
    labels = np.array([bool(r["accepted"]) for r in rows])
    model = np.array([float(r["p_model"]) for r in rows])
    prior = np.array([float(r["p_prior"]) for r in rows])
    return Evaluation(
        model_version_id, cutoff, until, len(rows), int(labels.sum()), _scores(labels, model), _scores(labels, prior)
    )


def train_nightly(
    conn: psycopg.Connection[Any], org_id: int, at: dt.datetime, *, holdout: dt.timedelta = dt.timedelta(days=14)
) -> dict[str, Any]:
    """The nightly step: a time-split evaluation (train up to at - holdout, test after), then the
    active model trained on everything up to ``at``, carrying the evaluation in its metadata."""
    cutoff = at - holdout
    held_out = train(conn, org_id, cutoff, version=f"acceptance-eval-{cutoff:%Y%m%dT%H%M%S}")
    evaluation = evaluate(conn, held_out, cutoff, at)
    active = train(conn, org_id, at)
    # The evaluation version was only a yardstick: the active model is the one trained up to `at`.
    conn.execute("delete from slotoptim_private.model_version where id = %s", (held_out,))
    plain = evaluation.to_plain() if evaluation else {"note": f"fewer than {MIN_TEST_OFFERS} offers to test on"}
    conn.execute(
        "update slotoptim_private.model_version set metadata = metadata || %s where id = %s",
        (Jsonb({"time_split_evaluation": plain}), active),
    )
    return {"model_version_id": active, "evaluation": plain}
