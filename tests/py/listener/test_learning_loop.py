"""The service's learning thread: when the nightly run is due, that it never raises into the
service, and that a replica skips a nightly run another one just did."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from slotoptim.listener.learning import NIGHTLY_LOCK, LearningLoop, next_nightly
from slotoptim.listener.practice.demo import build_demo_practice
from slotoptim.listener.practice.importer import import_practice

AT = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def test_next_nightly_is_the_next_occurrence() -> None:
    assert next_nightly(AT, dt.time(7)) == dt.datetime(2026, 11, 24, 7, tzinfo=dt.UTC)
    assert next_nightly(AT, dt.time(13)) == dt.datetime(2026, 11, 23, 13, tzinfo=dt.UTC)


def test_scoring_without_a_model_scores_nothing_and_does_not_raise(
    conn: psycopg.Connection[Any], fresh_db: str
) -> None:
    import_practice(conn, build_demo_practice(dt.date(2026, 11, 23)))
    loop = LearningLoop(fresh_db, clock=lambda: AT)
    assert loop.score_new_bookings() == 0
    unscored = conn.execute(
        "select count(*) as n from slotoptim_private.appointment where no_show_risk is null"
    ).fetchone()
    assert unscored is not None and unscored["n"] > 0


def test_nightly_is_skipped_while_another_replica_holds_the_lock(conn: psycopg.Connection[Any], fresh_db: str) -> None:
    loop = LearningLoop(fresh_db, clock=lambda: AT)
    with psycopg.connect(fresh_db, autocommit=True) as other:
        other.execute("select pg_advisory_lock(%s)", (NIGHTLY_LOCK,))
        assert loop.nightly() is None
        other.execute("select pg_advisory_unlock(%s)", (NIGHTLY_LOCK,))


def test_nightly_is_skipped_after_a_recent_training(conn: psycopg.Connection[Any], fresh_db: str) -> None:
    import_practice(conn, build_demo_practice(dt.date(2026, 11, 23)))
    conn.execute(
        "insert into slotoptim_private.model_version (org_id, kind, version, trained_at, metadata)"
        " select id, 'noshow', 'v1', %s, '{}' from slotoptim_private.organisation",
        (AT - dt.timedelta(hours=3),),
    )
    assert LearningLoop(fresh_db, clock=lambda: AT).nightly() is None
