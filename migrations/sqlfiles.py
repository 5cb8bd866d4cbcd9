"""The SQL sources in sql/, in the order they apply.

Files numbered below 40 are structural (extensions, schemas, validators, tables): migrations own
them, and migration 0001 carries a frozen copy. Files from 40 on are repeatable (functions,
triggers, views, grants written with `create or replace`): sql/ is their one source of truth and
the migration runner re-applies them whenever one of them changes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import tuple_row

REPEATABLE_FROM = 40


@dataclass(frozen=True)
class SqlFile:
    name: str
    text: str

    @property
    def number(self) -> int:
        # A letter may follow the number ("39a_tables_queue.sql"): new structural files then sort
        # after 39 and before the first repeatable file without renumbering the ones before them.
        match = re.match(r"\d+", self.name)
        if match is None:
            raise ValueError(f"sql file {self.name} does not start with its number")
        return int(match.group())

    @property
    def repeatable(self) -> bool:
        return self.number >= REPEATABLE_FROM

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def sql_files() -> list[SqlFile]:
    root = resources.files("slotoptim.sql")
    files = [
        SqlFile(entry.name, entry.read_text(encoding="utf-8"))
        for entry in root.iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(files, key=lambda f: f.name)


def structural_files() -> list[SqlFile]:
    return [f for f in sql_files() if not f.repeatable]


def repeatable_files() -> list[SqlFile]:
    return [f for f in sql_files() if f.repeatable]


def execute_script(conn: psycopg.Connection[Any], text: str) -> None:
    """Runs a whole SQL file. Without parameters psycopg sends it as one simple query,
    so several statements and literal percent signs are fine."""
    conn.execute(text.encode())


def apply_repeatables(conn: psycopg.Connection[Any]) -> bool:
    """Re-applies every repeatable file, in order, when any of them changed since the last run.

    Returns True when something was applied. All of them are re-run together because a view may
    depend on a function in another file; `create or replace` makes that safe.
    """
    wanted = {f.name: f.sha256 for f in repeatable_files()}
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("select file_name, sha256 from slotoptim_private.schema_source")
        current = {str(name): str(sha) for name, sha in cur.fetchall()}
    if current == wanted:
        return False
    for f in repeatable_files():
        execute_script(conn, f.text)
    conn.execute("delete from slotoptim_private.schema_source")
    with conn.cursor() as cur:
        cur.executemany(
            "insert into slotoptim_private.schema_source (file_name, sha256) values (%s, %s)",
            list(wanted.items()),
        )
    return True


def build_from_sources(conn: psycopg.Connection[Any]) -> None:
    """Builds the whole schema straight from sql/ (no migration history): the reference the
    migration test compares against, and the fast path for throwaway databases."""
    for f in structural_files():
        execute_script(conn, f.text)
    apply_repeatables(conn)
