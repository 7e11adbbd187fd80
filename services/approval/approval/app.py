"""HTTP entry point of the approval service: parse, authorize, call the service layer, map
results to JSON. Every caller is an employee (role pegawai); what they may see or decide depends
on whom they supervise on each entry's date, which the service layer checks per object."""
from __future__ import annotations

from flask import Blueprint, current_app, g
from pydantic import BaseModel, ConfigDict, Field

from ekinerja_common.auth import JwksKeySource, TokenVerifier
from ekinerja_common.config import Settings
from ekinerja_common.runtime import Runtime
from ekinerja_common.web import accepts, create_base_app, principal

from . import repository, services
from .orm import Decision, Employee, ValidationItem
from .runtime import build_runtime

bp = Blueprint("approval", __name__)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReasonIn(Strict):
    # Blank or missing is refused by the domain rule, with a message saying a reason is required.
    reason: str = Field(default="", max_length=2000)


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def caller_id() -> str | None:
    p = principal()
    p.require("pegawai")
    return p.employee_id


def _hhmm(t) -> str | None:
    return t.strftime("%H:%M") if t is not None else None


def item_json(item: ValidationItem, employee: Employee | None = None) -> dict:
    return {
        "entry_id": item.entry_id, "employee_id": item.employee_id,
        "employee_name": employee.name if employee else None, "nip": employee.nip if employee else None,
        "date": item.date.isoformat(), "start_time": _hhmm(item.start_time), "end_time": _hhmm(item.end_time),
        "duty_id": item.duty_id, "duty_description": item.duty_description, "volume": item.volume,
        "output_unit": item.output_unit, "credited_minutes": item.credited_minutes, "description": item.description,
        "status": item.status, "version": item.version,
        "submitted_at": services.iso_utc(item.submitted_at) if item.submitted_at else None,
    }


def decision_json(d: Decision) -> dict:
    return {"decision": d.decision, "reason": d.reason, "decided_by": d.decided_by,
            "decided_at": services.iso_utc(d.decided_at), "version": d.version}


@bp.get("/queue")
def queue():
    """Pending entries of everyone the caller supervises on each entry's date.

    Ordered by employee, date and start time."""
    me = caller_id()
    if me is None:
        return {"items": []}
    with runtime().session_factory() as s:
        return {"items": [item_json(item, emp) for item, emp in repository.queue_for(s, me)]}


@bp.get("/entries/<entry_id>")
def get_entry(entry_id: str):
    """One entry with its decision history (the employee, their supervisor on that date)."""
    me = caller_id()
    with runtime().session_factory() as s:
        item, history = services.visible_entry(s, entry_id, me)
        return {**item_json(item, s.get(Employee, item.employee_id)), "decisions": [decision_json(d) for d in history]}


def _decide(entry_id: str, decision: str, reason: str | None = None):
    me = caller_id()
    with runtime().uow(g.request_id) as uow:
        item, record = services.decide(uow, entry_id, decision, me, reason, g.request_id)
        employee = uow.session.get(Employee, item.employee_id)
        uow.commit()
    return {**item_json(item, employee), "decision": decision_json(record)}


@bp.post("/entries/<entry_id>/approve")
def approve(entry_id: str):
    """Approve an entry (its supervisor on the entry's date); publishes activity.approved."""
    return _decide(entry_id, "approve")


@bp.post("/entries/<entry_id>/reject")
@accepts(ReasonIn)
def reject(entry_id: str, body: ReasonIn):
    """Reject an entry with a mandatory reason; publishes activity.rejected."""
    return _decide(entry_id, "reject", body.reason)


@bp.post("/entries/<entry_id>/return")
@accepts(ReasonIn)
def return_entry(entry_id: str, body: ReasonIn):
    """Return an entry for revision with a mandatory reason; publishes activity.returned."""
    return _decide(entry_id, "return", body.reason)


def create_app(settings: Settings | None = None, verifier: TokenVerifier | None = None):
    rt = build_runtime(settings)
    verifier = verifier or TokenVerifier(JwksKeySource(rt.settings.jwks_url), rt.settings.jwt_issuer, rt.settings.jwt_audience)
    app = create_base_app("approval", verifier, rt.check_ready, "E-Kinerja approval (BKD, validasi atasan)",
                          "The supervisor's validation queue and decisions on daily activity entries.")
    app.extensions["runtime"] = rt
    app.register_blueprint(bp)
    return app
