"""Who supervises whom on a date, read from identity's own placements and the parent links of the
position read model (fed by organization's position events). The rule is the one every service
applies (``ekinerja_common.supervision``) and so is the loader (``supervision_queries``); this
module only says where identity keeps the facts."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ekinerja_common import supervision_queries as q
from ekinerja_common.supervision import Supervision

from .orm import Placement, PositionRef

FACTS = q.ReadModel(placement_id=Placement.id, employee_id=Placement.employee_id, position_id=Placement.position_id,
                    kind=Placement.kind, start_date=Placement.start_date, end_date=Placement.end_date,
                    post_id=PositionRef.position_id, parent_id=PositionRef.parent_id)


def supervisor(session: Session, employee_id: str, day: date) -> Supervision | None:
    return q.supervisor(session, FACTS, employee_id, day)


def subordinate_ids(session: Session, employee_id: str, day: date) -> set[str]:
    """The people ``employee_id`` supervises on ``day`` (empty for someone without a post
    anybody reports to)."""
    return q.subordinates(session, FACTS, employee_id, day)
