"""unit version: units carry a version (raised on every change published as unit.updated), and
every unit that exists already is announced once as unit.created through the outbox, so that
consumers (payroll's unit recap) learn the names of units made before units had events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 23:38:57.939975
"""
from datetime import datetime, timezone

from alembic import op

from ekinerja_common.migrating import offline
import sqlalchemy as sa

from ekinerja_common.envelope import Envelope
from ekinerja_common.events import check_event


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    if offline(op, "announce every existing unit once as unit.created"):
        return
    conn = op.get_bind()
    units = conn.execute(sa.text("SELECT id, code, name, kind, parent_id, active, version FROM units ORDER BY code")).all()
    now = datetime.now(timezone.utc)
    rows = []
    for u in units:
        data = {"unit_id": u.id, "code": u.code, "name": u.name, "kind": u.kind, "parent_id": u.parent_id,
                "active": bool(u.active), "version": u.version}
        check_event("unit.created", "organization", data)
        env = Envelope(type="unit.created", source="organization", data=data)
        rows.append({"id": env.id, "type": env.type, "body": env.to_json(), "correlation_id": None,
                     "created_at": now, "attempts": 0})
    if rows:
        outbox = sa.table('outbox', sa.column('id'), sa.column('type'), sa.column('body'), sa.column('correlation_id'),
                          sa.column('created_at', sa.DateTime(timezone=True)), sa.column('attempts', sa.Integer))
        op.bulk_insert(outbox, rows)


def downgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('version')
