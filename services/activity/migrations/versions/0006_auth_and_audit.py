"""verification without identity, revocations, append-only calendar and entry-rule audits

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa

from ekinerja_common.audit import append_only, drop_append_only
from ekinerja_common.auth_store import create_auth_tables, drop_auth_tables

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None
# Only adds (tables, nullable columns, triggers on tables the older code never updates).
compatible_with_code_from = "0005"

# Audit trails: who, when, which request, before/after; the database refuses UPDATE and DELETE.
AUDIT_TABLES = ('calendar_audit', 'submission_policy_audit')


def upgrade() -> None:
    # The last good JWKS (tokens verify while identity is down) and account revocations
    # (account.revoked: deactivation, roles taken away, password reset take effect at once).
    create_auth_tables(op)
    append_only(op, AUDIT_TABLES)


def downgrade() -> None:
    drop_append_only(op, AUDIT_TABLES)
    drop_auth_tables(op)
