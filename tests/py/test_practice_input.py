"""Hostile and mistaken practice files: `slotoptim import` exits 2 with a message naming the field
(never a traceback), and nothing is imported. The database refuses the same values on its own."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import psycopg
import pytest
from api.api_practice import practice
from test_cli import slotoptim

from slotoptim.listener.practice.errors import PracticeError
from slotoptim.listener.practice.importer import import_practice
from slotoptim.listener.practice.schema import check_practice, read_practice_file


@pytest.fixture
def small() -> dict[str, Any]:
    return practice("acme", 555)


def _organisations(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("select count(*) from slotoptim_private.organisation").fetchone()
    assert row is not None
    return int(row[0])


def _refused_by_cli(url: str, path: Path, *words: str) -> str:
    done = slotoptim(url, "import", str(path))
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    for word in words:
        assert word in done.stderr, done.stderr
    assert _organisations(url) == 0, "nothing may be imported"
    return done.stderr


def test_files_that_are_not_utf8_json(fresh_db: str, tmp_path: Path, small: dict[str, Any]) -> None:
    text = json.dumps(small, ensure_ascii=False)
    latin = tmp_path / "latin1.json"
    latin.write_bytes(text.replace("Customer 1", "Cliént 1").encode("latin-1"))
    _refused_by_cli(fresh_db, latin, "not UTF-8")

    utf16 = tmp_path / "utf16.json"
    utf16.write_bytes(text.encode("utf-16"))
    _refused_by_cli(fresh_db, utf16, "UTF-16")
    bare16 = tmp_path / "utf16-no-bom.json"
    bare16.write_bytes(text.encode("utf-16-le"))
    _refused_by_cli(fresh_db, bare16, "not a text file")

    binary = tmp_path / "photo.jpg"
    binary.write_bytes(bytes(range(256)) * 64)
    _refused_by_cli(fresh_db, binary, "not a text file")

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 5000 + "]" * 5000)
    _refused_by_cli(fresh_db, deep, "nested")
    shallow_but_deep = tmp_path / "deep-object.json"
    shallow_but_deep.write_text('{"a":' * 40 + "1" + "}" * 40)
    _refused_by_cli(fresh_db, shallow_but_deep, "nested deeper than 32 levels")


def test_an_endless_file_is_refused_at_the_size_limit(fresh_db: str, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text('{"format": "' + "x" * 5000 + '"}')
    with pytest.raises(PracticeError, match="larger than"):
        read_practice_file(big, max_bytes=4096)
    # /dev/zero never ends: the importer stops reading at the limit (64 MB) instead of running out
    # of memory.
    _refused_by_cli(fresh_db, Path("/dev/zero"), "larger than 64 MB")


def test_a_nul_in_a_name_is_named(fresh_db: str, tmp_path: Path, small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    bad["customers"][2]["name"] = "Ann\u0000Lee"
    path = tmp_path / "nul.json"
    path.write_text(json.dumps(bad))
    _refused_by_cli(fresh_db, path, "customers[2].name", "NUL")


def test_a_nan_price_is_named(fresh_db: str, tmp_path: Path, small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    bad["services"][1]["price"] = math.nan
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(bad))  # Python writes NaN, which JSON does not have
    _refused_by_cli(fresh_db, path, "services[1].price")


def test_an_appointment_in_year_10000_is_named(fresh_db: str, tmp_path: Path, small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    bad["appointments"][1]["start"] = "9999-12-31T23:00:00-05:00"  # year 10000 in UTC
    path = tmp_path / "y10k.json"
    path.write_text(json.dumps(bad))
    _refused_by_cli(fresh_db, path, "appointments[1].start", "2200")


# Item 11: accepted but wrong. import_practice directly (one transaction, rolled back).


def _refused(conn: psycopg.Connection[Any], document: dict[str, Any], where: str, words: str) -> None:
    with pytest.raises(PracticeError) as raised:
        check_practice(document)
        import_practice(conn, document)
    assert raised.value.where == where, str(raised.value)
    assert words in raised.value.problem, str(raised.value)
    row = conn.execute("select count(*) as n from slotoptim_private.organisation").fetchone()
    assert row is not None and row["n"] == 0, "nothing may be half-imported"


def test_a_ten_year_appointment(conn: psycopg.Connection[Any], small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    start = dt.datetime.fromisoformat(bad["appointments"][0]["start"])
    bad["appointments"][0]["end"] = start.replace(year=start.year + 10).isoformat()
    _refused(conn, bad, "appointments[0].end", "at most 24 hours")


def test_arrived_and_no_show_on_a_future_appointment(conn: psycopg.Connection[Any], small: dict[str, Any]) -> None:
    for status in ("arrived", "no_show", "completed"):
        bad = copy.deepcopy(small)
        bad["appointments"][0]["start"] = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
        bad["appointments"][0]["status"] = status
        _refused(conn, bad, "appointments[0].status", "cannot be marked")


@pytest.mark.parametrize("zone", ["Factory", "EST5EDT", "Etc/GMT+5"])
def test_zones_that_are_not_places(conn: psycopg.Connection[Any], small: dict[str, Any], zone: str) -> None:
    bad = copy.deepcopy(small)
    bad["providers"][0]["timezone"] = zone
    _refused(conn, bad, "providers[0].timezone", "not a place's time zone")


def test_preferred_and_excluded_provider(conn: psycopg.Connection[Any], small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    bad["waitlist"][0]["providers"] = ["dr-a", "dr-b"]
    bad["waitlist"][0]["excluded_providers"] = ["dr-b"]
    _refused(conn, bad, "waitlist[0].excluded_providers", "both preferred and excluded")


def test_travel_above_its_maximum(conn: psycopg.Connection[Any], small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    bad["waitlist"][0]["travel_minutes"] = 45
    bad["waitlist"][0]["max_travel_minutes"] = 30
    _refused(conn, bad, "waitlist[0].travel_minutes", "must not exceed")


def test_a_price_finer_than_a_cent(conn: psycopg.Connection[Any], small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    bad["services"][0]["price"] = 0.001
    _refused(conn, bad, "services[0].price", "more than two decimals")
    fine = copy.deepcopy(small)
    fine["services"][0]["price"] = 19.99
    import_practice(conn, fine)
    row = conn.execute("select price::text as p from slotoptim_private.service where key = 'short'").fetchone()
    assert row == {"p": "19.99"}


def test_the_database_refuses_the_same_values_on_its_own(conn: psycopg.Connection[Any], small: dict[str, Any]) -> None:
    import_practice(conn, small)
    ids = conn.execute(
        "select p.id as provider, s.id as service, p.org_id as org from slotoptim_private.provider as p"
        " join slotoptim_private.service as s on s.org_id = p.org_id and s.key = 'short' where p.key = 'dr-a'"
    ).fetchone()
    assert ids is not None
    insert = (
        "insert into slotoptim_private.appointment (org_id, provider_id, service_id, period)"
        " values (%(org)s, %(provider)s, %(service)s, tstzrange(%(start)s::timestamptz, %(end)s::timestamptz))"
    )
    refusals = [
        (insert, {**ids, "start": "9999-12-31 23:00-05", "end": "10000-01-01 05:00+00"}, "appointment_period_range"),
        (insert, {**ids, "start": "1850-01-01 09:00+00", "end": "1850-01-01 10:00+00"}, "appointment_period_range"),
        (insert, {**ids, "start": "2030-01-01 09:00+00", "end": "2040-01-01 09:00+00"}, "appointment_length_max"),
        ("update slotoptim_private.service set price = 'NaN' where id = %(service)s", ids, "service_price_finite"),
        ("update slotoptim_private.provider set timezone = 'Factory' where id = %(provider)s", ids, None),
        ("update slotoptim_private.provider set timezone = 'EST5EDT' where id = %(provider)s", ids, None),
        (
            "update slotoptim_private.waitlist_entry set provider_ids = array[%(provider)s::bigint],"
            " excluded_provider_ids = array[%(provider)s::bigint] where org_id = %(org)s",
            ids,
            "waitlist_provider_not_excluded",
        ),
        (
            "update slotoptim_private.waitlist_entry set travel_minutes = 50, max_travel_minutes = 20"
            " where org_id = %(org)s",
            ids,
            "waitlist_travel_within_max",
        ),
    ]
    for query, params, constraint in refusals:
        with pytest.raises(psycopg.errors.CheckViolation) as raised, conn.transaction():
            conn.execute(query, params)
        if constraint is not None:
            assert raised.value.diag.constraint_name == constraint, query
