"""Initial schema: organisations, providers, services, hours, closures, customers, waitlist,
appointments with the no-overlap exclusion constraint, buffer rules and gaps.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from slotoptim.migrations.steps import run_sql_file

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    # Forward-only: a bad migration is fixed by the next one.
    raise NotImplementedError("SlotOptim migrations are forward-only")
