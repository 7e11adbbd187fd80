"""deduction tables: BPKAD's discipline deduction table per year, from payroll

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None
# No compatible_with_code_from: the schema only grows, but calendars stored by this release have no
# `deductions` (BPKAD's table comes from payroll now), which the previous release's code requires
# to read a calendar; its pods must turn unready once this runs (README "Upgrade without downtime").


def upgrade() -> None:
    op.create_table('deduction_tables',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('deductions', sa.JSON(), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )


def downgrade() -> None:
    op.drop_table('deduction_tables')
