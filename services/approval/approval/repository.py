"""Queries behind supervisor resolution, the queue and the counters. Who supervises whom is the
rule every service shares (``ekinerja_common.supervision``), loaded by the shared loader
(``supervision_queries``) from approval's read models as they are now. The queue reads the rule's
answer stored with each pending item (``supervisor_id``, kept by ``queue_model`` in the
transaction of every event that can change it), so a page is an index read."""
from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Iterable, Mapping

from sqlalchemy import ARRAY, ColumnElement, Row, String, Table, and_, any_, bindparam, func, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ekinerja_common import supervision_queries

from . import domain
from .orm import (DeciderMonth, Employee, Escalation, MonthlyMinutes, Placement, Position, QueueCount,
                  ValidationItem)

FACTS = supervision_queries.ReadModel(
    placement_id=Placement.placement_id, employee_id=Placement.employee_id, position_id=Placement.position_id,
    kind=Placement.kind, start_date=Placement.start_date, end_date=Placement.end_date,
    post_id=Position.position_id, parent_id=Position.parent_id)

in_ids = supervision_queries.in_ids


def supervisor_of(session: Session, employee_id: str, on: date) -> str | None:
    """The employee's supervisor on that date (the shared rule, ``ekinerja_common.supervision``)."""
    return supervision_queries.supervisors(session, FACTS, [(employee_id, on)])[(employee_id, on)]


def supervisors_for(session: Session, keys: Iterable[tuple[str, date]]) -> dict[tuple[str, date], str | None]:
    """The supervisor of each (employee, date), from one roster covering them all: a bulk
    decision over a month of a team costs three queries, not three per entry."""
    return supervision_queries.supervisors(session, FACTS, keys)


def lines_for(session: Session, keys: Iterable[tuple[str, date]], levels: int = 3) -> dict[tuple[str, date], list[str]]:
    """Each (employee, date)'s line upwards: the supervisor, the supervisor's supervisor (who
    hears escalations and first-level appeals), the next one (who hears an appeal against a
    decision the second took after an escalation), as far as ``levels`` and the tree go."""
    return {k: [s.supervisor_id for s in line]
            for k, line in supervision_queries.chains(session, FACTS, keys, levels).items()}


def above(line: list[str], person_id: str | None) -> str | None:
    """Who stands above ``person_id`` in an employee's line (``lines_for``), or None."""
    if person_id in line:
        n = line.index(person_id)
        return line[n + 1] if n + 1 < len(line) else None
    return None


@dataclass(frozen=True)
class QueueFilter:
    """The queue's optional filters; ``first``/``last`` inclusive (a month is its first and last day)."""

    employee_id: str | None = None
    first: date | None = None
    last: date | None = None

    def on_items(self, item) -> list[ColumnElement[bool]]:
        conditions = []
        if self.employee_id is not None:
            conditions.append(item.employee_id == self.employee_id)
        if self.first is not None:
            conditions.append(item.date >= self.first)
        if self.last is not None:
            conditions.append(item.date <= self.last)
        return conditions


NO_FILTER = QueueFilter()


_MIDNIGHT = time(0, 0)

QUEUE_ORDER = (Employee.name.nulls_last(), ValidationItem.employee_id, ValidationItem.date, ValidationItem.start_time,
               ValidationItem.entry_id)


