"""idempotency keys: the stored answers to requests sent with an Idempotency-Key

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:00:00
"""
from alembic import op

from ekinerja_common import idempotency

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None
# Expand only (a new table): the previous release's code runs on it unchanged.
compatible_with_code_from = '0007'


def upgrade() -> None:
    idempotency.create_table(op)


def downgrade() -> None:
    op.drop_table(idempotency.TABLE)
