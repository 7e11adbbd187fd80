"""activity decisions by employee: the minutes of the employees whose locked month changed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 17:10:00

A compute's corrections re-sum the minutes of the locked months' changed employees only
(``approved_minutes(..., only=...)``). With the month index alone PostgreSQL read the whole locked
month and, misled by the just-claimed changes (no statistics yet), matched every row against every
changed employee: 0.1 s for 1,000 changes over a month of 1,000 rows, and quadratic beyond
(issue 13). With this index each changed employee's month is one short index range.
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None
# Expand only (an index): the previous release's code runs on it unchanged.
compatible_with_code_from = '0008'


def upgrade() -> None:
    op.create_index('ix_activity_decisions_employee_day', 'activity_decisions', ['employee_id', 'day'])


def downgrade() -> None:
    op.drop_index('ix_activity_decisions_employee_day', table_name='activity_decisions')
