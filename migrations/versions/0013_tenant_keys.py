"""Tenant keys: (org_id, id) on working_hours, closure, audit_event, buffer_rule and model_version;
gap.merged_into with org_id.

Revision ID: 0014 (file 0007_: the lead renumbers and re-chains at merge)
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from slotoptim.migrations.steps import run_sql_file

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    # Forward-only: a bad migration is fixed by the next one.
    raise NotImplementedError("SlotOptim migrations are forward-only")
