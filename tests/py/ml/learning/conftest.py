"""Databases for the learning tests: a practice with synthetic history, and the two-week demo.

The history (10 weeks, three providers, ~1,200 appointments) is imported once into a template database;
each test gets its own clone, so tests can train, score and write without seeing each other.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from slotoptim.listener.dbclone import clone_database

# A Monday; history is the 8 weeks before it.
TODAY = dt.date(2026, 11, 30)
AT = dt.datetime(2026, 11, 30, 0, 0, tzinfo=ZoneInfo("America/New_York"))
# Thursday noon of the two-week demo that starts on the Monday before TODAY.
DEMO_AT = dt.datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("America/New_York"))
HISTORY_TEMPLATE = "slotoptim_ml_history"


def _clone(admin_url: str, template: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    clone_database(admin_url, name, template)
    return name


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def history_template(pg_admin_url: str, template_url: str) -> str:
    from slotoptim.listener.practice.importer import import_practice
    from slotoptim.ml.forecast.synthetic_history import build_demo_history

    _drop(pg_admin_url, HISTORY_TEMPLATE)
    clone_database(pg_admin_url, HISTORY_TEMPLATE, "slotoptim_test_template")
    url = psycopg.conninfo.make_conninfo(pg_admin_url, dbname=HISTORY_TEMPLATE)
    document = build_demo_history(TODAY, weeks=10, providers=["dr-chen", "dr-patel", "okafor-pt"])
    with psycopg.connect(url, row_factory=dict_row) as conn:
        import_practice(conn, document)
    return HISTORY_TEMPLATE


@pytest.fixture
def history_url(pg_admin_url: str, history_template: str) -> Iterator[str]:
    name = _clone(pg_admin_url, history_template)
    yield psycopg.conninfo.make_conninfo(pg_admin_url, dbname=name)
    _drop(pg_admin_url, name)


@pytest.fixture
def history_conn(history_url: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    with psycopg.connect(history_url, row_factory=dict_row, autocommit=True) as connection:
        yield connection


@pytest.fixture
def demo_conn(conn: psycopg.Connection[dict[str, Any]]) -> psycopg.Connection[dict[str, Any]]:
    """The two-week demo practice starting the Monday before TODAY, past up to DEMO_AT."""
    from slotoptim.listener.practice.demo import build_demo_practice
    from slotoptim.listener.practice.importer import import_practice

    import_practice(conn, build_demo_practice(TODAY - dt.timedelta(days=7), now=DEMO_AT))
    return conn


@pytest.fixture
def history_at() -> dt.datetime:
    """The instant the history ends: midnight starting TODAY, New York time."""
    return AT


@pytest.fixture
def history_today() -> dt.date:
    return TODAY


@pytest.fixture
def demo_at() -> dt.datetime:
    return DEMO_AT


@pytest.fixture(scope="session")
def kaggle_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small Kaggle-format model in a model store (synthetic rows, few rounds): the fallback's source."""
    from slotoptim.ml.noshow.model import DEFAULT_PARAMS, train_noshow_model
    from slotoptim.ml.noshow.store import save_model
    from slotoptim.ml.noshow.synthetic import synthetic_appointments

    root = tmp_path_factory.mktemp("kaggle-store")
    rows = synthetic_appointments(3_000, patients=600, days=30, seed=11)
    model = train_noshow_model(rows, rounds=20, params=DEFAULT_PARAMS | {"nthread": 1})
    save_model(model, root=root, training_source="synthetic Kaggle-format rows")
    return root
