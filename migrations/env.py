"""Alembic environment: one transaction for the whole run, under an advisory lock so several
replicas starting at once migrate one after the other; then the repeatable sql/ files."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text

from slotoptim.migrations.sqlfiles import apply_repeatables

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
        # The repeatable files describe the newest schema: on an upgrade to an older revision (a
        # test that sets up an old database) their functions would name tables not there yet.
        if context.get_revision_argument() in ("head", "heads", context.get_head_revision()):
            driver = connection.connection.driver_connection
            assert driver is not None
            context.config.attributes["repeatables_applied"] = apply_repeatables(driver)
    engine.dispose()


run_migrations_online()
