"""What the views of activity's blueprints share (app, attendance_app, bkd_app): the caller, the
runtime and policy of the app, query and body parsing, JSON of shared objects. Blueprints import
this module, never ``app`` (which imports them to register them)."""
from __future__ import annotations

import contextlib
import re
from datetime import date, time, timedelta
from typing import Iterator

from flask import current_app, request
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from ekinerja_common import clock
from ekinerja_common.auth import Principal
from ekinerja_common.errors import Forbidden, Text, ValidationFailed
from ekinerja_common.evidence import EvidenceStore
from ekinerja_common.runtime import Runtime
from ekinerja_common.web import parse_body, principal, validation_error

from . import domain
from .orm import Evidence


_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def hhmm(value: object) -> time:
    # Minutes are the unit of credit; seconds in a time would make the figures disagree silently.
    if isinstance(value, str) and _HHMM.fullmatch(value):
        return time.fromisoformat(value)
    raise PydanticCustomError("time_parsing", "Input should be a time as HH:MM")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def current_policy() -> domain.EntryRules:
    return current_app.extensions["activity_policy"]


@contextlib.contextmanager
def read_session() -> Iterator[Session]:
    """A session for a read of one statement on the hot path (GET /me/month at month-end): on
    PostgreSQL in autocommit, which saves the BEGIN and ROLLBACK round trips of a transaction
    that would only read once. (SQLite keeps the ordinary session: its engine opens every
    transaction with BEGIN IMMEDIATE, which autocommit would leave open.)"""
    rt = runtime()
    if rt.engine.dialect.name != "postgresql":
        with rt.session_factory() as s:
            yield s
        return
    with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn, Session(bind=conn) as s:
        yield s


def evidence_store() -> EvidenceStore:
    return current_app.extensions["evidence_store"]


def form(model: type[BaseModel]) -> BaseModel:
    """A multipart form's text fields through the same pydantic checks as a JSON body."""
    try:
        return model.model_validate({k: v for k, v in request.form.items()})
    except ValidationError as exc:
        raise validation_error(exc)


def json_or_form(model: type[BaseModel]) -> BaseModel:
    """The body of an endpoint that takes JSON, or a multipart form when a file comes along."""
    if request.mimetype == "multipart/form-data":
        return form(model)
    return parse_body(model, request.get_json(silent=True))


def uploaded_file(required: bool = True) -> tuple[str, bytes] | None:
    """The multipart ``file`` field as (client's name, bytes), read up to one byte past the
    limit so that the size check knows "too large" without reading a huge body."""
    f = request.files.get("file")
    if f is None:
        if required:
            raise ValidationFailed({"file": Text("Unggah berkas pada kolom 'file' (multipart/form-data)",
                                                 "Upload the file in the 'file' field (multipart/form-data)")})
        return None
    return f.filename or "", f.stream.read(current_policy().evidence_max_bytes + 1)


def employee() -> str:
    """The calling employee's id; accounts without an employee record (pure admin) have no entries."""
    p = principal()
    p.require("pegawai")
    if not p.employee_id:
        raise Forbidden(Text("Akun ini tidak terhubung dengan data pegawai", "This account is not linked to an employee"),
                        "no_employee")
    return p.employee_id


def query_date(name: str) -> date:
    raw = request.args.get(name)
    if raw is None:
        return clock.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed({name: Text("Harus berupa tanggal (YYYY-MM-DD)", "Must be a date (YYYY-MM-DD)")})


def query_month() -> tuple[date, date]:
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


def evidence_json(e: Evidence) -> dict:
    return {"id": e.id, "entry_id": e.entry_id, "leave_id": e.leave_id, "filename": e.filename,
            "content_type": e.content_type, "size_bytes": e.size_bytes, "sha256": e.sha256,
            "uploaded_at": e.uploaded_at.isoformat(), "url": f"/evidence/{e.id}"}


def bkd() -> Principal:
    p = principal()
    p.require("admin_bkd")
    return p
