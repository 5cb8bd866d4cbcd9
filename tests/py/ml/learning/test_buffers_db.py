"""`slotoptim ml buffers` against a database: learned buffers from recorded durations, and the plug-in
into slotoptim_private.buffer_after() (tests/sql/learned_buffers has the SQL side case by case)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from slotoptim.ml.buffers.learned_db import learn_buffers
from slotoptim.ml.noshow.organisations import organisations

BOOK = (
    "insert into slotoptim_private.appointment (org_id, provider_id, service_id, period)"
    " select p.org_id, p.id, s.id, tstzrange(%(start)s, %(start)s + make_interval(mins => s.minutes))"
    " from slotoptim_private.provider p join slotoptim_private.service s on s.org_id = p.org_id"
    " where p.key = %(provider)s and s.key = %(service)s returning buffer_after_minutes"
)


def test_learns_per_service_and_provider_and_the_bookings_use_it_when_on(
    history_conn: psycopg.Connection[dict[str, Any]], history_at: dt.datetime
) -> None:
    (org,) = organisations(history_conn)
    summary = learn_buffers(history_conn, org, history_at)
    assert summary["records"] > 500 and summary["quantile"] == 0.8 and summary["max_buffer_minutes"] == 30
    rows = history_conn.execute("select * from slotoptim.learned_buffers order by service_key, provider_key").fetchall()
    assert {r["service_key"] for r in rows} >= {"checkup", "consult", "new-patient", "physio-initial"}
    assert all(0 <= r["minutes"] <= 30 and r["quantile"] == 0.8 and not r["in_use"] for r in rows)
    by_key = {(r["service_key"], r["provider_key"]): r["minutes"] for r in rows}
    # The synthetic history has Dr. Patel running about five minutes longer than Dr. Chen.
    assert by_key[("checkup", "dr-patel")] > by_key[("checkup", "dr-chen")]
    # In-sample, the p80 buffer covers about 80 % of the records it was learned from.
    for service in summary["services"]:
        assert 0.7 < service["within_learned_buffer"] <= 0.95

    start = dt.datetime(2026, 12, 31, 9, 0, tzinfo=history_at.tzinfo)
    off = history_conn.execute(BOOK, {"start": start, "provider": "dr-patel", "service": "checkup"}).fetchone()
    assert off == {"buffer_after_minutes": 5}, "off: the service default"
    history_conn.execute("update slotoptim_private.learning_settings set use_learned_buffers = true")
    on = history_conn.execute(
        BOOK, {"start": start + dt.timedelta(hours=2), "provider": "dr-patel", "service": "checkup"}
    ).fetchone()
    assert on == {"buffer_after_minutes": by_key[("checkup", "dr-patel")]}, "on: Dr. Patel's own learned buffer"

    version = history_conn.execute(
        "select metadata from slotoptim.model_versions where kind = 'buffers' and active"
    ).fetchone()
    assert version is not None and version["metadata"]["records"] == summary["records"]


def test_settings_and_options_choose_quantile_and_cap(
    history_conn: psycopg.Connection[dict[str, Any]], history_at: dt.datetime
) -> None:
    (org,) = organisations(history_conn)
    history_conn.execute("update slotoptim_private.learning_settings set buffer_quantile = 0.5, buffer_max_minutes = 4")
    summary = learn_buffers(history_conn, org, history_at)
    assert summary["quantile"] == 0.5
    assert history_conn.execute("select max(minutes) as m from slotoptim_private.learned_buffer").fetchone() == {"m": 4}
    learn_buffers(history_conn, org, history_at, quantile=0.95, max_minutes=60)
    high = history_conn.execute("select max(minutes) as m from slotoptim_private.learned_buffer").fetchone()
    assert high is not None and high["m"] > 4


def test_no_recorded_durations_changes_nothing(
    conn: psycopg.Connection[dict[str, Any]], history_at: dt.datetime
) -> None:
    conn.execute("select tests.make_practice()")
    (org,) = organisations(conn)
    summary = learn_buffers(conn, org, history_at)
    assert summary["records"] == 0 and "nothing learned" in summary["note"]
    assert conn.execute("select count(*) as n from slotoptim_private.learned_buffer").fetchone() == {"n": 0}
