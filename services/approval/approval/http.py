"""What the views of approval's blueprints share (app, appeals_app): the caller, the runtime and
today of the app, query parsing, JSON of a queue item. Blueprints import this module, never
``app`` (which imports them to register them)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Callable, TypeVar

from flask import current_app, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Row

from ekinerja_common.auth import Principal
from ekinerja_common.errors import Forbidden, Text
from ekinerja_common.runtime import Runtime
from ekinerja_common.web import principal, validation_error

from . import services
from .orm import Escalation, ValidationItem
from .repository import EscalationFlag


MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"



class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


EntryId = Annotated[str, Field(min_length=1, max_length=36)]


Q = TypeVar("Q", bound=BaseModel)


def query(model: type[Q]) -> Q:
    """The query string through the same pydantic checks (and 422 listing) as a JSON body."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise validation_error(exc)


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def today() -> date:
    """Today in WIB (tests replace ``app.extensions["clock"]`` to move through deadlines)."""
    clock_fn: Callable[[], date] = current_app.extensions["clock"]
    return clock_fn()


def employee() -> str:
    """The calling employee's id; an account without an employee record has no entries."""
    p = principal()
    p.require("pegawai")
    if not p.employee_id:
        raise Forbidden(Text("Akun ini tidak terhubung dengan data pegawai", "This account is not linked to an employee"),
                        "no_employee")
    return p.employee_id


def admin() -> Principal:
    p = principal()
    p.require("admin_bkd")
    return p


def parse_month(raw: str) -> tuple[int, int]:
    year, month = raw.split("-")
    return int(year), int(month)


def _hhmm(t) -> str | None:
    return t.isoformat(timespec="minutes") if t is not None else None


def escalation_json(e: Escalation | EscalationFlag | None) -> dict | None:
    if e is None:
        return None
    return {"level": e.level, "late_supervisor_id": e.late_supervisor_id, "escalated_to": e.escalated_to,
            "deadline": e.deadline.isoformat(), "escalated_at": services.iso_utc(e.escalated_at)}


def item_json(item: ValidationItem | Row, employee_name: str | None = None, nip: str | None = None,
              escalation: Escalation | EscalationFlag | None = None) -> dict:
    return {
        "entry_id": item.entry_id, "employee_id": item.employee_id, "employee_name": employee_name, "nip": nip,
        "date": item.date.isoformat(), "start_time": _hhmm(item.start_time), "end_time": _hhmm(item.end_time),
        "duty_id": item.duty_id, "duty_description": item.duty_description, "volume": item.volume,
        "output_unit": item.output_unit, "credited_minutes": item.credited_minutes, "description": item.description,
        "status": item.status, "version": item.version,
        "submitted_at": services.iso_utc(item.submitted_at) if item.submitted_at else None,
        # "eskalasi": the validation deadline passed and the entry went up to the next supervisor.
        "escalated": escalation is not None, "escalation": escalation_json(escalation),
    }
