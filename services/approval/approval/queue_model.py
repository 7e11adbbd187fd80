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
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy import bindparam, event, select, text, update
from sqlalchemy.orm import Session

from . import domain, repository
from .orm import Placement, Position, ValidationItem

_PENDING_KEY, _LISTENING = "queue_model.to_derive", "queue_model.listening"
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


def _to_derive(session: Session) -> set[str]:
    pending = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = session.info[_PENDING_KEY] = set()
        if not session.info.get(_LISTENING):
            session.info[_LISTENING] = True
            event.listen(session, "before_commit", _derive_before_commit)
            event.listen(session, "after_rollback", lambda s: s.info.pop(_PENDING_KEY, None))
    return pending


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
        changed += len(updates)
    return changed


def derive_all(session: Session) -> int:
    """Re-derive every pending item (after a migration, or to repair): the operator's tool."""
    return derive(session, session.scalars(select(ValidationItem.entry_id).where(
        ValidationItem.status == domain.PENDING)))


def _derive_before_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if pending:
        derive(session, sorted(pending))
