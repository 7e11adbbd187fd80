"""role grants by two people, login/password-change limits, token versions, append-only audit

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa

from ekinerja_common.audit import append_only, drop_append_only

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None
# No compatible_with_code_from: the older code still writes accounts.failed_logins/locked_until,
# which this revision drops.

AUDIT_TABLES = ("audit_records",)


def upgrade() -> None:
    op.create_table('role_grants',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requested_by', sa.String(length=36), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=36), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_role_grants_account_id', 'role_grants', ['account_id'], unique=False)
    op.create_index('ix_role_grants_pending', 'role_grants', ['status', 'role'], unique=False)
    op.create_table('attempt_counters',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=30), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index('ix_attempt_counters_subject', 'attempt_counters', ['subject'], unique=False)
    # Plain ALTER TABLE (SQLite >= 3.35 drops a plain column in place): no batch rebuild of a
    # table that refresh tokens and roles point at. The per-account lockout gives way to
    # attempt_counters (throttle.py): a lock anyone could set by guessing is gone.
    op.add_column('accounts', sa.Column('token_version', sa.Integer(), server_default='0', nullable=False))
    op.drop_column('accounts', 'failed_logins')
    op.drop_column('accounts', 'locked_until')
    op.add_column('audit_records', sa.Column('request_id', sa.String(length=100), nullable=True))
    op.add_column('audit_records', sa.Column('before', sa.JSON(), nullable=True))
    op.add_column('audit_records', sa.Column('after', sa.JSON(), nullable=True))
    append_only(op, AUDIT_TABLES)


def downgrade() -> None:
    drop_append_only(op, AUDIT_TABLES)
    op.drop_column('audit_records', 'after')
    op.drop_column('audit_records', 'before')
    op.drop_column('audit_records', 'request_id')
    op.add_column('accounts', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('accounts', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.drop_column('accounts', 'token_version')
    op.drop_index('ix_attempt_counters_subject', table_name='attempt_counters')
    op.drop_table('attempt_counters')
    op.drop_index('ix_role_grants_pending', table_name='role_grants')
    op.drop_index('ix_role_grants_account_id', table_name='role_grants')
    op.drop_table('role_grants')
