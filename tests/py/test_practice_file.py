"""Practice files: the demo imports and round-trips; bad files are refused with a message that
names the field, and nothing is half-imported."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import psycopg
import pytest

from slotoptim.listener.practice.demo import build_demo_practice
from slotoptim.listener.practice.errors import PracticeError
from slotoptim.listener.practice.exporter import export_practice
from slotoptim.listener.practice.importer import import_practice
from slotoptim.listener.practice.schema import check_practice

START = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return build_demo_practice(START)


def _count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"select count(*) as n from slotoptim_private.{table}").fetchone()
    assert row is not None
    return int(row["n"])


def test_demo_practice_has_the_promised_size(demo: dict[str, Any]) -> None:
    check_practice(demo)
    assert len(demo["providers"]) == 4
    assert len(demo["waitlist"]) == 200
    days = {a["start"][:10] for a in demo["appointments"]}
    assert len(days) >= 10 and min(days) == "2026-11-23" and max(days) >= "2026-12-04"


def test_import_export_round_trip(conn: psycopg.Connection[Any], demo: dict[str, Any]) -> None:
    summary = import_practice(conn, demo)
    assert summary.counts["appointments"] == len(demo["appointments"])
    first = export_practice(conn, "harbourview")
    check_practice(first)
    import_practice(conn, first, replace=True)
    second = export_practice(conn, "harbourview")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert len(second["waitlist"]) == 200


def _expect_refusal(conn: psycopg.Connection[Any], document: dict[str, Any], where: str, words: str) -> None:
    with pytest.raises(PracticeError) as raised:
        check_practice(document)
        import_practice(conn, document)
    assert raised.value.where == where, str(raised.value)
    assert words in raised.value.problem, str(raised.value)
    assert _count(conn, "organisation") == 0, "nothing may be half-imported"
    assert _count(conn, "customer") == 0


def test_bad_phone_is_named(conn: psycopg.Connection[Any], demo: dict[str, Any]) -> None:
    bad = copy.deepcopy(demo)
    bad["customers"][3]["phone"] = "617-555-0101"
    _expect_refusal(conn, bad, "customers[3].phone", "expected form")


def test_unknown_reference_is_named(conn: psycopg.Connection[Any], demo: dict[str, Any]) -> None:
    bad = copy.deepcopy(demo)
    bad["appointments"][5]["provider"] = "dr-nobody"
    _expect_refusal(conn, bad, "appointments[5].provider", "unknown provider 'dr-nobody'")


def test_overlapping_appointments_are_refused_by_the_database(
    conn: psycopg.Connection[Any], demo: dict[str, Any]
) -> None:
    bad = copy.deepcopy(demo)
    clash = copy.deepcopy(bad["appointments"][0])
    clash["key"] = "a-clash"
    clash["status"] = "booked"
    bad["appointments"].append(clash)
    where = f"appointments[{len(bad['appointments']) - 1}]"
    _expect_refusal(conn, bad, where, "overlaps another active appointment")


def test_time_without_offset_is_named(conn: psycopg.Connection[Any], demo: dict[str, Any]) -> None:
    bad = copy.deepcopy(demo)
    bad["appointments"][2]["start"] = "2026-11-24T09:00:00"
    _expect_refusal(conn, bad, "appointments[2].start", "no UTC offset")


def test_unknown_field_and_timezone_are_named(conn: psycopg.Connection[Any], demo: dict[str, Any]) -> None:
    bad = copy.deepcopy(demo)
    bad["providers"][1]["colour"] = "blue"
    _expect_refusal(conn, bad, "providers[1]", "unknown field")
    bad = copy.deepcopy(demo)
    bad["providers"][1]["timezone"] = "Mars/Olympus_Mons"
    _expect_refusal(conn, bad, "providers[1].timezone", "not a known time zone")


def test_existing_organisation_needs_replace(conn: psycopg.Connection[Any], demo: dict[str, Any]) -> None:
    import_practice(conn, demo)
    with pytest.raises(PracticeError, match="--replace"):
        import_practice(conn, demo)
    assert _count(conn, "organisation") == 1
