"""Queries behind supervisor resolution. They load just the placements and position links the
pure rule in :mod:`approval.domain` needs, always from the read models as they are now, so a late
placement or position event corrects every queue without any re-computation."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from . import domain
from .orm import Employee, Placement, Position, ValidationItem


def _active_on(placement, day) -> ColumnElement[bool]:
    return and_(placement.start_date <= day, or_(placement.end_date.is_(None), placement.end_date >= day))


def _active_between(first: date, last: date) -> ColumnElement[bool]:
    """Placements active on at least one day of [first, last]."""
    return and_(Placement.start_date <= last, or_(Placement.end_date.is_(None), Placement.end_date >= first))


def _chains(session: Session, position_ids: Iterable[str]) -> dict[str, str | None]:
    """Parent links from the given positions up to the top of the tree."""
    chain = select(Position.position_id, Position.parent_id).where(Position.position_id.in_(list(position_ids)))
    chain = chain.cte("chain", recursive=True)
    # UNION (not UNION ALL) drops rows already seen, so a damaged cyclic tree still terminates.
    chain = chain.union(select(Position.position_id, Position.parent_id).join(chain, Position.position_id == chain.c.parent_id))
    return {pid: parent for pid, parent in session.execute(select(chain.c.position_id, chain.c.parent_id))}


def _roster(session: Session, employee_ids: Iterable[str], first: date, last: date) -> tuple[domain.Roster, dict[str, str | None]]:
    """What the domain rule needs for these employees over [first, last]: their placements, the
    positions above their own, and everyone placed in those."""
    own = session.scalars(select(Placement).where(Placement.employee_id.in_(list(employee_ids)), _active_between(first, last))).all()
    parents = _chains(session, {p.position_id for p in own if p.kind == domain.DEFINITIVE})
    # A parent whose own position.created has not arrived yet still has holders.
    above = set(parents) | {parent for parent in parents.values() if parent}
    holders = session.scalars(select(Placement).where(Placement.position_id.in_(above), _active_between(first, last))).all()
    facts = [domain.PlacementFact(p.employee_id, p.position_id, p.start_date, p.end_date, p.kind, p.placement_id)
             for p in {p.placement_id: p for p in [*own, *holders]}.values()]
    return domain.Roster(facts), parents


def supervisor_of(session: Session, employee_id: str, on: date) -> str | None:
    """The employee's supervisor on that date, resolved by the domain rule."""
    roster, parents = _roster(session, [employee_id], on, on)
    return domain.resolve_supervisor(employee_id, on, roster, parents)


def _pending_days(caller_id: str):
    """Days that have pending entries and on which the caller holds a post. The distinct days
    are found by hopping along the (status, date) index, one probe per day, instead of reading
    every pending entry of the regency (a loose index scan)."""
    item, mine = aliased(ValidationItem), aliased(Placement)
    first = select(func.min(item.date)).where(item.status == domain.PENDING).scalar_subquery()
    days = select(first.label("day")).cte("pending_days", recursive=True)
    following = select(func.min(item.date)).where(item.status == domain.PENDING, item.date > days.c.day).scalar_subquery()
    days = days.union_all(select(following).where(days.c.day.is_not(None)))
    on_duty = exists().where(mine.employee_id == caller_id, _active_on(mine, days.c.day))
    return select(days.c.day).where(days.c.day.is_not(None), on_duty).cte("days")


def _reach(caller_id: str):
    """(position, day) pairs where someone the caller may supervise on that day can sit: the
    caller's own posts, their children, and further down only below a post vacant that day
    (a held post stops the walk up, so whoever sits below it belongs to its holder).

    A superset (the caller may be a Plt of a post that has a definitive holder): the domain rule
    sifts it."""
    days, post, held, below = _pending_days(caller_id), aliased(Placement), aliased(Placement), aliased(Position)
    reach = (select(post.position_id, days.c.day, literal(True).label("own_post"))
             .join(days, _active_on(post, days.c.day)).where(post.employee_id == caller_id)
             .cte("reach", recursive=True))
    vacant = ~exists().where(held.position_id == reach.c.position_id, _active_on(held, reach.c.day))
    return reach.union(
        select(below.position_id, reach.c.day, literal(False))
        .join(reach, below.parent_id == reach.c.position_id)
        .where(or_(reach.c.own_post, vacant))
    )


def _candidates(session: Session, caller_id: str) -> list[tuple[ValidationItem, Employee | None]]:
    """Pending entries of people placed (in any capacity: a Plt of the post above may be skipped
    past) at a reachable position on the entry's day, with the employee's name and NIP."""
    reach, placed = _reach(caller_id), aliased(Placement)
    pairs = {(employee_id, day) for employee_id, day in session.execute(
        select(placed.employee_id, reach.c.day).distinct()
        .join(reach, and_(reach.c.position_id == placed.position_id, _active_on(placed, reach.c.day)))
        .where(placed.employee_id != caller_id)
    )}
    if not pairs:
        return []
    rows = session.execute(
        select(ValidationItem, Employee)
        .outerjoin(Employee, Employee.employee_id == ValidationItem.employee_id)
        .where(ValidationItem.status == domain.PENDING, ValidationItem.employee_id.in_({e for e, _ in pairs}))
        .order_by(Employee.name.nulls_last(), ValidationItem.employee_id, ValidationItem.date, ValidationItem.start_time)
    ).all()
    return [(item, emp) for item, emp in rows if (item.employee_id, item.date) in pairs]


def queue_for(session: Session, caller_id: str) -> list[tuple[ValidationItem, Employee | None]]:
    """Pending items of everyone ``caller_id`` supervises on each item's date, ordered by
    employee, date and start time."""
    rows = _candidates(session, caller_id)
    if not rows:
        return []
    roster, parents = _roster(session, {item.employee_id for item, _ in rows},
                              min(item.date for item, _ in rows), max(item.date for item, _ in rows))
    return [(item, emp) for item, emp in rows
            if domain.resolve_supervisor(item.employee_id, item.date, roster, parents) == caller_id]
