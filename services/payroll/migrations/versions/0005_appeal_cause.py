"""an overturn is one appeal.decided: the appeal_outcomes reconciliation table goes; a change's
cause names what it is about (the appeal)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('data_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cause_ref', sa.String(length=36), nullable=True))
    with op.batch_alter_table('appeal_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_outcomes_entry_id'))
    op.drop_table('appeal_outcomes')


def downgrade() -> None:
    op.create_table('appeal_outcomes',
    sa.Column('appeal_id', sa.String(length=36), nullable=False),
    sa.Column('entry_id', sa.String(length=36), nullable=False),
    sa.Column('employee_id', sa.String(length=36), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('appeal_id', 'entry_id')
    )
    with op.batch_alter_table('appeal_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_outcomes_entry_id'), ['entry_id'], unique=False)
    with op.batch_alter_table('data_changes', schema=None) as batch_op:
        batch_op.drop_column('cause_ref')
