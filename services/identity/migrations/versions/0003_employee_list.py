"""employee list: the unit of each position, and the index the paged list walks

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
    # Filled by the next position event of each post (position.created/updated carry unit_id);
    # until then such a post's holders only miss from a list filtered by unit.
    op.add_column('position_refs', sa.Column('unit_id', sa.String(length=36), nullable=True))
    op.create_index('ix_position_refs_unit_id', 'position_refs', ['unit_id'], unique=False)
    op.create_index('ix_employees_name_id', 'employees', ['name', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_employees_name_id', table_name='employees')
    op.drop_index('ix_position_refs_unit_id', table_name='position_refs')
    with op.batch_alter_table('position_refs', schema=None) as batch_op:
        batch_op.drop_column('unit_id')
