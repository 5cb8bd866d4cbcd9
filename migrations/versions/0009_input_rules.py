"""Input rules: instants from 1900 to 2200, appointments at most a day long, time zones that name a
place, a provider never both preferred and excluded, travel within its maximum, no NaN price.
Existing rows are repaired where the repair keeps their behaviour; the others are reported.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from slotoptim.migrations.steps import run_sql_file

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    # Forward-only: a bad migration is fixed by the next one.
    raise NotImplementedError("SlotOptim migrations are forward-only")
