"""Migration 0009 (input rules) on a database that already holds rows breaking them: repairs that
keep the engine's behaviour are made, the rest keep their constraint NOT VALID (new writes obey it)
and nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from alembic import command
from psycopg.rows import dict_row
from test_migrations import empty_db  # noqa: F401 (fixture)

from slotoptim.migrations.migrate import alembic_config, migrate

BEFORE_INPUT_RULES = "0006"


@pytest.fixture
def old_db(empty_db: str) -> Iterator[str]:  # noqa: F811
    command.upgrade(alembic_config(empty_db), BEFORE_INPUT_RULES)
    yield empty_db


def _one(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...] = ()) -> dict[str, Any]:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return dict(row)


def test_existing_rows_are_repaired_or_reported(old_db: str) -> None:
    with psycopg.connect(old_db, row_factory=dict_row, autocommit=True) as conn:
        org = _one(
            conn,
            "insert into slotoptim_private.organisation (key, name, timezone) values ('old', 'Old', 'Factory')"
            " returning id",
        )["id"]
        provider = _one(
            conn,
            "insert into slotoptim_private.provider (org_id, key, name, timezone)"
            " values (%s, 'dr-old', 'Dr. Old', 'EST5EDT') returning id",
            (org,),
        )["id"]
        other = _one(
            conn,
            "insert into slotoptim_private.provider (org_id, key, name, timezone)"
            " values (%s, 'dr-two', 'Dr. Two', 'America/Chicago') returning id",
            (org,),
        )["id"]
        service = _one(
            conn,
            "insert into slotoptim_private.service (org_id, key, name, minutes, price)"
            " values (%s, 'nan', 'NaN visit', 30, 'NaN') returning id",
            (org,),
        )["id"]
        customer = _one(
            conn,
            "insert into slotoptim_private.customer (org_id, key, name, timezone)"
            " values (%s, 'c1', 'C One', 'Etc/GMT+5') returning id",
            (org,),
        )["id"]
        entry = (
            "insert into slotoptim_private.waitlist_entry (org_id, customer_id, service_ids, provider_ids,"
            " excluded_provider_ids, travel_minutes, max_travel_minutes) values (%s, %s, %s, %s, %s, %s, %s)"
            " returning id"
        )
        both = _one(conn, entry, (org, customer, [service], [provider, other], [provider], None, None))["id"]
        only_excluded = _one(conn, entry, (org, customer, [service], [provider], [provider], None, None))["id"]
        far = _one(conn, entry, (org, customer, [service], None, [], 50, 30))["id"]
        # At revision 0006 the triggers (repeatable files) are not there yet: the row carries its
        # buffer and blocked time itself.
        conn.execute(
            "insert into slotoptim_private.appointment (org_id, provider_id, service_id, period,"
            " buffer_after_minutes, blocked)"
            " values (%s, %s, %s, tstzrange('9999-12-31 23:00-05', '10000-01-01 05:00+00'), 0,"
            " tstzrange('9999-12-31 23:00-05', '10000-01-01 05:00+00'))",
            (org, provider, service),
        )

    assert migrate(old_db)

    with psycopg.connect(old_db, row_factory=dict_row, autocommit=True) as conn:
        assert _one(conn, "select timezone from slotoptim_private.organisation")["timezone"] == "UTC"
        zones = {r["key"]: r["timezone"] for r in conn.execute("select key, timezone from slotoptim_private.provider")}
        assert zones == {"dr-old": "America/New_York", "dr-two": "America/Chicago"}
        assert _one(conn, "select timezone from slotoptim_private.customer")["timezone"] is None
        entries = {
            r["id"]: r
            for r in conn.execute(
                "select id, status, provider_ids, excluded_provider_ids, travel_minutes, max_travel_minutes"
                " from slotoptim_private.waitlist_entry"
            )
        }
        assert entries[both]["provider_ids"] == [other] and entries[both]["status"] == "active"
        assert entries[only_excluded]["provider_ids"] is None and entries[only_excluded]["status"] == "paused"
        assert entries[far]["travel_minutes"] == 50 and entries[far]["max_travel_minutes"] == 50
        validated = {
            r["conname"]: r["convalidated"]
            for r in conn.execute(
                "select conname, convalidated from pg_constraint where conname in ('appointment_period_range',"
                " 'service_price_finite', 'appointment_length_max', 'waitlist_travel_within_max',"
                " 'customer_dates_range')"
            )
        }
        assert validated == {
            "appointment_period_range": False,  # the year-10000 row is still there, reported
            "service_price_finite": False,  # the NaN price too
            "appointment_length_max": True,
            "waitlist_travel_within_max": True,
            "customer_dates_range": True,
        }
        assert _one(conn, "select count(*) as n from slotoptim_private.appointment")["n"] == 1
        # NOT VALID still guards new writes.
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("update slotoptim_private.service set price = 'NaN' where key = 'nan'")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "insert into slotoptim_private.appointment (org_id, provider_id, service_id, period)"
                " values (%s, %s, %s, tstzrange('2300-01-01 09:00+00', '2300-01-01 10:00+00'))",
                (org, provider, service),
            )
