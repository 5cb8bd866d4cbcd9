"""No-show protection with Stripe: payment policy, decisions, checkouts, cards on file, charges,
Stripe events (sql/39m_tables_payments.sql).

Revision ID: 0018 (the lead renumbers and re-chains at merge)
Revises: 0013 on this branch (0017 once merged)
Create Date: 2026-12-06
"""

from __future__ import annotations

from slotoptim.migrations.steps import run_sql_file

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    # Forward-only: a bad migration is fixed by the next one.
    raise NotImplementedError("SlotOptim migrations are forward-only")
