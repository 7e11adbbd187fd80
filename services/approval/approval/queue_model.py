"""The queue's read model: the supervisor of each pending item on its date, stored with the item
(``validation_items.supervisor_id``), so that a queue page is an indexed read instead of the
supervisor rule recomputed over the whole queue per request.

The value is always the shared rule's answer (``ekinerja_common.supervision`` through
``repository.supervisors_for``) on the read models as they are in this database; it is kept in
the transaction of every event that could change it:

- a (re)submission derives its own item's supervisor;
- a placement (employee.placed: new, moved, ended) re-derives the pending items, on the days the
  placement covered before or covers now, of its employee and of everyone placed at or below its
  posts (their walk up may now stop at, or pass, the post);
- a position created or moved (a new parent) re-derives the pending items of everyone placed at or
  below it.

Derivation is deferred to the end of the transaction (``before_commit``) and done for all the
items the transaction touched at once: a consumer committing a batch of submissions loads one
roster for the batch. Two transactions are kept from deriving from each other's uncommitted facts
by a PostgreSQL advisory lock: submissions hold it shared, placement and position changes
exclusive, so whichever commits second sees the first's facts.

The queue's counts (``queue_counts``: per holder, employee and month, what a queue page shows as
its totals and ``people``) are recounted, right after the derivation, for every (employee, month)
the transaction touched: an item inserted or changed through the ORM is noted by the mapper
events below, a change written with a bulk statement by its writer (``items_changed``: decisions,
escalations, the derivation itself). Recounting from the items rather than adding deltas keeps the
counts exact whichever way an item moved. Two transactions recounting the same employee's month
are ordered by an advisory lock per (employee, month), taken before the recount reads: the second
waits for the first to commit and then counts its items too.
"""
from __future__ import annotations

import zlib
from datetime import date
from typing import Iterable

from sqlalchemy import and_, bindparam, delete, event, func, insert, inspect, or_, select, text, tuple_, update
from sqlalchemy.orm import Session, object_session

from . import domain, repository
from .orm import Escalation, Placement, Position, QueueCount, ValidationItem

_PENDING_KEY, _LISTENING = "queue_model.to_derive", "queue_model.listening"
_RECOUNT_KEY = "queue_model.to_recount"
# The two-key advisory lock space (apart from _LOCK's one-key space): (this, hash of employee+month).
_COUNT_LOCK = 0x45_4B_51_43  # "EKQC"
# What an item's place in the counts depends on.
_COUNTED_ATTRS = ("employee_id", "date", "status", "credited_minutes", "supervisor_id")
_HELD, _LISTENING_END = "queue_model.lock_held", "queue_model.listening_end"
# Any constant: one lock for the supervision facts of this database.
_LOCK = 0x45_4B_51_4D  # "EKQM"


def _lock(session: Session, exclusive: bool) -> None:
    # Held until the transaction ends: asked again (every submission of a consumer's batch), it
    # costs no round trip. Forgotten at the end of any transaction, a savepoint's too (a rolled
    # back savepoint may have released it), so the worst case is asking once more.
    held = session.info.get(_HELD)
    if held == "exclusive" or (held == "shared" and not exclusive):
        return
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite has one writer at a time anyway
    if not session.info.get(_LISTENING_END):
        session.info[_LISTENING_END] = True
        event.listen(session, "after_transaction_end", lambda s, _t: s.info.pop(_HELD, None))
    fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with session.no_autoflush:  # a handler may hold a row it has not filled in yet
        session.execute(text(f"SELECT {fn}(:k)"), {"k": _LOCK})
    session.info[_HELD] = "exclusive" if exclusive else "shared"


def _listen(session: Session) -> None:
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "before_commit", _derive_before_commit)
        event.listen(session, "after_rollback", _forget)


