"""people in depth

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 22:30:24.893903
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Parent links and the abolished flag of positions arrive with the next position event of
    # each post; rows stored before this revision keep parent_id null until then.
    # Plain ADD COLUMN (no batch table rebuild on SQLite): both databases add a column with a
    # constant default in place.
    op.add_column('position_refs', sa.Column('parent_id', sa.String(length=36), nullable=True))
    op.add_column('position_refs', sa.Column('kind', sa.String(length=20), nullable=True))
    op.add_column('position_refs', sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_index('ix_position_refs_code', 'position_refs', ['code'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_position_refs_code', table_name='position_refs')
    with op.batch_alter_table('position_refs', schema=None) as batch_op:
        batch_op.drop_column('active')
        batch_op.drop_column('kind')
        batch_op.drop_column('parent_id')

