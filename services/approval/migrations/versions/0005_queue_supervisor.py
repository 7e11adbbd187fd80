"""the queue's read model: each pending item's supervisor on its date (validation_items.supervisor_id)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ekinerja_common.migrating import offline

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None
# Only adds (a nullable column, an index); older code leaves the column alone.
compatible_with_code_from = "0004"


def upgrade() -> None:
    op.add_column('validation_items', sa.Column('supervisor_id', sa.String(length=36), nullable=True))
    op.create_index('ix_items_supervisor_queue', 'validation_items',
                    ['supervisor_id', 'status', 'employee_id', 'date', 'start_time', 'entry_id'],
                    postgresql_include=['credited_minutes'])
    # The pending items of today get their supervisor from the shared rule, as the consumer would.
    if offline(op, "validation_items.supervisor_id of the pending items (the shared supervision rule)"):
        return
    from approval import queue_model
    with Session(bind=op.get_bind()) as session:
        queue_model.derive_all(session)
        session.flush()


def downgrade() -> None:
    op.drop_index('ix_items_supervisor_queue', table_name='validation_items')
    op.drop_column('validation_items', 'supervisor_id')
