"""HTTP entry point of the activity service: parse, authorize, call the service layer, map
results to JSON. Every endpoint works on the caller's own entries only: the employee comes from
the token, never from the request."""
from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Annotated

from flask import Blueprint, current_app, g, request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import select

from ekinerja_common.auth import JwksKeySource, TokenVerifier
from ekinerja_common.config import Settings
from ekinerja_common.errors import Forbidden, Text, ValidationFailed
from ekinerja_common.runtime import Runtime
from ekinerja_common.web import accepts, create_base_app, principal

from . import clock, domain, services
from .orm import Duty, Entry
from .runtime import build_runtime

bp = Blueprint("activity", __name__)

_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def _hhmm(value: object) -> time:
    # Minutes are the unit of credit; seconds in a time would make the figures disagree silently.
    if isinstance(value, str) and _HHMM.fullmatch(value):
        return time.fromisoformat(value)
    raise PydanticCustomError("time_parsing", "Input should be a time as HH:MM")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EntryIn(Strict):
    date: date
    start_time: Annotated[time, BeforeValidator(_hhmm)]
    end_time: Annotated[time, BeforeValidator(_hhmm)]
    duty_id: str = Field(min_length=1, max_length=36)
    # Strict: "3" or 2.5 is a typing mistake, not an output count. The bound only keeps the
    # number inside its column; the real limit is the daily ceiling.
    volume: int = Field(strict=True, le=1_000_000)
    description: str = Field(min_length=1, max_length=2000)

    def draft(self) -> domain.Draft:
        return domain.Draft(self.date, self.start_time, self.end_time, self.duty_id, self.volume, self.description)


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def current_policy() -> domain.Policy:
    return current_app.extensions["activity_policy"]


def employee() -> str:
    """The calling employee's id; accounts without an employee record (pure admin) have no entries."""
    p = principal()
    p.require("pegawai")
    if not p.employee_id:
        raise Forbidden(Text("Akun ini tidak terhubung dengan data pegawai", "This account is not linked to an employee"),
                        "no_employee")
    return p.employee_id


def _query_date(name: str) -> date:
    raw = request.args.get(name)
    if raw is None:
        return clock.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed({name: Text("Harus berupa tanggal (YYYY-MM-DD)", "Must be a date (YYYY-MM-DD)")})


def _query_month() -> tuple[date, date]:
    """First day of the requested month (default: this month) and of the month after."""
    raw = request.args.get("month")
    if raw is None:
        first = clock.today().replace(day=1)
    else:
        m = _MONTH.fullmatch(raw)
        if m is None:
            raise ValidationFailed({"month": Text("Harus berupa bulan (YYYY-MM)", "Must be a month (YYYY-MM)")})
        first = date(int(m.group(1)), int(m.group(2)), 1)
    return first, (first + timedelta(days=32)).replace(day=1)


def entry_json(e: Entry) -> dict:
    return {
        "id": e.id, "employee_id": e.employee_id, "date": e.date.isoformat(),
        "start_time": e.start_time.strftime("%H:%M"), "end_time": e.end_time.strftime("%H:%M"),
        "duty_id": e.duty_id, "duty_description": e.duty_description, "volume": e.volume,
        "output_unit": e.output_unit, "norma_waktu": e.norma_waktu, "credited_minutes": e.credited_minutes,
        "description": e.description, "status": e.status, "reason": e.reason, "version": e.version,
    }


def duty_json(d: Duty) -> dict:
    return {"id": d.duty_id, "position_id": d.position_id, "description": d.description,
            "output_unit": d.output_unit, "norma_waktu": d.norma_waktu}


@bp.get("/duties")
def list_duties():
    """The caller's duties on ``?date=YYYY-MM-DD`` (default today), from every post held that day.

    ``position_id`` is the definitive post (or the first Plt post when there is none);
    ``positions`` lists every post held, Plt included."""
    emp = employee()
    day = _query_date("date")
    with runtime().session_factory() as s:
        placements, duties = services.duties_on(s, emp, day)
        return {
            "date": day.isoformat(),
            "position_id": placements[0].position_id if placements else None,
            "positions": [{"position_id": p.position_id, "kind": p.kind} for p in placements],
            "duties": [duty_json(d) for d in duties],
        }


@bp.post("/entries/preview")
@accepts(EntryIn)
def preview_entry(body: EntryIn):
    """Credited minutes and every rule the entry would break, without storing anything."""
    emp = employee()
    with runtime().session_factory() as s:
        result = services.preview_entry(s, emp, body.draft(), clock.today(), current_policy())
    return {"credited_minutes": result.credited_minutes, "valid": result.valid,
            "errors": {name: t.as_json() for name, t in result.errors.items()}}


@bp.post("/entries")
@accepts(EntryIn)
def submit_entry(body: EntryIn):
    """Submit a daily activity entry for the supervisor's validation; publishes activity.submitted."""
    emp = employee()
    with runtime().uow(g.request_id) as uow:
        entry = services.submit_entry(uow, emp, body.draft(), clock.today(), current_policy())
        uow.commit()
    return entry_json(entry), 201


@bp.get("/entries")
def list_entries():
    """The caller's own entries of ``?month=YYYY-MM`` (default this month), withdrawn ones included."""
    emp = employee()
    first, after = _query_month()
    with runtime().session_factory() as s:
        rows = s.scalars(
            select(Entry).where(Entry.employee_id == emp, Entry.date >= first, Entry.date < after)
            .order_by(Entry.date, Entry.start_time)
        )
        return {"entries": [entry_json(e) for e in rows]}


@bp.get("/entries/<entry_id>")
def get_entry(entry_id: str):
    """One of the caller's own entries (anyone else's is 404)."""
    emp = employee()
    with runtime().session_factory() as s:
        return entry_json(services.own_entry(s, emp, entry_id))


@bp.post("/entries/<entry_id>/withdraw")
def withdraw_entry(entry_id: str):
    """Withdraw an own entry still awaiting validation; publishes activity.withdrawn."""
    emp = employee()
    with runtime().uow(g.request_id) as uow:
        entry = services.withdraw_entry(uow, emp, entry_id)
        uow.commit()
    return entry_json(entry)


def create_app(settings: Settings | None = None, verifier: TokenVerifier | None = None,
               policy: domain.Policy | None = None):
    rt = build_runtime(settings)
    verifier = verifier or TokenVerifier(JwksKeySource(rt.settings.jwks_url), rt.settings.jwt_issuer, rt.settings.jwt_audience)
    app = create_base_app("activity", verifier, rt.check_ready, "E-Kinerja activity (BKD kinerja)",
                          "Daily activity entries against the duties of the employee's position, with credited minutes.")
    app.extensions["runtime"] = rt
    app.extensions["activity_policy"] = policy or domain.Policy.from_settings(rt.settings.extra)
    app.register_blueprint(bp)
    return app