def _forget(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(_RECOUNT_KEY, None)


def _to_derive(session: Session) -> set[str]:
    pending = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = session.info[_PENDING_KEY] = set()
        _listen(session)
    return pending


def _to_recount(session: Session) -> set[tuple[str, int, int]]:
    keys = session.info.get(_RECOUNT_KEY)
    if keys is None:
        keys = session.info[_RECOUNT_KEY] = set()
        _listen(session)
    return keys


def items_changed(session: Session, items: Iterable) -> None:
    """Items (anything with ``employee_id`` and ``date``) whose status, minutes, supervisor or
    escalation a bulk statement changed: their months are recounted before the commit. (Changes
    made through the ORM are noted by themselves.)"""
    keys = _to_recount(session)
    for i in items:
        if i.employee_id is not None and i.date is not None:
            keys.add((i.employee_id, i.date.year, i.date.month))


def _note_item(item: ValidationItem) -> None:
    session = object_session(item)
    if session is None:
        return
    state = inspect(item)
    keys = _to_recount(session)
    # The months it was in and is in now (the history is still there while the flush runs).
    employees, days = state.attrs.employee_id.history, state.attrs.date.history
    for e in {*employees.deleted, *employees.unchanged, *employees.added}:
        for d in {*days.deleted, *days.unchanged, *days.added}:
            if e is not None and d is not None:
                keys.add((e, d.year, d.month))


@event.listens_for(ValidationItem, "after_insert")
@event.listens_for(ValidationItem, "after_delete")
def _item_inserted_or_deleted(_mapper, _connection, item: ValidationItem) -> None:
    """An item written through the ORM: its months are recounted before the commit."""
    _note_item(item)


@event.listens_for(ValidationItem, "after_update")
def _item_updated(_mapper, _connection, item: ValidationItem) -> None:
    state = inspect(item)
    if any(state.attrs[a].history.has_changes() for a in _COUNTED_ATTRS):
        _note_item(item)


def item_submitted(session: Session, entry_id: str) -> None:
    """An item (re)entered the queue: its supervisor is derived when the transaction commits."""
    _lock(session, exclusive=False)
    _to_derive(session).add(entry_id)


def _items_of(session: Session, employee_ids: set[str], first: date | None = None,
              last: date | None = None) -> list[str]:
    if not employee_ids:
        return []
    conditions = [ValidationItem.status == domain.PENDING,
                  repository.in_ids(session, ValidationItem.employee_id, employee_ids)]
    if first is not None:
        conditions.append(ValidationItem.date >= first)
    if last is not None:
        conditions.append(ValidationItem.date <= last)
    return list(session.scalars(select(ValidationItem.entry_id).where(*conditions)))


def _placed_at_or_below(session: Session, position_ids: set[str]) -> set[str]:
    """Everyone placed (in any capacity, on any day) at these posts or anywhere below them."""
    posts = set(position_ids)
    if not posts:
        return set()
    down = select(Position.position_id.label("pid")).where(Position.parent_id.in_(posts)).cte("down", recursive=True)
    # UNION drops rows already seen: a damaged cyclic tree still terminates.
    down = down.union(select(Position.position_id).join(down, Position.parent_id == down.c.pid))
    posts |= set(session.scalars(select(down.c.pid)))
    return set(session.scalars(select(Placement.employee_id).distinct()
                               .where(repository.in_ids(session, Placement.position_id, posts))))


def placement_changing(session: Session, employee_id: str | None, position_id: str | None,
                       start: date | None, end: date | None) -> None:
    """Called with a placement's facts before and after its change: the items they can affect
    are those of the days the placement covers."""
    _lock(session, exclusive=True)
    if employee_id is None or position_id is None or start is None:
        return
    people = _placed_at_or_below(session, {position_id}) | {employee_id}
    _to_derive(session).update(_items_of(session, people, start, end))


def position_moved(session: Session, position_id: str) -> None:
    """A position appeared or got a new parent: every walk up through it may end elsewhere."""
    _lock(session, exclusive=True)
    _to_derive(session).update(_items_of(session, _placed_at_or_below(session, {position_id})))


def _derive_unflushed(session: Session, ids: list[str]) -> tuple[list[str], int]:
    """Items added to the session and not yet inserted (a consumer's batch of new submissions)
    get their supervisor before their INSERT, instead of an UPDATE of every one right after it;
    returns the ids left for the stored path and how many were set. Only while nothing else is
    unflushed: the rule then reads the same facts from the tables as after a flush."""
    if not session.new or any(not isinstance(o, ValidationItem)
                              for o in (*session.new, *session.dirty, *session.deleted)):
        return ids, 0
    new = {o.entry_id: o for o in session.new if isinstance(o, ValidationItem)}
    mine = [new[i] for i in ids if i in new and new[i].status == domain.PENDING]
    with session.no_autoflush:
        supervisors = repository.supervisors_for(session, {(o.employee_id, o.date) for o in mine})
    changed = 0
    for o in mine:
        if supervisors[(o.employee_id, o.date)] != o.supervisor_id:
            o.supervisor_id = supervisors[(o.employee_id, o.date)]
            changed += 1
    # A new item that is not pending (a withdrawal's tombstone) has no supervisor to store.
    return [i for i in ids if i not in new], changed


def derive(session: Session, entry_ids: Iterable[str]) -> int:
    """Store the supervisor of each of these items that is pending; returns how many changed.
    Plain columns and one executemany UPDATE (thousands of items when a post high up moves)."""
    ids, changed = _derive_unflushed(session, list(entry_ids))
    if not ids:
        return changed
    session.flush()
    items = ValidationItem.__table__
    for n in range(0, len(ids), 5000):
        rows = session.execute(select(items.c.entry_id, items.c.employee_id, items.c.date, items.c.supervisor_id).where(
            repository.in_ids(session, items.c.entry_id, ids[n:n + 5000]), items.c.status == domain.PENDING)).all()
        supervisors = repository.supervisors_for(session, {(r.employee_id, r.date) for r in rows})
        updates = [{"e": r.entry_id, "s": supervisors[(r.employee_id, r.date)]} for r in rows
                   if supervisors[(r.employee_id, r.date)] != r.supervisor_id]
        if updates:
            session.execute(update(items).where(items.c.entry_id == bindparam("e")).values(supervisor_id=bindparam("s")),
                            updates)
            items_changed(session, (r for r in rows if supervisors[(r.employee_id, r.date)] != r.supervisor_id))
        changed += len(updates)
    return changed


def derive_all(session: Session) -> int:
    """Re-derive every pending item and recount the queue (after a migration, or to repair): the
    operator's tool."""
    changed = derive(session, session.scalars(select(ValidationItem.entry_id).where(
        ValidationItem.status == domain.PENDING)))
    session.info.pop(_RECOUNT_KEY, None)  # all of them, below
    if inspect(session.get_bind()).has_table(QueueCount.__tablename__):  # not yet, inside migration 0005
        recount_all(session)
    return changed


def _derive_before_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if pending:
        derive(session, sorted(pending))
    # After the derivation (which may set the supervisor of items not inserted yet): what is
    # still unflushed notes its months (mapper events) now, then they are recounted.
    session.flush()
    keys = session.info.pop(_RECOUNT_KEY, None)
    if keys:
        recount(session, keys)


# -- the queue's counts ----------------------------------------------------------------------------

def _month_start(y: int, m: int) -> date:
    return date(y, m, 1)


def counts_of(session: Session, keys: set[tuple[str, int, int]] | None = None
              ) -> dict[tuple[str, str, int, int], dict]:
    """The counts as they follow from the pending items, per (holder, employee, year, month): of
    these (employee, year, month)s, or (None) of every one. The same rule as the queue itself
    (``repository.queue_view``): the item's supervisor holds it, and so does whoever it was
    escalated to, unless that is the employee or the supervisor."""
    item = ValidationItem
    conditions = [item.status == domain.PENDING]
    if keys is not None:
        employees = sorted({e for e, _, _ in keys})
        first = min(_month_start(y, m) for _, y, m in keys)
        last_y, last_m = max((y, m) for _, y, m in keys)
        conditions += [repository.in_ids(session, item.employee_id, employees), item.date >= first,
                       item.date < domain.first_of_next_month(_month_start(last_y, last_m))]
    escalation = and_(Escalation.entry_id == item.entry_id, Escalation.level == 1)
    columns = (item.employee_id, item.date, func.coalesce(item.credited_minutes, 0), item.supervisor_id,
               Escalation.escalated_to, Escalation.id)
    rows = session.execute(select(*columns).outerjoin(Escalation, escalation).where(
        *conditions, or_(item.supervisor_id.is_not(None), Escalation.escalated_to.is_not(None)))).all()
    out: dict[tuple[str, str, int, int], dict] = {}
    for employee_id, day, minutes, supervisor_id, escalated_to, escalation_id in rows:
        if keys is not None and (employee_id, day.year, day.month) not in keys:
            continue
        holders = [supervisor_id] if supervisor_id is not None else []
        if escalated_to is not None and escalated_to not in (employee_id, supervisor_id):
            holders.append(escalated_to)
        for holder in holders:
            c = out.get((holder, employee_id, day.year, day.month))
            if c is None:
                c = out[(holder, employee_id, day.year, day.month)] = {
                    "entries": 0, "minutes": 0, "escalated": 0, "oldest": day}
            c["entries"] += 1
            c["minutes"] += minutes
            c["escalated"] += escalation_id is not None
            c["oldest"] = min(c["oldest"], day)
    return out


def _lock_counts(session: Session, keys: set[tuple[str, int, int]]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    # Sorted, so that two transactions wait for each other's months in one order (no deadlock).
    hashes = sorted({zlib.crc32(f"{e}:{y}:{m}".encode()) - 2 ** 31 for e, y, m in keys})
    with session.no_autoflush:
        session.execute(text("SELECT count(pg_advisory_xact_lock(:ns, h)) FROM unnest(CAST(:hs AS integer[])) AS h"),
                        {"ns": _COUNT_LOCK, "hs": hashes})


# The recount of some (employee, year, month)s on PostgreSQL, in one statement after the lock: the
# same rule as ``counts_of`` (which stays the reference and SQLite's path), counted where the items
# are. Rows still counted are upserted, the months' other rows deleted.
_RECOUNT_SQL = text("""
WITH wanted AS (
    SELECT k.employee_id, k.y, k.m, make_date(k.y, k.m, 1) AS first
    FROM unnest(CAST(:employees AS varchar[]), CAST(:years AS integer[]), CAST(:months AS integer[]))
         AS k(employee_id, y, m)
), items AS (
    SELECT w.employee_id, w.y, w.m, i.date, coalesce(i.credited_minutes, 0) AS minutes, i.supervisor_id,
           e.escalated_to, (e.id IS NOT NULL)::integer AS escalated
    FROM wanted w
    JOIN validation_items i ON i.status = :pending AND i.employee_id = w.employee_id
                           AND i.date >= w.first AND i.date < CAST(w.first + interval '1 month' AS date)
    LEFT JOIN escalations e ON e.entry_id = i.entry_id AND e.level = 1
), held AS (
    SELECT supervisor_id AS holder_id, * FROM items WHERE supervisor_id IS NOT NULL
    UNION ALL
    SELECT escalated_to, * FROM items
    WHERE escalated_to IS NOT NULL AND escalated_to <> employee_id
      AND (supervisor_id IS NULL OR escalated_to <> supervisor_id)
), counted AS (
    SELECT holder_id, employee_id, y, m, count(*) AS entries, sum(minutes) AS minutes,
           sum(escalated) AS escalated, min(date) AS oldest
    FROM held GROUP BY holder_id, employee_id, y, m
), kept AS (
    INSERT INTO queue_counts (holder_id, employee_id, year, month, entries, minutes, escalated, oldest)
    SELECT * FROM counted ORDER BY holder_id, employee_id, y, m
    ON CONFLICT (holder_id, employee_id, year, month) DO UPDATE
    SET entries = excluded.entries, minutes = excluded.minutes, escalated = excluded.escalated,
        oldest = excluded.oldest
)
DELETE FROM queue_counts q USING wanted w
WHERE q.employee_id = w.employee_id AND q.year = w.y AND q.month = w.m
  AND NOT EXISTS (SELECT 1 FROM counted c WHERE c.holder_id = q.holder_id AND c.employee_id = q.employee_id
                                            AND c.y = q.year AND c.m = q.month)
""")


def recount(session: Session, keys: Iterable[tuple[str, int, int]]) -> None:
    """Replace the counts of these (employee, year, month)s by a recount of their items."""
    wanted = set(keys)
    if not wanted:
        return
    if session.get_bind().dialect.name == "postgresql":
        _lock_counts(session, wanted)
        ordered = sorted(wanted)
        session.execute(_RECOUNT_SQL, {"employees": [e for e, _, _ in ordered], "years": [y for _, y, _ in ordered],
                                       "months": [m for _, _, m in ordered], "pending": domain.PENDING})
        return
    table = QueueCount.__table__
    counted = counts_of(session, wanted)
    ordered = sorted(wanted)
    for n in range(0, len(ordered), 1000):
        session.execute(delete(table).where(
            tuple_(table.c.employee_id, table.c.year, table.c.month).in_(ordered[n:n + 1000])))
    rows = [{"holder_id": h, "employee_id": e, "year": y, "month": m, **c}
            for (h, e, y, m), c in sorted(counted.items())]
    for n in range(0, len(rows), 1000):
        session.execute(insert(table), rows[n:n + 1000])


def recount_all(session: Session) -> None:
    """Every count from the items (after a migration, or to repair): the operator's tool."""
    session.flush()
    session.execute(delete(QueueCount.__table__))
    rows = [{"holder_id": h, "employee_id": e, "year": y, "month": m, **c}
            for (h, e, y, m), c in sorted(counts_of(session).items())]
    for n in range(0, len(rows), 5000):
        session.execute(insert(QueueCount.__table__), rows[n:n + 5000])