@dataclass(frozen=True, slots=True)
class EscalationFlag:
    """What the queue shows of an entry's escalation."""

    level: int
    late_supervisor_id: str
    escalated_to: str | None
    deadline: date
    escalated_at: datetime


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One queue entry. ``item`` is a plain row with the columns of validation_items: the queue
    only reads, and building thousands of ORM objects (with their identity map) would cost more
    than the rest of the request at month end."""

    item: Row
    employee_name: str | None
    nip: str | None
    escalation: EscalationFlag | None  # set: the deadline passed and the entry went up a level


_QUEUE_COLUMNS = (
    *ValidationItem.__table__.c, Employee.name.label("q_name"), Employee.nip.label("q_nip"),
    Escalation.level.label("q_level"), Escalation.late_supervisor_id.label("q_late"),
    Escalation.escalated_to.label("q_to"), Escalation.deadline.label("q_deadline"),
    Escalation.escalated_at.label("q_escalated_at"),
)


def _queue_row(r: Row) -> QueueRow:
    flag = (EscalationFlag(r.q_level, r.q_late, r.q_to, r.q_deadline, r.q_escalated_at)
            if r.q_level is not None else None)
    return QueueRow(r, r.q_name, r.q_nip, flag)


def _queue_select():
    return (select(*_QUEUE_COLUMNS)
            .outerjoin(Employee, Employee.employee_id == ValidationItem.employee_id)
            .outerjoin(Escalation, and_(Escalation.entry_id == ValidationItem.entry_id, Escalation.level == 1)))


def queue_for(session: Session, caller_id: str, flt: QueueFilter = NO_FILTER) -> list[QueueRow]:
    """Pending items of everyone ``caller_id`` supervises on each item's date, ordered by
    employee, date and start time: the items whose stored supervisor (the shared rule's answer,
    kept by ``queue_model``) is the caller, read through their index."""
    rows = session.execute(
        _queue_select()
        .where(ValidationItem.supervisor_id == caller_id, ValidationItem.status == domain.PENDING,
               *flt.on_items(ValidationItem))
        .order_by(*QUEUE_ORDER))
    return [_queue_row(r) for r in rows]


@dataclass(frozen=True, slots=True)
class PersonMonth:
    """One person's pending part of a queue in one month (a GROUP BY row)."""

    employee_id: str
    employee_name: str | None
    nip: str | None
    year: int
    month: int
    entries: int
    minutes: int
    escalated: int
    oldest: date


def person_key(employee_name: str | None, employee_id: str) -> tuple[bool, str, str]:
    """A person's place in the queue: the first three parts of ``queue_key``."""
    return (employee_name is None, (employee_name or "").casefold(), employee_id)


def _month_counts(session: Session, caller_id: str, flt: QueueFilter, escalated: bool) -> list[Row]:
    """Per (employee, year, month): entries, minutes, escalated entries, oldest date — of the items
    the caller supervises, or (``escalated``) of those the deadline sent up to the caller that they
    do not supervise (so no item counts twice). Each part is one index range, aggregated before
    the names are joined."""
    item = ValidationItem
    year, month = func.extract("year", item.date).label("y"), func.extract("month", item.date).label("m")
    counts = (select(item.employee_id, year, month, func.count().label("n"),
                     func.coalesce(func.sum(func.coalesce(item.credited_minutes, 0)), 0).label("minutes"),
                     func.count(Escalation.id).label("escalated"), func.min(item.date).label("oldest"))
              .where(item.status == domain.PENDING, *flt.on_items(item))
              .group_by(item.employee_id, year, month))
    if escalated:
        counts = (counts.join(Escalation, and_(Escalation.entry_id == item.entry_id, Escalation.level == 1))
                  .where(Escalation.escalated_to == caller_id, item.employee_id != caller_id,
                         or_(item.supervisor_id.is_(None), item.supervisor_id != caller_id)))
    else:
        counts = (counts.outerjoin(Escalation, and_(Escalation.entry_id == item.entry_id, Escalation.level == 1))
                  .where(item.supervisor_id == caller_id))
    counts = counts.subquery()
    return session.execute(select(counts, Employee.name, Employee.nip)
                           .outerjoin(Employee, Employee.employee_id == counts.c.employee_id)).all()


def queue_months(session: Session, caller_id: str, flt: QueueFilter = NO_FILTER) -> list[PersonMonth]:
    """The caller's queue (as ``queue_view``) counted per person and month, people in queue order."""
    found: dict[tuple[str, int, int], PersonMonth] = {}
    for escalated in (False, True):
        for r in _month_counts(session, caller_id, flt, escalated):
            key = (r.employee_id, int(r.y), int(r.m))
            pm = PersonMonth(r.employee_id, r.name, r.nip, key[1], key[2], r.n, int(r.minutes), r.escalated, r.oldest)
            seen = found.get(key)
            found[key] = pm if seen is None else PersonMonth(
                pm.employee_id, pm.employee_name, pm.nip, pm.year, pm.month, seen.entries + pm.entries,
                seen.minutes + pm.minutes, seen.escalated + pm.escalated, min(seen.oldest, pm.oldest))
    return sorted(found.values(), key=lambda p: (person_key(p.employee_name, p.employee_id), p.year, p.month))


