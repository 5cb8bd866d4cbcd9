"""`slotoptim ml train` and `score` against a database: the practice model, the Kaggle fallback,
versioned storage, risks on upcoming appointments and the high-risk view."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from slotoptim.ml.noshow.kaggle_source import KaggleSource
from slotoptim.ml.noshow.model_versions import KEEP_VERSIONS
from slotoptim.ml.noshow.organisations import organisations
from slotoptim.ml.noshow.score_db import score_appointments
from slotoptim.ml.noshow.train_db import NoModelError, train_noshow

NO_KAGGLE = KaggleSource(model_dir=Path("/nonexistent/slotoptim-models"), csv_path=None)


def test_a_practice_with_history_gets_its_own_model(
    history_conn: psycopg.Connection[dict[str, Any]], history_at: dt.datetime
) -> None:
    (org,) = organisations(history_conn)
    summary = train_noshow(history_conn, org, history_at, kaggle=NO_KAGGLE)
    assert summary["source"] == "practice"
    assert summary["labelled_rows"] >= 200
    metrics = summary["metrics"]
    # The holdout is later than everything the evaluated model saw.
    assert metrics["days"][0] > summary["evaluation"]["method"].split("..")[1][:10]
    # Ten weeks of a small practice make a noisy holdout: the numbers must exist and be sane, not good
    # (`slotoptim ml train` on the 16-week history is where the figures come from).
    assert 0.0 <= metrics["roc_auc"] <= 1.0 and 0.0 <= metrics["pr_auc"] <= 1.0
    assert 0.0 < metrics["brier"] < 0.25
    assert sum(b["count"] for b in metrics["calibration"]) == metrics["rows"]

    stored = history_conn.execute(
        "select v.version, v.active, v.metadata, length(m.artifact) as bytes from slotoptim.model_versions as v"
        " join slotoptim_private.model_version as m using (id) where v.kind = 'noshow'"
    ).fetchall()
    assert len(stored) == 1 and stored[0]["active"] and stored[0]["bytes"] > 1000
    assert stored[0]["metadata"]["source"] == "practice"
    assert stored[0]["metadata"]["model"]["columns"][-1].startswith("service=")


def test_scoring_writes_risks_and_the_high_risk_view_reads_them(
    history_conn: psycopg.Connection[dict[str, Any]], history_at: dt.datetime
) -> None:
    (org,) = organisations(history_conn)
    train_noshow(history_conn, org, history_at, kaggle=NO_KAGGLE)
    scored = score_appointments(history_conn, None, None, history_at)
    risks = history_conn.execute(
        "select a.no_show_risk, a.status, lower(a.period) >= %s as upcoming from slotoptim_private.appointment as a",
        (history_at,),
    ).fetchall()
    upcoming = [r for r in risks if r["upcoming"] and r["status"] in ("booked", "confirmed")]
    assert scored == len(upcoming) > 20
    assert all(0.0 <= r["no_show_risk"] <= 1.0 for r in upcoming)
    assert all(r["no_show_risk"] is None for r in risks if not r["upcoming"])
    # Calibrated: the mean risk is near the practice's no-show rate.
    rate = history_conn.execute(
        "select avg((status = 'no_show')::int)::float as r from slotoptim_private.appointment"
        " where status in ('no_show', 'completed')"
    ).fetchone()
    assert rate is not None
    assert abs(np.mean([r["no_show_risk"] for r in upcoming]) - rate["r"]) < 0.08

    history_conn.execute("update slotoptim_private.learning_settings set high_risk_threshold = 0.15")
    listed = history_conn.execute("select * from slotoptim.high_risk_appointments(%s)", (history_at,)).fetchall()
    expected = sum(r["no_show_risk"] >= np.float32(0.15) for r in upcoming)
    assert len(listed) == expected > 0
    assert all(r["no_show_risk"] >= 0.15 and r["starts_local"].date() >= history_at.date() for r in listed)


def test_one_booking_is_scored_alone(history_conn: psycopg.Connection[dict[str, Any]], history_at: dt.datetime) -> None:
    (org,) = organisations(history_conn)
    train_noshow(history_conn, org, history_at, kaggle=NO_KAGGLE)
    target = history_conn.execute(
        "select id from slotoptim_private.appointment where status = 'booked' and lower(period) >= %s limit 1",
        (history_at,),
    ).fetchone()
    assert target is not None
    assert score_appointments(history_conn, None, [target["id"]], history_at) == 1
    assert history_conn.execute(
        "select count(*) as n from slotoptim_private.appointment where no_show_risk is not null"
    ).fetchone() == {"n": 1}


def test_little_history_falls_back_to_the_kaggle_model(
    demo_conn: psycopg.Connection[dict[str, Any]], kaggle_store: Path, demo_at: dt.datetime
) -> None:
    (org,) = organisations(demo_conn)
    summary = train_noshow(demo_conn, org, demo_at, kaggle=KaggleSource(model_dir=kaggle_store))
    assert summary["source"] == "kaggle"
    assert "fewer than min_practice_rows 200" in summary["reason"]
    assert summary["kaggle"]["training_source"] == "synthetic Kaggle-format rows"
    # Shifted in the large to the practice's own no-show rate, measured on its labelled rows.
    assert summary["metrics"]["mean_risk"] == pytest.approx(summary["no_show_rate"], abs=1e-3)
    assert score_appointments(demo_conn, org.id, None, demo_at) > 50


def test_no_history_and_no_kaggle_model_is_a_clear_error(
    demo_conn: psycopg.Connection[dict[str, Any]], demo_at: dt.datetime
) -> None:
    (org,) = organisations(demo_conn)
    with pytest.raises(NoModelError, match="no Kaggle model to fall back on"):
        train_noshow(demo_conn, org, demo_at, kaggle=NO_KAGGLE)
    # Without a model nothing is scored, and nothing fails.
    assert score_appointments(demo_conn, org.id, None, demo_at) == 0


def test_versions_are_kept_per_organisation_and_pruned(
    demo_conn: psycopg.Connection[dict[str, Any]], kaggle_store: Path, demo_at: dt.datetime
) -> None:
    (org,) = organisations(demo_conn)
    source = KaggleSource(model_dir=kaggle_store)
    for hour in range(KEEP_VERSIONS + 2):
        train_noshow(demo_conn, org, demo_at + dt.timedelta(hours=hour), kaggle=source)
    # A second run at the same instant gets its own name.
    train_noshow(demo_conn, org, demo_at + dt.timedelta(hours=KEEP_VERSIONS + 1), kaggle=source)
    rows = demo_conn.execute(
        "select version, active from slotoptim_private.model_version where kind = 'noshow' order by trained_at, id"
    ).fetchall()
    assert len(rows) == KEEP_VERSIONS
    assert [r["version"] for r in rows if r["active"]] == ["20261127T040000Z-2"]
    assert rows[0]["version"] == "20261126T200000Z"
