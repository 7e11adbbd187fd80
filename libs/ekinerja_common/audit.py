"""Audit trails are append-only at the database, not only by convention: for migrations.

Every service's audit tables (who, when, which request, before/after) get triggers that refuse
``UPDATE`` and ``DELETE`` — on PostgreSQL per statement, so even an UPDATE matching no row or a
``TRUNCATE`` is refused; on SQLite (the single-machine run) per row, which is all SQLite has. A
migration calls ``append_only(op, tables)`` once the tables exist.

SQLite drops a table's triggers when Alembic's batch mode rebuilds the table: a later migration
that batch-alters an audit table must call ``append_only`` for it again (the migration tests check
that every audit table refuses changes at head, on both databases).
"""
from __future__ import annotations

from typing import Iterable

FUNCTION = "ekinerja_append_only"


def append_only(op, tables: Iterable[str]) -> None:
    dialect = op.get_context().dialect.name
    if dialect == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END $$""")
        for table in tables:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")
    elif dialect == "sqlite":
        for table in tables:
            for verb in ("UPDATE", "DELETE"):
                name = f"{table}_no_{verb.lower()}"
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
                op.execute(f"CREATE TRIGGER {name} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def drop_append_only(op, tables: Iterable[str]) -> None:
    """For a migration's downgrade."""
    dialect = op.get_context().dialect.name
    for table in tables:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        elif dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
