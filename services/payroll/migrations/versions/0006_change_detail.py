"""change detail: what a noted change was (an attendance day's codes before and after), so that a
correction's cause can name it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None
# No compatible_with_code_from: the column is nullable, but policy versions stored by this release
# have no `minutes_per_day`/`holidays`, which the previous release's code requires to parse a
# policy; its pods must turn unready once this runs (README "Upgrade without downtime").


def upgrade() -> None:
    op.add_column('data_changes', sa.Column('detail', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('data_changes', 'detail')
