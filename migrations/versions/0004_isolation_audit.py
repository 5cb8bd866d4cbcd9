"""Tenant isolation and the audit trail: analyst logins mapped to organisations, the append-only
hash-chained audit_event table and its per-organisation chain heads. Roles, row-level security,
grants and the audit triggers are repeatable (sql/80_rls.sql, 81_audit.sql, 90_grants.sql).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from slotoptim.migrations.steps import run_sql_file

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    # Forward-only: a bad migration is fixed by the next one.
    raise NotImplementedError("SlotOptim migrations are forward-only")
