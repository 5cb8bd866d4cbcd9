"""Alembic environment: one transaction for the whole run, under an advisory lock so several
replicas starting at once migrate one after the other; then the repeatable sql/ files."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text

from slotoptim.sqlfiles import apply_repeatables

# An arbitrary, fixed key: every SlotOptim process that migrates takes this lock.
MIGRATION_LOCK_KEY = 0x5107_0071


def run_migrations_online() -> None:
    url = context.config.attributes["sqlalchemy_url"]
    engine = create_engine(url, future=True)
    with engine.connect() as connection, connection.begin():
        connection.execute(text("select pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        connection.execute(text("create schema if not exists slotoptim_private"))
        context.configure(
            connection=connection,
            version_table_schema="slotoptim_private",
            transaction_per_migration=False,
        )
        context.run_migrations()
        driver = connection.connection.driver_connection
        assert driver is not None
        context.config.attributes["repeatables_applied"] = apply_repeatables(driver)
    engine.dispose()


run_migrations_online()
