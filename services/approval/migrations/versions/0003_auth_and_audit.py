"""verification without identity, revocations, append-only audit on SQLite too, request id of policy changes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa

from ekinerja_common.audit import append_only, drop_append_only
from ekinerja_common.auth_store import create_auth_tables, drop_auth_tables

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None
# Only adds (tables, nullable columns, triggers on tables the older code never updates).
compatible_with_code_from = "0002"

# Audit trails: who, when, which request, before/after; the database refuses UPDATE and DELETE.
AUDIT_TABLES = ('appeal_trail', 'appeal_decisions', 'appeal_comments', 'board_audit', 'validation_policy_changes', 'decisions')


def upgrade() -> None:
    # The last good JWKS (tokens verify while identity is down) and account revocations
    # (account.revoked: deactivation, roles taken away, password reset take effect at once).
    create_auth_tables(op)
    op.add_column('validation_policy_changes', sa.Column('request_id', sa.String(length=100), nullable=True))
    append_only(op, AUDIT_TABLES)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        # 0002's tables had these triggers already (now on the shared function, which stays).
        drop_append_only(op, ("decisions",))
    else:
        drop_append_only(op, AUDIT_TABLES)
    op.drop_column('validation_policy_changes', 'request_id')
    drop_auth_tables(op)
