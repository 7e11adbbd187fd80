"""Handlers of incoming events: keep the local read models current (idempotency is the
consumer's job; staleness is ours: an older version never overwrites a newer one)."""
from __future__ import annotations

from ekinerja_common.events import Event, PositionData
from ekinerja_common.uow import UnitOfWork

from .orm import PositionRef


def on_position(uow: UnitOfWork, event: Event[PositionData]) -> None:
    """position.created and position.updated carry the full state, so both are one upsert; an
    update may even arrive before its create, and a late older version changes nothing."""
    d, session = event.data, uow.session
    row = session.get(PositionRef, d.position_id, with_for_update=True)
    if row is not None and row.version >= d.version:
        return
    if row is None:
        row = PositionRef(position_id=d.position_id)
        session.add(row)
    row.code = d.code
    row.name = d.name
    row.parent_id = d.parent_id
    row.kind = d.kind
    row.unit_id = d.unit_id
    # ``active`` is an extra field organization adds when it abolishes a post; events from
    # before it existed describe posts that were all active (the model's default).
    row.active = d.active
    row.version = d.version


HANDLERS = {"position.created": on_position, "position.updated": on_position}
