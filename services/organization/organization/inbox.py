"""Handlers of incoming events: keep the local read models current (idempotency is the
consumer's job; staleness is ours: an older version never overwrites a newer one)."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ekinerja_common.auth_store import on_account_revoked
from ekinerja_common.envelope import Envelope

from .orm import Placement


def on_employee_placed(session: Session, env: Envelope) -> None:
    d = env.data
    row = session.get(Placement, d["placement_id"], with_for_update=True)
    if row is not None and row.version >= d["version"]:
        return
    if row is None:
        row = Placement(placement_id=d["placement_id"])
        session.add(row)
    row.employee_id = d["employee_id"]
    row.position_id = d["position_id"]
    row.start_date = date.fromisoformat(d["start_date"])
    row.end_date = date.fromisoformat(d["end_date"]) if d["end_date"] else None
    row.kind = d["kind"]
    row.version = d["version"]


HANDLERS = {"employee.placed": on_employee_placed,
            "account.revoked": on_account_revoked}
