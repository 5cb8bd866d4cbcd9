"""Moving a practice in without losing the way in: --replace keeps API keys, analyst logins and
the audit trail and says what it removed; --drop-keys removes them (and the LOGIN roles); export
carries the fill-engine and learning settings, so export -> import gives back the same practice."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import psycopg
import pytest

from slotoptim.api.apikeys import create_key, find_key
from slotoptim.listener.practice.demo import build_demo_practice
from slotoptim.listener.practice.exporter import export_practice
from slotoptim.listener.practice.importer import import_practice
from slotoptim.listener.practice.schema import check_practice

START = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return build_demo_practice(START)


def _org_id(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("select id from slotoptim_private.organisation where key = 'harbourview'").fetchone()
    assert row is not None
    return int(row["id"])


def _role_exists(conn: psycopg.Connection[Any], name: str) -> bool:
    return conn.execute("select 1 from pg_roles where rolname = %s", (name,)).fetchone() is not None


def test_replace_keeps_keys_and_analyst_logins_and_says_what_it_removed(
    conn: psycopg.Connection[Any], demo: dict[str, Any]
) -> None:
    import_practice(conn, demo)
    org_id = _org_id(conn)
    token = create_key(conn, org_id, "front desk", "staff").token
    login = f"analyst_{uuid.uuid4().hex[:8]}"
    conn.execute("select slotoptim.create_analyst_login('harbourview', %s, 'a long password 1')", (login,))
    try:
        summary = import_practice(conn, demo, replace=True)
        assert _org_id(conn) == org_id, "the organisation row (and what hangs on it) stays"
        assert find_key(conn, token) is not None, "re-importing must never revoke a key"
        assert conn.execute(
            "select org_id from slotoptim_private.analyst_login where role_name = %s", (login,)
        ).fetchone() == {"org_id": org_id}
        assert summary.removed["appointment"] == len(demo["appointments"])
        assert summary.removed["customer"] == len(demo["customers"])
        assert "api_key" not in summary.removed

        dropped = import_practice(conn, demo, replace=True, drop_keys=True)
        assert dropped.removed["api_key"] == 1 and dropped.removed["analyst_login"] == 1
        assert find_key(conn, token) is None
        assert not _role_exists(conn, login), "the analyst's LOGIN role is dropped, not orphaned"
    finally:
        if _role_exists(conn, login):
            conn.execute(f'drop role "{login}"')


def test_export_carries_settings_and_round_trips_exactly(conn: psycopg.Connection[Any], demo: dict[str, Any]) -> None:
    import_practice(conn, demo)
    org_id = _org_id(conn)
    conn.execute(
        "update slotoptim_private.organisation_settings set offer_strategy = 'burst', score_threshold = 61.5,"
        " weight_travel = 3, burst_size = 7, burst_window = interval '25 minutes', send_window_start = '09:30',"
        " message_max_attempts = 3 where org_id = %s",
        (org_id,),
    )
    conn.execute(
        "insert into slotoptim_private.cascade_wave (org_id, wave, max_candidates, min_score, response_window,"
        " allow_email) values (%s, 1, 4, 60, interval '10 minutes', false), (%s, 2, null, 40, interval '45 minutes',"
        " true)",
        (org_id, org_id),
    )
    conn.execute(
        "update slotoptim_private.learning_settings set high_risk_threshold = 0.25, use_learned_buffers = true"
        " where org_id = %s",
        (org_id,),
    )
    first = export_practice(conn, "harbourview")
    check_practice(first)
    settings = first["settings"]
    assert settings["offer_strategy"] == "burst" and settings["score_threshold"] == 61.5
    assert settings["burst_window_minutes"] == 25 and settings["send_window_start"] == "09:30"
    assert [w["response_window_minutes"] for w in settings["cascade_waves"]] == [10, 45]
    assert settings["learning"]["use_learned_buffers"] is True

    import_practice(conn, first, replace=True, drop_keys=True)  # a new organisation row from the file alone
    second = export_practice(conn, "harbourview")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_merge_adds_and_updates_by_key_and_leaves_the_rest(conn: psycopg.Connection[Any], demo: dict[str, Any]) -> None:
    import_practice(conn, demo)
    org_id = _org_id(conn)
    token = create_key(conn, org_id, "front desk", "staff").token
    before = export_practice(conn, "harbourview")
    service = dict(before["services"][0], price=999.0)
    newcomer = {"key": "c-new", "name": "Nia New", "phone": "+16175550999", "consent": {"sms": True}}
    patch = {
        "format": before["format"],
        "organisation": before["organisation"],
        "settings": {"offer_strategy": "broadcast"},
        "services": [service],
        "customers": [newcomer],
    }
    check_practice(patch)
    summary = import_practice(conn, patch, merge=True)
    assert summary.removed == {}
    after = export_practice(conn, "harbourview")
    assert after["services"][0]["price"] == 999.0
    assert next(c for c in after["customers"] if c["key"] == "c-new")["name"] == "Nia New"
    assert len(after["customers"]) == len(before["customers"]) + 1
    assert after["appointments"] == before["appointments"] and after["waitlist"] == before["waitlist"]
    assert after["settings"] == dict(before["settings"], offer_strategy="broadcast")
    assert find_key(conn, token) is not None
