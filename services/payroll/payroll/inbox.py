"""Handlers of incoming events: keep the read models a TPP run needs current.

Idempotency is the consumer's job (processed message ids); staleness is ours: every row keeps the
version of the event that wrote it, and an event carrying an older or equal version changes
nothing. Events of different aggregates may come in any order (a placement before its employee,
an approval before the position), so no handler requires another row to exist.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ekinerja_common.consumer import Handler
from ekinerja_common.envelope import Envelope

from .orm import ActivityDecision, AttendanceDay, Base, Employee, Placement, Position


def _upsert(session: Session, model: type[Base], key: dict[str, Any], version: int, values: dict[str, Any]) -> None:
    row = session.get(model, key, with_for_update=True)
    if row is not None and row.version >= version:
        return
    if row is None:
        row = model(**key)
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.version = version


def on_employee(session: Session, env: Envelope) -> None:
    d = env.data
    _upsert(session, Employee, {"employee_id": d["employee_id"]}, d["version"], {
        "nip": d["nip"], "name": d["name"], "employee_kind": d["employee_kind"], "status": d["status"],
        "golongan": d["golongan"] or "", "active": bool(d["active"]),
    })


def on_employee_placed(session: Session, env: Envelope) -> None:
    d = env.data
    _upsert(session, Placement, {"placement_id": d["placement_id"]}, d["version"], {
        "employee_id": d["employee_id"], "position_id": d["position_id"],
        "start_date": date.fromisoformat(d["start_date"]),
        "end_date": date.fromisoformat(d["end_date"]) if d["end_date"] else None,
        "kind": d["kind"],
    })


def on_position(session: Session, env: Envelope) -> None:
    d = env.data
    _upsert(session, Position, {"position_id": d["position_id"]}, d["version"], {
        "code": d["code"], "name": d["name"], "kind": d["kind"], "kelas_jabatan": int(d["kelas_jabatan"]),
        "parent_id": d["parent_id"], "unit_id": d["unit_id"],
        "factor": Decimal(str(d["factor"])) if d["factor"] is not None else Decimal(1),
    })


def on_decision(status: str) -> Handler:
    """approved, rejected and returned all land on the entry's one row, so whichever decision has
    the highest version is the one that counts, whatever order they arrive in."""

    def handle(session: Session, env: Envelope) -> None:
        d = env.data
        _upsert(session, ActivityDecision, {"entry_id": d["entry_id"]}, d["version"], {
            "employee_id": d["employee_id"], "day": date.fromisoformat(d["date"]),
            "credited_minutes": int(d["credited_minutes"]), "status": status,
            "decided_by": d["decided_by"], "decided_at": datetime.fromisoformat(d["decided_at"]),
        })

    return handle


def on_attendance(session: Session, env: Envelope) -> None:
    d = env.data
    _upsert(session, AttendanceDay, {"employee_id": d["employee_id"], "day": date.fromisoformat(d["date"])},
            d["version"], {"codes": list(d["codes"]), "deduction_pct": Decimal(str(d["deduction_pct"]))})


HANDLERS: dict[str, Handler] = {
    "employee.registered": on_employee,
    "employee.updated": on_employee,
    "employee.placed": on_employee_placed,
    "position.created": on_position,
    "position.updated": on_position,
    "activity.approved": on_decision("approved"),
    "activity.rejected": on_decision("rejected"),
    "activity.returned": on_decision("returned"),
    "attendance.recorded": on_attendance,
}
