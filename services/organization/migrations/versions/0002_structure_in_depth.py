"""structure in depth

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 22:36:27.353761
"""
import uuid
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from ekinerja_common.migrating import offline


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('abk_policies',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('effective_minutes_per_year', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('audit_records',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_account_id', sa.String(length=36), nullable=True),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('object_type', sa.String(length=30), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.create_index('ix_audit_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_records_at'), ['at'], unique=False)

    op.create_table('position_history',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('position_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('eselon', sa.String(length=10), nullable=True),
    sa.Column('kelas_jabatan', sa.Integer(), nullable=False),
    sa.Column('factor', sa.Numeric(precision=6, scale=4), nullable=False),
    sa.Column('unit_id', sa.String(length=36), nullable=False),
    sa.Column('parent_id', sa.String(length=36), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['position_id'], ['positions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('position_id', 'version')
    )
    with op.batch_alter_table('position_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_position_history_position_id'), ['position_id'], unique=False)

    # Plain ADD COLUMN rather than batch mode: on SQLite a batch rebuilds the table, and dropping
    # the old `units` or `positions` fails while rows of other tables refer to it (foreign keys
    # are on). Both databases add a column with a constant default in place.
    op.add_column('duties', sa.Column('yearly_volume', sa.Integer(), nullable=True))
    op.create_index('ix_placements_position_dates', 'placements', ['position_id', 'start_date', 'end_date'], unique=False)
    op.add_column('positions', sa.Column('valid_from', sa.Date(), nullable=True))
    op.add_column('positions', sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('units', sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('units', sa.Column('dissolved_at', sa.DateTime(timezone=True), nullable=True))

    _backfill_history()


def _backfill_history() -> None:
    """Positions made before this revision get their current version into the history, taking
    effect on the day it was last changed (the best date there is)."""
    if offline(op, "position history rows from the existing positions"):
        return
    bind = op.get_bind()
    positions = sa.table('positions', *(sa.column(c) for c in (
        'id', 'code', 'name', 'kind', 'eselon', 'kelas_jabatan', 'factor', 'unit_id', 'parent_id', 'version',
        'updated_at', 'valid_from')))
    history = sa.table('position_history', *(sa.column(c) for c in (
        'id', 'position_id', 'version', 'valid_from', 'code', 'name', 'kind', 'eselon', 'kelas_jabatan', 'factor',
        'unit_id', 'parent_id', 'active', 'recorded_at', 'recorded_by')))
    now = datetime.now(timezone.utc)
    for row in bind.execute(sa.select(positions)).mappings().all():
        updated = row['updated_at']
        if isinstance(updated, str):  # SQLite hands back text
            updated = datetime.fromisoformat(updated)
        day = (updated or now).date()
        bind.execute(sa.update(positions).where(positions.c.id == row['id']).values(valid_from=day))
        bind.execute(sa.insert(history).values(
            id=str(uuid.uuid4()), position_id=row['id'], version=row['version'], valid_from=day, code=row['code'],
            name=row['name'], kind=row['kind'], eselon=row['eselon'], kelas_jabatan=row['kelas_jabatan'],
            factor=row['factor'], unit_id=row['unit_id'], parent_id=row['parent_id'], active=True, recorded_at=now,
            recorded_by=None))


def downgrade() -> None:
    # Dropping columns needs a batch (table rebuild) on SQLite; a downgrade there must run with
    # foreign keys off, as any SQLite table rebuild must.
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('dissolved_at')
        batch_op.drop_column('active')
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.drop_column('active')
        batch_op.drop_column('valid_from')
    op.drop_index('ix_placements_position_dates', table_name='placements')
    with op.batch_alter_table('duties', schema=None) as batch_op:
        batch_op.drop_column('yearly_volume')

    with op.batch_alter_table('position_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_position_history_position_id'))

    op.drop_table('position_history')
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_records_at'))
        batch_op.drop_index('ix_audit_object')

    op.drop_table('audit_records')
    op.drop_table('abk_policies')