def whole_months(flt: QueueFilter) -> tuple[tuple[int, int] | None, tuple[int, int] | None] | None:
    """The filter's dates as (first month, last month), each None when open, if they fall on
    whole months (no dates, ``month``, or from a 1st to a month's last day); else None."""
    if flt.first is not None and flt.first.day != 1:
        return None
    if flt.last is not None and domain.first_of_next_month(flt.last).toordinal() - 1 != flt.last.toordinal():
        return None
    return ((flt.first.year, flt.first.month) if flt.first else None,
            (flt.last.year, flt.last.month) if flt.last else None)


@functools.cache
def _counted_months_statement(from_first: bool, to_last: bool):
    """Built once per shape (bound parameters): building the construct costs more per request
    than running it."""
    c = QueueCount
    conditions = [c.holder_id == bindparam("holder")]
    if from_first:
        conditions.append(tuple_(c.year, c.month) >= tuple_(bindparam("first_y"), bindparam("first_m")))
    if to_last:
        conditions.append(tuple_(c.year, c.month) <= tuple_(bindparam("last_y"), bindparam("last_m")))
    return (select(c.employee_id, c.year, c.month, c.entries, c.minutes, c.escalated, c.oldest, Employee.name,
                   Employee.nip, MonthlyMinutes.approved_minutes)
            .outerjoin(Employee, Employee.employee_id == c.employee_id)
            .outerjoin(MonthlyMinutes, and_(MonthlyMinutes.employee_id == c.employee_id, MonthlyMinutes.year == c.year,
                                            MonthlyMinutes.month == c.month))
            .where(*conditions))


def counted_months(session: Session, caller_id: str, first: tuple[int, int] | None, last: tuple[int, int] | None
                   ) -> tuple[list[PersonMonth], dict[tuple[str, int, int], int]]:
    """``queue_months`` over whole months, read from the queue's counts (``queue_counts``, kept by
    ``queue_model``) with each month's approved minutes, in one statement: a few rows per person
    instead of a GROUP BY over every item of the queue."""
    params = {"holder": caller_id}
    if first is not None:
        params.update(first_y=first[0], first_m=first[1])
    if last is not None:
        params.update(last_y=last[0], last_m=last[1])
    # Plain Core statements, run on the session's connection: the ORM's execute path adds a tenth
    # to a page for nothing (no entities are loaded).
    rows = session.connection().execute(_counted_months_statement(first is not None, last is not None), params).all()
    months = sorted((PersonMonth(r.employee_id, r.name, r.nip, r.year, r.month, r.entries, r.minutes, r.escalated,
                                 r.oldest) for r in rows),
                    key=lambda p: (person_key(p.employee_name, p.employee_id), p.year, p.month))
    approved = {(r.employee_id, r.year, r.month): r.approved_minutes for r in rows if r.approved_minutes is not None}
    return months, approved


def queue_rows_of(session: Session, caller_id: str, flt: QueueFilter, employee_ids: Iterable[str]) -> list[QueueRow]:
    """The caller's queue items (as ``queue_view``) of these people, in queue order: the pending
    items of a page's few people, those the caller supervises or that were escalated to them."""
    params = {"caller": caller_id, "ids": sorted(set(employee_ids)), "employee_id": flt.employee_id,
              "first": flt.first, "last": flt.last}
    statement = _queue_rows_statement(session.get_bind().dialect.name == "postgresql", flt.employee_id is not None,
                                      flt.first is not None, flt.last is not None)
    return sorted((_queue_row(r) for r in session.connection().execute(statement, params)), key=queue_key)


@functools.cache
def _queue_rows_statement(postgresql: bool, by_employee: bool, from_first: bool, to_last: bool):
    """``queue_rows_of``'s statement, built once per shape (bound parameters). The people's ids
    are one array parameter on PostgreSQL (``in_ids``), an expanding IN elsewhere."""
    item = ValidationItem
    ids = (item.employee_id == any_(bindparam("ids", type_=ARRAY(String))) if postgresql
           else item.employee_id.in_(bindparam("ids", expanding=True)))
    conditions = [item.status == domain.PENDING, ids,
                  or_(item.supervisor_id == bindparam("caller"),
                      and_(Escalation.escalated_to == bindparam("caller"), item.employee_id != bindparam("caller")))]
    if by_employee:
        conditions.append(item.employee_id == bindparam("employee_id"))
    if from_first:
        conditions.append(item.date >= bindparam("first"))
    if to_last:
        conditions.append(item.date <= bindparam("last"))
    return _queue_select().where(*conditions)


