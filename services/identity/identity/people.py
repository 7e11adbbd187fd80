"""Who supervises whom on a date, read from identity's own placements and the parent links of the
position read model (fed by organization's position events). The rule itself is in
``domain.supervisor_of``; this module only loads the placements that rule needs, no more: the
posts on one employee's way up, or the posts below one supervisor."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import domain
from .orm import Placement, PositionRef


def _active_on(day: date):
    return (Placement.start_date <= day) & or_(Placement.end_date.is_(None), Placement.end_date >= day)


def _holdings(session: Session, *conditions) -> list[domain.Holding]:
    rows = session.execute(select(Placement.id, Placement.employee_id, Placement.position_id, Placement.kind,
                                  Placement.start_date, Placement.end_date).where(*conditions)).all()
    return [domain.Holding(*row) for row in rows]


def parent_links(session: Session) -> dict[str, str | None]:
    # Two short columns per post: a regency's few thousand posts load in one quick query.
    return {pid: parent for pid, parent in session.execute(select(PositionRef.position_id, PositionRef.parent_id))}


def supervisor(session: Session, employee_id: str, day: date) -> domain.Supervision | None:
    parent_of = parent_links(session)
    own = _holdings(session, Placement.employee_id == employee_id, _active_on(day))
    chain: set[str] = set()
    for h in own:
        current = parent_of.get(h.position_id)
        while current is not None and current not in chain:
            chain.add(current)
            current = parent_of.get(current)
    above = _holdings(session, Placement.position_id.in_(chain), _active_on(day)) if chain else []
    return domain.supervisor_of(employee_id, day, domain.Roster(own + above), parent_of)


def subordinate_ids(session: Session, employee_id: str, day: date) -> set[str]:
    """The people ``employee_id`` supervises on ``day`` (empty for someone without a post
    anybody reports to)."""
    parent_of = parent_links(session)
    own = _holdings(session, Placement.employee_id == employee_id, _active_on(day))
    posts = {h.position_id for h in own}
    below = domain.descendants(posts, parent_of)
    if not below:
        return set()
    # Everyone placed below, with all their placements of that day (a person's own post is the
    # definitive one with the latest start, which may lie elsewhere), and the holders of the
    # supervisor's own posts (a co-holder of the same post may be the one who answers).
    placed_below = select(Placement.employee_id).where(Placement.position_id.in_(below), _active_on(day))
    holdings = _holdings(session, _active_on(day),
                         or_(Placement.employee_id.in_(placed_below), Placement.position_id.in_(posts)))
    return domain.subordinates_of(employee_id, day, domain.Roster(holdings), parent_of)
