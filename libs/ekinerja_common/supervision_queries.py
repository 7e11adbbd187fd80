"""Loading what :mod:`ekinerja_common.supervision` needs from a service's read models, with the
fewest rows and queries: the one loader identity, activity and approval share, so that no
service can load a different slice of the same facts and so answer differently.

Each service names its own tables and columns once (:class:`ReadModel`); every query here is
then the same for all of them, on PostgreSQL and on SQLite.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterable

from sqlalchemy import ARRAY, ColumnElement, String, and_, any_, bindparam, or_, select
from sqlalchemy.orm import Session

from . import supervision
from .supervision import DEFINITIVE, Holding, Roster, Supervision


@dataclass(frozen=True)
class ReadModel:
    """Where a service keeps the facts: the columns of its placement read model and of its
    position read model (ORM attributes)."""

    placement_id: Any
    employee_id: Any
    position_id: Any
    kind: Any
    start_date: Any
    end_date: Any
    post_id: Any    # the position table's id column
    parent_id: Any  # ... and its parent link


def in_ids(session: Session, column, ids: Iterable[str]) -> ColumnElement[bool]:
    """``column IN ids`` for lists of up to thousands of ids. On PostgreSQL one array parameter
    (``= ANY(:ids)``) instead of one parameter per id, which keeps planning cheap for a bulk of
    1,000; SQLite takes the plain IN list."""
    values = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(String)))
    return column.in_(values)


def _active_between(m: ReadModel, first: date, last: date) -> ColumnElement[bool]:
    """Placements active on at least one day of [first, last]."""
    return and_(m.start_date <= last, or_(m.end_date.is_(None), m.end_date >= first))


def _holdings(session: Session, m: ReadModel, *conditions) -> list[Holding]:
    rows = session.execute(select(m.placement_id, m.employee_id, m.position_id, m.kind, m.start_date, m.end_date)
                           .where(*conditions))
    return [Holding(*row) for row in rows]


def parent_links(session: Session, m: ReadModel, position_ids: Iterable[str]) -> dict[str, str | None]:
    """Parent links from the given positions up to the top of the tree (one recursive query)."""
    ids = list(position_ids)
    if not ids:
        return {}
    chain = select(m.post_id.label("pid"), m.parent_id.label("parent")).where(m.post_id.in_(ids))
    chain = chain.cte("chain", recursive=True)
    # UNION (not UNION ALL) drops rows already seen, so a damaged cyclic tree still terminates.
    chain = chain.union(select(m.post_id, m.parent_id).join(chain, m.post_id == chain.c.parent))
    return {pid: parent for pid, parent in session.execute(select(chain.c.pid, chain.c.parent))}


def lines(session: Session, m: ReadModel, employee_ids: Iterable[str], first: date,
          last: date) -> tuple[Roster, dict[str, str | None]]:
    """What the rule needs for these employees on any day of [first, last]: their placements,
    the parent links above their own posts, and everyone placed in those posts. Three queries
    whatever the number of employees (a month of a team's entries, a batch of escalations)."""
    ids = set(employee_ids)
    if not ids:
        return Roster(()), {}
    own = _holdings(session, m, in_ids(session, m.employee_id, ids), _active_between(m, first, last))
    parents = parent_links(session, m, {h.position_id for h in own if h.kind == DEFINITIVE})
    # A parent whose own position event has not arrived yet still has holders to ask.
    posts = set(parents) | {p for p in parents.values() if p is not None}
    above = _holdings(session, m, in_ids(session, m.position_id, posts), _active_between(m, first, last)) if posts else []
    return Roster(own + above), parents


def chains(session: Session, m: ReadModel, keys: Iterable[tuple[str, date]],
           levels: int = 2) -> dict[tuple[str, date], list[Supervision]]:
    """``supervision.chain`` of each (employee, date), from one roster covering them all."""
    wanted = set(keys)
    if not wanted:
        return {}
    days = [d for _, d in wanted]
    roster, parents = lines(session, m, {e for e, _ in wanted}, min(days), max(days))
    return {(e, d): supervision.chain(e, d, roster, parents, levels) for e, d in wanted}


def supervisors(session: Session, m: ReadModel, keys: Iterable[tuple[str, date]]) -> dict[tuple[str, date], str | None]:
    """The supervisor's id of each (employee, date), or None."""
    return {k: (c[0].supervisor_id if c else None) for k, c in chains(session, m, keys, levels=1).items()}


def supervisor(session: Session, m: ReadModel, employee_id: str, day: date) -> Supervision | None:
    found = chains(session, m, [(employee_id, day)], levels=1)[(employee_id, day)]
    return found[0] if found else None


def levels_above(session: Session, m: ReadModel, employee_id: str, day: date, levels: int = 2) -> list[str]:
    """The ids of the employee's supervisor, the supervisor's supervisor, … on ``day``."""
    return [s.supervisor_id for s in chains(session, m, [(employee_id, day)], levels)[(employee_id, day)]]


def subordinates(session: Session, m: ReadModel, supervisor_id: str, day: date) -> set[str]:
    """Everyone whose supervisor on ``day`` is ``supervisor_id``."""
    return subordinates_between(session, m, supervisor_id, day, day)


def subordinates_between(session: Session, m: ReadModel, supervisor_id: str, first: date, last: date) -> set[str]:
    """Everyone whose supervisor is ``supervisor_id`` on at least one day of [first, last]: the
    definitive holders of the posts below the supervisor's own posts (one recursive query down),
    each resolved by the rule, day by day, from one roster (a month of a team of 50 is a few
    thousand cheap calls in memory and a handful of queries)."""
    posts = {h.position_id for h in _holdings(session, m, m.employee_id == supervisor_id,
                                              _active_between(m, first, last))}
    if not posts:
        return set()
    down = select(m.post_id.label("pid")).where(m.parent_id.in_(posts)).cte("down", recursive=True)
    # UNION (not UNION ALL) drops rows already seen, so a damaged cyclic tree still terminates.
    down = down.union(select(m.post_id).join(down, m.parent_id == down.c.pid))
    below = set(session.scalars(select(down.c.pid)))
    if not below:
        return set()
    candidates = set(session.scalars(
        select(m.employee_id).distinct().where(in_ids(session, m.position_id, below), m.kind == DEFINITIVE,
                                               _active_between(m, first, last)))) - {supervisor_id}
    if not candidates:
        return set()
    roster, parents = lines(session, m, candidates, first, last)
    found: set[str] = set()
    day = first
    while day <= last and candidates - found:
        for e in candidates - found:
            s = supervision.supervisor_of(e, day, roster, parents)
            if s is not None and s.supervisor_id == supervisor_id:
                found.add(e)
        day += timedelta(days=1)
    return found