def queue_view(session: Session, caller_id: str, flt: QueueFilter = NO_FILTER) -> list[QueueRow]:
    """The caller's whole queue: what they supervise, plus what the deadline escalated to them
    (flagged), in the queue's order."""
    # The supervisor's own view flags what already went up, too.
    out = {r.item.entry_id: r for r in queue_for(session, caller_id, flt)}
    escalated = session.execute(
        _queue_select().where(Escalation.escalated_to == caller_id, ValidationItem.status == domain.PENDING,
                              ValidationItem.employee_id != caller_id, *flt.on_items(ValidationItem)))
    for r in escalated:
        out.setdefault(r.entry_id, _queue_row(r))
    # Ordered here, not by the database's collation, so that both parts interleave, and the same
    # way on PostgreSQL and SQLite.
    return sorted(out.values(), key=queue_key)


QueueKey = tuple[bool, str, str, date, time, str]


def queue_key(r: QueueRow) -> QueueKey:
    """A row's place in the queue (person by name, date, start time; ids break ties). Unique per
    entry, so a page can start right after the last row the client saw even when rows before it
    were decided meanwhile (a keyset cursor, unlike an offset, skips nothing)."""
    return (r.employee_name is None, (r.employee_name or "").casefold(), r.item.employee_id, r.item.date,
            r.item.start_time or _MIDNIGHT, r.item.entry_id)


def escalations_of(session: Session, entry_ids: Iterable[str]) -> dict[str, Escalation]:
    """The (first-level) escalation of each of these entries that has one."""
    ids = list(entry_ids)
    if not ids:
        return {}
    rows = session.scalars(select(Escalation).where(in_ids(session, Escalation.entry_id, ids), Escalation.level == 1))
    return {e.entry_id: e for e in rows}


def approved_minutes(session: Session, keys: Iterable[tuple[str, int, int]]) -> dict[tuple[str, int, int], int]:
    """Month-to-date approved minutes of each (employee, year, month), read from the counter (by
    employee, one array parameter: the same prepared statement whatever the number of keys)."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = session.execute(select(MonthlyMinutes.employee_id, MonthlyMinutes.year, MonthlyMinutes.month,
                                  MonthlyMinutes.approved_minutes)
                           .where(in_ids(session, MonthlyMinutes.employee_id, {e for e, _, _ in wanted})))
    return {(e, y, m): minutes for e, y, m, minutes in rows if (e, y, m) in wanted}


# -- counters --------------------------------------------------------------------------------------

def dialect_insert(session: Session, table: Table):
    """INSERT with ON CONFLICT for the engine in use (PostgreSQL in production and tests,
    SQLite for the single-machine run); both spell it the same way in SQLAlchemy."""
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def _add(session: Session, table: Table, keys: tuple[str, ...], rows: Mapping[tuple, Mapping[str, int]]) -> None:
    """Add the given amounts to counter rows, creating them as needed, in one statement. Keys
    are sorted so that two transactions touching the same counters lock them in the same order
    (no deadlock between concurrent bulk decisions)."""
    if not rows:
        return
    columns = sorted({c for amounts in rows.values() for c in amounts})
    values = [{**dict(zip(keys, key)), **{c: rows[key].get(c, 0) for c in columns}} for key in sorted(rows)]
    stmt = dialect_insert(session, table).values(values)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={c: table.c[c] + stmt.excluded[c] for c in columns})
    session.execute(stmt)


def count_minutes(session: Session, items: Iterable[tuple[str, date, int]], sign: int = 1) -> None:
    """Add (or with ``sign=-1`` take back) credited minutes of (employee, date, minutes) to the
    month-to-date counter."""
    rows: dict[tuple, dict[str, int]] = defaultdict(lambda: {"approved_minutes": 0, "approved_entries": 0})
    for employee_id, day, minutes in items:
        row = rows[(employee_id, day.year, day.month)]
        row["approved_minutes"] += sign * (minutes or 0)
        row["approved_entries"] += sign
    _add(session, MonthlyMinutes.__table__, ("employee_id", "year", "month"), rows)  # type: ignore[arg-type]


def count_decisions(session: Session, decided_by: str, status: str, days: Iterable[date]) -> None:
    """Note a decider's decisions (``approved``/``rejected``/``returned``) by the entries' month."""
    rows: dict[tuple, dict[str, int]] = defaultdict(lambda: {status: 0})
    for day in days:
        rows[(decided_by, day.year, day.month)][status] += 1
    _add(session, DeciderMonth.__table__, ("decided_by", "year", "month"), rows)  # type: ignore[arg-type]
