"""the queue counted per (holder, employee, month): queue_counts, kept by approval.queue_model

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 17:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ekinerja_common.migrating import offline

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None
# No compatible_with_code_from: the schema only grows, but the previous release's code changes
# items without recounting them, so its pods would leave the counts behind the queue.


def upgrade() -> None:
    op.create_table(
        'queue_counts',
        sa.Column('holder_id', sa.String(length=36), nullable=False),
        sa.Column('employee_id', sa.String(length=36), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('escalated', sa.Integer(), nullable=False),
        sa.Column('oldest', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('holder_id', 'employee_id', 'year', 'month'),
    )
    op.create_index('ix_queue_counts_employee_month', 'queue_counts', ['employee_id', 'year', 'month'])
    if offline(op, "queue_counts from the pending items (approval.queue_model.recount_all)"):
        return
    from approval import queue_model
    with Session(bind=op.get_bind()) as session:
        queue_model.recount_all(session)
        session.flush()


def downgrade() -> None:
    op.drop_index('ix_queue_counts_employee_month', table_name='queue_counts')
    op.drop_table('queue_counts')
