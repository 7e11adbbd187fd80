"""Handlers of incoming events: keep the local read models current (idempotency is the
consumer's job; staleness is ours: an older version never overwrites a newer one)."""
from __future__ import annotations

from ekinerja_common.auth_store import on_account_revoked
from ekinerja_common.events import Event, PlacementData
from ekinerja_common.uow import UnitOfWork

from .orm import Placement


def on_employee_placed(uow: UnitOfWork, event: Event[PlacementData]) -> None:
    d, session = event.data, uow.session
    row = session.get(Placement, d.placement_id, with_for_update=True)
    if row is not None and row.version >= d.version:
        return
    if row is None:
        row = Placement(placement_id=d.placement_id)
        session.add(row)
    row.employee_id = d.employee_id
    row.position_id = d.position_id
    row.start_date = d.start_date
    row.end_date = d.end_date
    row.kind = d.kind
    row.version = d.version


HANDLERS = {"employee.placed": on_employee_placed,
            "account.revoked": on_account_revoked}
