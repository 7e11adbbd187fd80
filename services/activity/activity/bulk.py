"""Set-wise writes for the attendance import (a month of a regency is ~220,000 rows).

On PostgreSQL rows travel with COPY inside the caller's transaction; elsewhere (SQLite, the
single-machine run) with one executemany. Either way: one statement per table, not one ORM
object and flush per row, and all of it commits or rolls back with the unit of work.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ekinerja_common.envelope import Envelope, utcnow
from ekinerja_common.events import check_event
from ekinerja_common.outbox import OUTBOX
from ekinerja_common.uow import UnitOfWork

from .orm import Base


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _pg_types(table: Table, columns: Sequence[str]) -> list[str]:
    """The PostgreSQL type of each column ("varchar", "numeric", ...): declared once, so COPY does
    not look up an adapter for every value of every row."""
    dialect = postgresql.dialect()
    return [re.sub(r"\(.*\)", "", table.c[c].type.compile(dialect=dialect)).strip().lower() for c in columns]


def _copy(session: Session, table: Table, table_name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    driver = session.connection().connection.driver_connection  # psycopg's, in our transaction
    with driver.cursor() as cur:
        with cur.copy(f"COPY {table_name} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.set_types(_pg_types(table, columns))
            for row in rows:
                copy.write_row(row)


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
    """Append rows whose keys do not exist (the caller knows: it holds the writers' lock)."""
    if not rows:
        return
    session.flush()
    if _is_pg(session):
        _copy(session, table, table.name, columns, rows)
    else:
        session.execute(table.insert(), [dict(zip(columns, r)) for r in rows])


def upsert_rows(session: Session, table: Table, columns: Sequence[str], key: Sequence[str],
                rows: list[Sequence[Any]]) -> None:
    """Insert rows, replacing the ones whose ``key`` exists (the caller has the rows locked)."""
    if not rows:
        return
    session.flush()
    updates = [c for c in columns if c not in key]
    if _is_pg(session):
        tmp = f"tmp_{table.name}"
        session.execute(text(f"CREATE TEMP TABLE {tmp} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP"))
        _copy(session, table, tmp, columns, rows)
        cols = ", ".join(columns)
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
        session.execute(text(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {tmp} "
                             f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"))
        session.execute(text(f"DROP TABLE {tmp}"))
    else:
        stmt = sqlite.insert(table)
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in updates})
        session.execute(stmt, [dict(zip(columns, r)) for r in rows])


def publish_many(uow: UnitOfWork, event_type: str, datas: list[dict]) -> int:
    """``uow.publish`` for many events of one type: the same catalogue check and envelope, written
    to the outbox in one COPY. The relay cannot tell them from events published one by one."""
    if not datas:
        return 0
    envelopes = []
    for data in datas:
        check_event(event_type, uow.source, data)
        envelopes.append(Envelope(type=event_type, source=uow.source, data=data, correlation_id=uow.correlation_id))
    now = utcnow()
    insert_rows(uow.session, Base.metadata.tables[OUTBOX], ("id", "type", "body", "correlation_id", "created_at", "attempts"),
                [(e.id, e.type, e.to_json(), e.correlation_id, now, 0) for e in envelopes])
    uow.published.extend(envelopes)
    return len(envelopes)
