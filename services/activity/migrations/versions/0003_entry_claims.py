"""entry claims: edits and withdrawals of a pending entry wait for approval's word

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('entry_claims',
    sa.Column('entry_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.String(length=36), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('duty_id', sa.String(length=36), nullable=False),
    sa.Column('duty_description', sa.Text(), nullable=False),
    sa.Column('output_unit', sa.String(length=50), nullable=False),
    sa.Column('norma_waktu', sa.Integer(), nullable=False),
    sa.Column('volume', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('credited_minutes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('entry_id', 'version')
    )
    with op.batch_alter_table('entry_claims', schema=None) as batch_op:
        batch_op.create_index('ix_entry_claims_employee_date', ['employee_id', 'date'], unique=False)
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appeal_outcome', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('awaiting_confirmation', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('superseded_change', sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_column('superseded_change')
        batch_op.drop_column('awaiting_confirmation')
        batch_op.drop_column('appeal_outcome')
    with op.batch_alter_table('entry_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_claims_employee_date')
    op.drop_table('entry_claims')
