"""verification without identity, revocations, append-only audit with request id and before/after

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa

from ekinerja_common.audit import append_only, drop_append_only
from ekinerja_common.auth_store import create_auth_tables, drop_auth_tables

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None
# Only adds (tables, nullable columns, triggers on tables the older code never updates).
compatible_with_code_from = "0006"

# Audit trails: who, when, which request, before/after; the database refuses UPDATE and DELETE.
AUDIT_TABLES = ('audit_log',)


def upgrade() -> None:
    # The last good JWKS (tokens verify while identity is down) and account revocations
    # (account.revoked: deactivation, roles taken away, password reset take effect at once).
    create_auth_tables(op)
    op.add_column('audit_log', sa.Column('request_id', sa.String(length=100), nullable=True))
    op.add_column('audit_log', sa.Column('before', sa.JSON(), nullable=True))
    op.add_column('audit_log', sa.Column('after', sa.JSON(), nullable=True))
    append_only(op, AUDIT_TABLES)


def downgrade() -> None:
    drop_append_only(op, AUDIT_TABLES)
    op.drop_column('audit_log', 'after')
    op.drop_column('audit_log', 'before')
    op.drop_column('audit_log', 'request_id')
    drop_auth_tables(op)
