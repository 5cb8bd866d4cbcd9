"""Runs the migrations (alembic) against a database."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config

from slotoptim.listener.db import sqlalchemy_url
from slotoptim.migrations.server_version import check_server


def alembic_config(libpq_url: str) -> Config:
    script_location = str(resources.files("slotoptim.migrations"))
    config = Config()
    config.set_main_option("script_location", script_location)
    config.attributes["sqlalchemy_url"] = sqlalchemy_url(libpq_url)
    return config


def migrate(libpq_url: str) -> bool:
    """Upgrades to the newest revision; True when anything changed (a revision or a repeatable file).
    Refuses a server older than PostgreSQL 15 before changing anything (UnsupportedServer)."""
    check_server(libpq_url)
    config = alembic_config(libpq_url)
    before = current_revision(libpq_url)
    command.upgrade(config, "head")
    after = current_revision(libpq_url)
    return before != after or bool(config.attributes.get("repeatables_applied"))


def current_revision(libpq_url: str) -> str | None:
    import psycopg

    with psycopg.connect(libpq_url) as conn:
        table = conn.execute("select to_regclass('slotoptim_private.alembic_version')").fetchone()
        if table is None or table[0] is None:
            return None
        row = conn.execute("select version_num from slotoptim_private.alembic_version").fetchone()
        return None if row is None else str(row[0])
