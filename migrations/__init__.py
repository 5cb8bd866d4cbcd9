"""Alembic migrations. Forward-only, numbered, one transaction each; sql/ stays the source of truth for
functions and views (see slotoptim.migrations.sqlfiles)."""
