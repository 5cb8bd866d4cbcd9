"""Bounded candidate ranking (issue 18): waitlist_want, the wanted services of active waitlist
entries with their static score parts, indexed for the ranking's walk; filled from today's entries.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

from slotoptim.migrations.steps import run_sql_file

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    # Forward-only: a bad migration is fixed by the next one.
    raise NotImplementedError("SlotOptim migrations are forward-only")
