"""Self-service booking, consent history, message templates (issue 12: booking page and consent).

Revision ID: 0017 (down_revision 0013 on branch i12b: the integrator re-chains it after 0016)
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

from slotoptim.migrations.steps import run_sql_file

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    # Forward-only: a bad migration is fixed by the next one.
    raise NotImplementedError("SlotOptim migrations are forward-only")
