"""Helpers the migration scripts call."""

from __future__ import annotations

from pathlib import Path

from alembic import op

from slotoptim.migrations.sqlfiles import execute_script


def run_sql_file(migration_file: str) -> None:
    """Runs the .sql file that sits beside a migration script and shares its name."""
    path = Path(migration_file).with_suffix(".sql")
    connection = op.get_bind().connection.driver_connection
    assert connection is not None
    execute_script(connection, path.read_text(encoding="utf-8"))
