"""The learning work the service schedules, and the per-organisation steps the CLI commands run.

run_nightly(url, at): for every organisation, train the no-show model, score upcoming appointments,
forecast demand, learn buffers and train the acceptance model, in that order. Each step of each
organisation runs in its own transaction and fails on its own: the error is logged (logger
"slotoptim.ml.jobs", with traceback) and reported in the summary, and the next step runs (scoring
then uses the previously active model).
score_new(url, ids, at): score just-booked appointments (the listener calls it; one short transaction).

Every function takes the instant it acts at; nothing reads the clock itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row

from slotoptim.ml.noshow.kaggle_source import KaggleSource
from slotoptim.ml.noshow.organisations import Organisation, organisations

if TYPE_CHECKING:
    from slotoptim.ml.forecast.db_forecast import BacktestOptions, Method

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
Step = Callable[[psycopg.Connection[Any], Organisation], dict[str, Any]]


def default_kaggle_source() -> KaggleSource:
    """The default model store, trained from the shared Kaggle CSV the first time when it is there."""
    from slotoptim.ml.cli import NOSHOW_CSV, shared_data_file

    return KaggleSource(model_dir=None, csv_path=shared_data_file(NOSHOW_CSV))


def for_each(conn: psycopg.Connection[Any], orgs: Sequence[Organisation], name: str, step: Step) -> dict[str, Any]:
    """Run `step` per organisation in its own transaction; a failure is logged and reported, not raised."""
    results: list[dict[str, Any]] = []
    for org in orgs:
        try:
            with conn.transaction():
                results.append(step(conn, org))
        # Any failure: one organisation's bad data or a missing model must not stop the others.
        except Exception as error:
            log.exception("%s failed for organisation %s", name, org.key)
            results.append({"organisation": org.key, "error": f"{type(error).__name__}: {error}"})
    return {"step": name, "organisations": results, "failed": sum("error" in r for r in results)}


def train_all(
    conn: psycopg.Connection[Any],
    orgs: Sequence[Organisation],
    at: datetime,
    *,
    kaggle: KaggleSource,
    rounds: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    from slotoptim.ml.noshow.calendar_model import PRACTICE_ROUNDS
    from slotoptim.ml.noshow.train_db import train_noshow

    def step(c: psycopg.Connection[Any], org: Organisation) -> dict[str, Any]:
        summary = train_noshow(c, org, at, kaggle=kaggle, rounds=rounds or PRACTICE_ROUNDS, progress=progress)
        # The model's numbers (calibration, columns) are for the database, not for the summary.
        return {k: v for k, v in summary.items() if k != "model"}

    return for_each(conn, orgs, "train", step)


def score_all(
    conn: psycopg.Connection[Any],
    orgs: Sequence[Organisation],
    at: datetime,
    appointment_ids: Sequence[int] | None = None,
) -> dict[str, Any]:
    from slotoptim.ml.noshow.score_db import score_organisation

    def step(c: psycopg.Connection[Any], org: Organisation) -> dict[str, Any]:
        result = score_organisation(c, org.id, appointment_ids, at).to_json()
        result.pop("org_id")
        if result["version"] is None:
            result["note"] = "no active no-show model: run slotoptim ml train"
        return {"organisation": org.key, **result}

    return for_each(conn, orgs, "score", step)


def forecast_all(
    conn: psycopg.Connection[Any],
    orgs: Sequence[Organisation],
    at: datetime,
    *,
    days: int = 14,
    method: str = "prophet",
    backtest_options: BacktestOptions | None = None,
    store: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Forecast (and, with backtest_options, backtest) every organisation's demand."""
    from slotoptim.ml.forecast.db_forecast import forecast_demand

    chosen: Method = "seasonal_naive" if method == "seasonal_naive" else "prophet"

    def step(c: psycopg.Connection[Any], org: Organisation) -> dict[str, Any]:
        return forecast_demand(
            c, org, at, days=days, method=chosen, backtest_options=backtest_options, store=store, progress=progress
        )

    return for_each(conn, orgs, "forecast", step)


def buffers_all(
    conn: psycopg.Connection[Any],
    orgs: Sequence[Organisation],
    at: datetime,
    *,
    quantile: float | None = None,
    max_minutes: int | None = None,
) -> dict[str, Any]:
    from slotoptim.ml.buffers.learned_db import learn_buffers

    def step(c: psycopg.Connection[Any], org: Organisation) -> dict[str, Any]:
        return learn_buffers(c, org, at, quantile=quantile, max_minutes=max_minutes)

    return for_each(conn, orgs, "buffers", step)


def acceptance_all(conn: psycopg.Connection[Any], orgs: Sequence[Organisation], at: datetime) -> dict[str, Any]:
    """Train every organisation's acceptance model (issue 16), with its time-split evaluation."""
    from slotoptim.ml.acceptance.train_db import train_nightly

    def step(c: psycopg.Connection[Any], org: Organisation) -> dict[str, Any]:
        return {"organisation": org.key, **train_nightly(c, org.id, at)}

    return for_each(conn, orgs, "acceptance", step)


def run_nightly(
    url: str,
    at: datetime,
    *,
    kaggle: KaggleSource | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train, score, forecast and learn buffers for every organisation; returns the JSON summary.

    The forecast backtest is left out: it re-fits Prophet per origin and is a report, not a job
    (`slotoptim ml forecast` runs it).
    """
    source = kaggle or default_kaggle_source()
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        orgs = organisations(conn)
        steps = [
            train_all(conn, orgs, at, kaggle=source, progress=progress),
            score_all(conn, orgs, at),
            forecast_all(conn, orgs, at, backtest_options=None, progress=progress),
            buffers_all(conn, orgs, at),
            acceptance_all(conn, orgs, at),
        ]
    summary = {
        "at": at.isoformat(),
        "organisations": [o.key for o in orgs],
        "steps": steps,
        "failed": sum(s["failed"] for s in steps),
    }
    log.info("nightly learning at %s: %d organisations, %d failed steps", at.isoformat(), len(orgs), summary["failed"])
    return summary


def score_new(url: str, appointment_ids: Sequence[int], at: datetime) -> int:
    """Score just-booked appointments with their organisation's active model; returns how many got a risk."""
    from slotoptim.ml.noshow.score_db import score_appointments

    if not appointment_ids:
        return 0
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        return score_appointments(conn, None, appointment_ids, at)
