"""The slotoptim command, run as a user runs it, against the test server."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def slotoptim(url: str, *args: str, tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "slotoptim.listener.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tmp,
    )


def test_import_gaps_export(fresh_db: str, tmp_path: Path) -> None:
    done = slotoptim(fresh_db, "import", "--demo", "--start", "2026-11-23")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["waitlist"] == 200

    done = slotoptim(
        fresh_db,
        "gaps",
        "--provider",
        "dr-chen",
        "--start",
        "2026-11-24T00:00:00-05:00",
        "--end",
        "2026-11-25T00:00:00-05:00",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    gaps: list[dict[str, Any]] = json.loads(done.stdout)
    assert gaps and all(g["kind"] in ("bookable", "fragment") for g in gaps)
    assert all(g["start"].startswith("2026-11-24T") and g["start"].endswith("-05:00") for g in gaps)

    # --day: the same local day without shell date arithmetic (`make run` uses --day tomorrow)
    done = slotoptim(fresh_db, "gaps", "--provider", "dr-chen", "--day", "2026-11-24", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == gaps
    done = slotoptim(fresh_db, "gaps", "--provider", "dr-chen", "--day", "tomorrow")
    assert done.returncode == 0, done.stderr
    # --utc: the API's convention; the same instants
    done = slotoptim(fresh_db, "gaps", "--provider", "dr-chen", "--day", "2026-11-24", "--format", "json", "--utc")
    utc = json.loads(done.stdout)
    assert utc and all(g["start"].endswith("Z") for g in utc)
    assert [dt.datetime.fromisoformat(g["start"]) for g in utc] == [dt.datetime.fromisoformat(g["start"]) for g in gaps]

    out = tmp_path / "practice.json"
    done = slotoptim(fresh_db, "export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["organisation"]["key"] == "harbourview"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "gaps",
                "--provider",
                "dr-x",
                "--start",
                "2026-11-24T00:00:00-05:00",
                "--end",
                "2026-11-25T00:00:00-05:00",
            ],
            "unknown provider 'dr-x'",
        ),
        (
            ["gaps", "--provider", "dr-chen", "--start", "tomorrow", "--end", "2026-11-25T00:00:00-05:00"],
            "--start: 'tomorrow' is not an ISO 8601 date-time",
        ),
        (["import", "/nonexistent/practice.json"], "cannot read the file"),
        (["gaps", "--provider", "dr-chen", "--day", "someday"], "--day: 'someday' is not a date"),
        (["import", "--demo", "--drop-keys"], "--drop-keys: only with --replace"),
        (["gaps", "--provider", "dr-chen"], "--start: give --start and --end, or --day"),
        (
            [
                "gaps",
                "--org",
                "nope",
                "--provider",
                "dr-chen",
                "--start",
                "2026-11-24T00:00:00-05:00",
                "--end",
                "2026-11-25T00:00:00-05:00",
            ],
            "--org: unknown organisation 'nope'",
        ),
    ],
)
def test_bad_input_exits_2_with_a_message(fresh_db: str, args: list[str], message: str) -> None:
    done = slotoptim(fresh_db, *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_file_names_the_field_and_imports_nothing(fresh_db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "format": "slotoptim.practice/1",
                "organisation": {"key": "x", "name": "X", "timezone": "Europe/Paris"},
                "services": [{"key": "s", "name": "S", "minutes": 0}],
            }
        )
    )
    done = slotoptim(fresh_db, "import", str(bad))
    assert done.returncode == 2
    assert "services[0].minutes" in done.stderr
    done = slotoptim(fresh_db, "export")
    assert done.returncode == 2 and "found: none" in done.stderr


def test_re_importing_the_demo_keeps_keys_and_says_what_it_removed(fresh_db: str) -> None:
    """What `make run` does on every run: it must never revoke a key."""
    assert slotoptim(fresh_db, "import", "--demo", "--start", "2026-11-23").returncode == 0
    created = slotoptim(fresh_db, "apikey", "create", "--org", "harbourview", "--role", "staff", "--name", "desk")
    assert created.returncode == 0, created.stderr
    done = slotoptim(fresh_db, "import", "--demo", "--start", "2026-11-23", "--replace")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["removed"]["waitlist_entry"] == 200 and "api_key" not in report["removed"]
    import psycopg

    with psycopg.connect(fresh_db) as conn:
        row = conn.execute("select count(*) from slotoptim_private.api_key where revoked_at is null").fetchone()
    assert row == (1,)


def test_db_url_is_a_real_url_and_db_psql_is_the_embedded_servers(fresh_db: str) -> None:
    done = slotoptim(fresh_db, "db", "url")
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith("postgresql://")
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("select current_database()").fetchone()
    assert row is not None
    psql = slotoptim(fresh_db, "db", "psql", "-X", "-At", "-c", "select current_database()")
    assert psql.returncode == 0, psql.stderr
    assert psql.stdout.strip() == row[0]
    version = slotoptim(fresh_db, "db", "psql", "--version")
    assert version.stdout.startswith("psql (PostgreSQL) 18"), version.stdout
    assert slotoptim(fresh_db, "db", "url", "extra").returncode == 2
