"""The scheduled work: run_nightly trains, scores, forecasts and learns buffers for every organisation,
each step failing on its own; score_new scores fresh bookings."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from slotoptim.ml.jobs import run_nightly, score_new
from slotoptim.ml.noshow.kaggle_source import KaggleSource
from slotoptim.ml.noshow.organisations import organisations
from slotoptim.ml.noshow.train_db import train_noshow

NO_KAGGLE = KaggleSource(model_dir=Path("/nonexistent/slotoptim-models"), csv_path=None)


def test_nightly_runs_every_step_and_one_failure_stays_local(
    history_url: str, caplog: pytest.LogCaptureFixture, history_at: dt.datetime
) -> None:
    with psycopg.connect(history_url, autocommit=True) as conn:
        # A second practice with no history at all and, here, no Kaggle model to fall back on.
        conn.execute("select tests.make_practice('acme')")
    with caplog.at_level(logging.ERROR, logger="slotoptim.ml.jobs"):
        summary = run_nightly(history_url, history_at, kaggle=NO_KAGGLE)

    assert summary["organisations"] == ["acme", "harbourview"]
    assert [s["step"] for s in summary["steps"]] == ["train", "score", "forecast", "buffers", "acceptance"]
    assert summary["failed"] == 1
    train = {o["organisation"]: o for o in summary["steps"][0]["organisations"]}
    assert "NoModelError" in train["acme"]["error"] and train["harbourview"]["source"] == "practice"
    assert "train failed for organisation acme" in caplog.text
    score = {o["organisation"]: o for o in summary["steps"][1]["organisations"]}
    assert score["acme"]["scored"] == 0 and "no active no-show model" in score["acme"]["note"]
    assert score["harbourview"]["scored"] > 20
    forecast = {o["organisation"]: o for o in summary["steps"][2]["organisations"]}
    assert forecast["harbourview"]["forecast"]["method"] == "prophet"
    assert "history too short" in forecast["acme"]["forecast"]["note"]
    assert "backtest" not in forecast["harbourview"]
    buffers = {o["organisation"]: o for o in summary["steps"][3]["organisations"]}
    assert buffers["harbourview"]["records"] > 500 and buffers["acme"]["records"] == 0
    acceptance = {o["organisation"]: o for o in summary["steps"][4]["organisations"]}
    assert all(o["model_version_id"] and "note" in o["evaluation"] for o in acceptance.values()), "no offers yet"

    with psycopg.connect(history_url, row_factory=dict_row) as conn:
        counts = conn.execute(
            "select (select count(*) from slotoptim_private.demand_forecast) as forecast,"
            " (select count(*) from slotoptim_private.learned_buffer) as buffers,"
            " (select count(*) from slotoptim_private.appointment where no_show_risk is not null) as scored"
        ).fetchone()
    assert counts is not None and counts["forecast"] > 100 and counts["buffers"] > 5
    assert counts["scored"] == score["harbourview"]["scored"]


def test_score_new_scores_a_fresh_booking(history_url: str, history_at: dt.datetime) -> None:
    with psycopg.connect(history_url, autocommit=True, row_factory=dict_row) as conn:
        (org,) = organisations(conn)
        train_noshow(conn, org, history_at, kaggle=NO_KAGGLE)
        row = conn.execute(
            "insert into slotoptim_private.appointment"
            " (org_id, provider_id, service_id, customer_id, period, booked_at)"
            " select p.org_id, p.id, s.id, c.id, tstzrange(%(start)s, %(start)s + interval '20 minutes'), %(at)s"
            " from slotoptim_private.provider p, slotoptim_private.service s, slotoptim_private.customer c"
            " where p.key = 'dr-chen' and s.key = 'checkup' and c.key = 'c-0001' returning id",
            {
                "start": dt.datetime(2026, 12, 31, 7, 0, tzinfo=history_at.tzinfo),
                "at": history_at + dt.timedelta(hours=1),
            },
        ).fetchone()
    assert row is not None
    assert score_new(history_url, [row["id"]], history_at + dt.timedelta(hours=1)) == 1
    assert score_new(history_url, [], history_at) == 0
    with psycopg.connect(history_url, row_factory=dict_row) as conn:
        risk = conn.execute(
            "select no_show_risk from slotoptim_private.appointment where id = %s", (row["id"],)
        ).fetchone()
    assert risk is not None and 0.0 < risk["no_show_risk"] < 1.0
