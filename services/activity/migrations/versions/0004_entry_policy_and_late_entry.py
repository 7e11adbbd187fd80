"""yearly entry policy, late-entry permissions, units and the unit of each position

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled by each post's next position event; until then its holders miss from per-unit lists.
    op.add_column('positions', sa.Column('unit_id', sa.String(length=36), nullable=True))
    op.create_index('ix_positions_unit_id', 'positions', ['unit_id'], unique=False)
    op.create_table('units',
    sa.Column('unit_id', sa.String(length=36), nullable=False),
    sa.Column('parent_id', sa.String(length=36), nullable=True),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('unit_id')
    )
    op.create_table('submission_policies',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('submission_window_days', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('submission_policy_audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('submission_window_days', sa.Integer(), nullable=False),
    sa.Column('previous_window_days', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_submission_policy_audit_year', 'submission_policy_audit', ['year', 'version'], unique=True)
    op.create_table('late_entry_permissions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('employee_id', sa.String(length=36), nullable=True),
    sa.Column('unit_id', sa.String(length=36), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('granted_by', sa.String(length=100), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_by', sa.String(length=100), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_late_entry_dates', 'late_entry_permissions', ['start_date', 'end_date'], unique=False)
    op.create_index('ix_late_entry_permissions_employee_id', 'late_entry_permissions', ['employee_id'], unique=False)
    op.create_index('ix_late_entry_permissions_unit_id', 'late_entry_permissions', ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_late_entry_permissions_unit_id', table_name='late_entry_permissions')
    op.drop_index('ix_late_entry_permissions_employee_id', table_name='late_entry_permissions')
    op.drop_index('ix_late_entry_dates', table_name='late_entry_permissions')
    op.drop_table('late_entry_permissions')
    op.drop_index('ix_submission_policy_audit_year', table_name='submission_policy_audit')
    op.drop_table('submission_policy_audit')
    op.drop_table('submission_policies')
    op.drop_table('units')
    op.drop_index('ix_positions_unit_id', table_name='positions')
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.drop_column('unit_id')
