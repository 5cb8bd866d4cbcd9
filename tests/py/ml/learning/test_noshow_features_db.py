"""The SQL features are what the booking knew: rewriting everything after a cut-off leaves the
features of every appointment booked before it unchanged (tests/sql/noshow_features has the rule
case by case; this checks it over a whole synthetic practice)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import psycopg

from slotoptim.ml.noshow.features import FEATURE_NAMES
from slotoptim.ml.noshow.practice_matrix import kaggle_matrix, practice_columns, practice_matrix
from slotoptim.ml.noshow.practice_rows import NUMERIC_COLUMNS, read_practice_rows

FEATURES = ", ".join(NUMERIC_COLUMNS)


def _features_booked_before(
    conn: psycopg.Connection[dict[str, Any]], at: dt.datetime, cut: dt.datetime
) -> dict[int, tuple[Any, ...]]:
    rows = conn.execute(
        f"select appointment_id, {FEATURES} from slotoptim_private.noshow_features(null, %s) where booked_at < %s",
        (at, cut),
    ).fetchall()
    return {r["appointment_id"]: tuple(r[c] for c in NUMERIC_COLUMNS) for r in rows}


def test_rewriting_the_future_of_a_cut_off_leaves_earlier_bookings_unchanged(
    history_conn: psycopg.Connection[dict[str, Any]], history_at: dt.datetime
) -> None:
    cut = history_at - dt.timedelta(days=21)
    before = _features_booked_before(history_conn, history_at, cut)
    assert len(before) > 300
    # Everything that starts after the cut-off: outcomes flipped, some cancelled, some deleted, and
    # new misses for the same customers.
    history_conn.execute(
        "update slotoptim_private.appointment set status = case status when 'no_show' then 'completed'"
        " when 'completed' then 'no_show' else status end where lower(period) >= %s",
        (cut,),
    )
    history_conn.execute(
        "update slotoptim_private.appointment set status = 'cancelled',"
        " cancelled_at = greatest(lower(period) - interval '1 hour', %s)"
        " where lower(period) >= %s and id %% 7 = 0 and status <> 'cancelled'",
        (cut, cut),
    )
    # Misses only: a cancellation may have been made before the cut (then it is history), and deleting a
    # blocking appointment opens a gap that points at it.
    history_conn.execute(
        "delete from slotoptim_private.appointment where lower(period) >= %s and id %% 3 = 0 and status = 'no_show'",
        (cut,),
    )
    # Misses in the future of the real clock too: the rewrite happens as if long after them (an
    # appointment cannot be a no-show before it starts, by slotoptim.clock).
    history_conn.execute("select set_config('slotoptim.clock', '2199-01-01T00:00:00+00', false)")
    history_conn.execute(
        "insert into slotoptim_private.appointment"
        " (org_id, provider_id, service_id, customer_id, period, status, booked_at, buffer_after_minutes)"
        " select org_id, provider_id, service_id, customer_id, tstzrange(lower(period) + interval '2 hours 3 minutes',"
        " upper(period) + interval '2 hours 3 minutes'), 'no_show', booked_at, 0"
        " from slotoptim_private.appointment where lower(period) >= %s and id %% 5 = 0",
        (cut,),
    )
    history_conn.execute("select set_config('slotoptim.clock', '', false)")
    after = _features_booked_before(history_conn, history_at, cut)
    survivors = before.keys() & after.keys()
    assert len(survivors) > 0.8 * len(before)
    changed = [i for i in survivors if before[i] != after[i]]
    assert changed == [], str(
        [
            (i, [(c, a, b) for c, a, b in zip(NUMERIC_COLUMNS, before[i], after[i], strict=True) if a != b])
            for i in changed
        ]
    )


def test_changing_the_past_before_a_booking_does_change_it(
    history_conn: psycopg.Connection[dict[str, Any]], history_at: dt.datetime
) -> None:
    # The control: the features do read history, so rewriting what happened before the cut moves them.
    cut = history_at - dt.timedelta(days=21)
    before = _features_booked_before(history_conn, history_at, history_at)
    history_conn.execute(
        "update slotoptim_private.appointment set status = 'no_show' where status = 'completed' and lower(period) < %s",
        (cut,),
    )
    after = _features_booked_before(history_conn, history_at, history_at)
    assert sum(before[i] != after[i] for i in before) > 100


def test_rows_map_onto_both_feature_matrices(
    history_conn: psycopg.Connection[dict[str, Any]], history_at: dt.datetime
) -> None:
    rows = read_practice_rows(history_conn, None, history_at, "labelled")
    assert len(rows) > 500
    assert set(np.unique(rows.label)) == {0.0, 1.0}
    columns = practice_columns(["dr-chen", "dr-patel"], ["checkup", "consult", "new-patient"])
    matrix = practice_matrix(rows, columns)
    assert matrix.shape == (len(rows), len(NUMERIC_COLUMNS) + 5)
    # One-hot: a row has at most one provider column set; okafor-pt, not among the columns, has none.
    providers = matrix[:, len(NUMERIC_COLUMNS) : len(NUMERIC_COLUMNS) + 2].sum(axis=1)
    assert np.array_equal(providers == 0, rows.provider_key == "okafor-pt")

    kaggle = kaggle_matrix(rows, neighbourhood_base_rate=0.2)
    assert kaggle.shape == (len(rows), len(FEATURE_NAMES))
    column = {name: kaggle[:, i] for i, name in enumerate(FEATURE_NAMES)}
    # Monday = 0 there, ISO 1 here; every earlier appointment (kept or missed) is a Kaggle "visit".
    assert set(np.unique(column["appointment_weekday"])) <= {0.0, 1.0, 2.0, 3.0, 4.0, 5.0}
    assert np.array_equal(column["prior_visits"], rows.numeric["prior_visits"] + rows.numeric["prior_no_shows"])
    assert np.all(column["neighbourhood_no_show_rate"] == 0.2)


def test_upcoming_rows_are_booked_or_confirmed_and_unlabelled(
    history_conn: psycopg.Connection[dict[str, Any]], history_at: dt.datetime
) -> None:
    rows = read_practice_rows(history_conn, None, history_at, "upcoming")
    assert len(rows) > 20
    assert np.all(np.isnan(rows.label))
    assert rows.local_day.min() >= np.datetime64(history_at.date())
