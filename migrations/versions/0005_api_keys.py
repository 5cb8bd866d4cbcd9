"""The web API's records: API keys (hashed secrets, a role each) and processed webhook deliveries.
Row-level security and grants cover them through the repeatable sql/80_rls.sql and 90_grants.sql
(every slotoptim_private table with an org_id is a tenant table).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from slotoptim.migrations.steps import run_sql_file

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    # Forward-only: a bad migration is fixed by the next one.
    raise NotImplementedError("SlotOptim migrations are forward-only")
