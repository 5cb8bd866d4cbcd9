"""An offer policy that learns (issue 16): adaptive strategy settings, acceptance model factors,
offer prediction/price/variant columns, message experiments, pricing policy.

Revision ID: 0019
Revises: 0018 (on branch i16: 0013; the lead re-chains at merge)
Create Date: 2026-12-06
"""

from __future__ import annotations

from slotoptim.migrations.steps import run_sql_file

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    # Forward-only: a bad migration is fixed by the next one.
    raise NotImplementedError("SlotOptim migrations are forward-only")
