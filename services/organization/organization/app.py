"""HTTP entry point of the organization service: parse, authorize, call the service layer, map
results to JSON. Writes need the ``organisasi`` role; reading the structure needs a login with a
role (a token still waiting for its password change has none, see identity); the workload
analysis is for ``organisasi`` and ``admin_bkd``."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from flask import Blueprint, current_app, g, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select

from ekinerja_common.auth import Principal, TokenVerifier
from ekinerja_common.auth_store import verifier_for
from ekinerja_common.config import Settings
from ekinerja_common import idempotency
from ekinerja_common import preview
from ekinerja_common.errors import DomainError, Forbidden, NotFound, Text, ValidationFailed
from ekinerja_common.runtime import Runtime
from ekinerja_common.web import accepts, create_base_app, principal
from ekinerja_common import clock

from . import abk, imports, services
from .orm import AbkPolicy, Duty, Placement, Position, PositionHistory, Unit
from .runtime import build_runtime

bp = Blueprint("organization", __name__)

PositionKind = Literal["jpt", "administrator", "pengawas", "pelaksana", "fungsional"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UnitIn(Strict):
    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["opd", "bidang", "subbidang"]
    parent_id: str | None = None


class UnitPatch(Strict):
    name: str = Field(min_length=1, max_length=200)


class PositionIn(Strict):
    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    kind: PositionKind
    kelas_jabatan: int
    unit_id: str
    parent_id: str | None = None
    eselon: str | None = Field(default=None, max_length=10)
    factor: Decimal = Decimal("1")
    valid_from: date | None = None


class PositionPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: PositionKind | None = None
    kelas_jabatan: int | None = None
    unit_id: str | None = None
    parent_id: str | None = None
    eselon: str | None = Field(default=None, max_length=10)
    factor: Decimal | None = None
    # The day this version takes effect; default today, never in the future.
    valid_from: date | None = None


class DutyIn(Strict):
    description: str = Field(min_length=1, max_length=2000)
    output_unit: str = Field(min_length=1, max_length=50)
    norma_waktu: int
    yearly_volume: int | None = None


class DutyPatch(Strict):
    yearly_volume: int | None


class AbkPolicyIn(Strict):
    effective_minutes_per_year: int


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def manage() -> Principal:
    p = principal()
    p.require("organisasi")
    return p


def reader() -> Principal:
    """Any logged-in user with a role. A token without roles (one issued for a password change
    only) is refused like any other role check refuses it."""
    p = principal()
    if not p.roles:
        raise Forbidden()
    return p


def analyst() -> Principal:
    p = principal()
    p.require("organisasi", "admin_bkd")
    return p


def query_date(name: str = "date") -> date:
    raw = request.args.get(name)
    if not raw:
        return clock.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed({name: Text("Harus berupa tanggal (YYYY-MM-DD)", "Must be a date (YYYY-MM-DD)")}) from None


def include_inactive() -> bool:
    return request.args.get("status") == "all"


def unit_json(u: Unit) -> dict:
    return {"id": u.id, "code": u.code, "name": u.name, "kind": u.kind, "parent_id": u.parent_id, "active": u.active,
            "version": u.version}


def position_json(p: Position, holders: int | None = None) -> dict:
    out = {"id": p.id, "code": p.code, "name": p.name, "kind": p.kind, "eselon": p.eselon,
           "kelas_jabatan": p.kelas_jabatan, "factor": str(p.factor), "unit_id": p.unit_id,
           "parent_id": p.parent_id, "version": p.version,
           "valid_from": p.valid_from.isoformat() if p.valid_from else None, "active": p.active}
    if holders is not None:
        out["holders_today"] = holders
    return out


def version_json(h: PositionHistory) -> dict:
    return {"id": h.position_id, "version": h.version, "valid_from": h.valid_from.isoformat(), "code": h.code,
            "name": h.name, "kind": h.kind, "eselon": h.eselon, "kelas_jabatan": h.kelas_jabatan,
            "factor": str(h.factor), "unit_id": h.unit_id, "parent_id": h.parent_id, "active": h.active,
            "recorded_at": h.recorded_at.isoformat(), "recorded_by": h.recorded_by}


def duty_json(d: Duty) -> dict:
    return {"id": d.id, "position_id": d.position_id, "description": d.description,
            "output_unit": d.output_unit, "norma_waktu": d.norma_waktu, "yearly_volume": d.yearly_volume,
            "status": d.status, "version": d.version}


# -- units ----------------------------------------------------------------------------------------

@bp.get("/units")
def list_units():
    """Units (OPD, bidang, subbidang); ``?status=all`` includes dissolved ones."""
    reader()
    q = select(Unit).order_by(Unit.code)
    if not include_inactive():
        q = q.where(Unit.active)
    with runtime().session_factory() as s:
        return {"units": [unit_json(u) for u in s.scalars(q)]}


@bp.post("/units")
@accepts(UnitIn)
def create_unit(body: UnitIn):
    """Create a unit (role organisasi). Kinds nest OPD → bidang → subbidang: an OPD has no
    parent, a bidang sits in an OPD, a subbidang in a bidang."""
    p = manage()
    with runtime().uow(g.request_id) as uow:
        unit = services.create_unit(uow, body.code, body.name, body.kind, body.parent_id, actor=p.account_id)
        uow.commit()
    return unit_json(unit), 201


@bp.patch("/units/<unit_id>")
@accepts(UnitPatch)
def rename_unit(unit_id: str, body: UnitPatch):
    """Rename a unit (role organisasi). Kind and parent do not change: reorganising makes new
    units and moves positions there, so history keeps the old shape."""
    p = manage()
    with runtime().uow(g.request_id) as uow:
        unit = services.rename_unit(uow, unit_id, body.name, actor=p.account_id)
        uow.commit()
    return unit_json(unit)


@bp.delete("/units/<unit_id>")
def dissolve_unit(unit_id: str):
    """Dissolve a unit (role organisasi): 409 unit_has_children or unit_has_positions while
    active child units or positions remain; otherwise it is kept, marked inactive."""
    p = manage()
    with runtime().uow(g.request_id) as uow:
        services.dissolve_unit(uow, unit_id, actor=p.account_id)
        uow.commit()
    return "", 204


# -- positions ------------------------------------------------------------------------------------

@bp.get("/positions")
def list_positions():
    """Positions with how many people hold each today; ``?status=all`` includes abolished ones."""
    reader()
    today = clock.today()
    q = select(Position).order_by(Position.code)
    if not include_inactive():
        q = q.where(Position.active)
    with runtime().session_factory() as s:
        held = {pid: n for pid, n in s.execute(
            select(Placement.position_id, func.count())
            .where(Placement.start_date <= today, or_(Placement.end_date.is_(None), Placement.end_date >= today))
            .group_by(Placement.position_id))}
        return {"positions": [position_json(p, held.get(p.id, 0)) for p in s.scalars(q)]}


@bp.post("/positions")
@accepts(PositionIn)
def create_position(body: PositionIn):
    """Create a position (role organisasi), effective from ``valid_from`` (default today);
    publishes position.created."""
    p = manage()
    with runtime().uow(g.request_id) as uow:
        pos = services.create_position(uow, **body.model_dump(), actor=p.account_id)
        uow.commit()
    return position_json(pos), 201


@bp.get("/positions/<position_id>")
def get_position(position_id: str):
    """One position with its duties; ``?date=YYYY-MM-DD`` gives the version in force that day
    (from the history) instead of the current one."""
    reader()
    with runtime().session_factory() as s:
        p = s.get(Position, position_id)
        if p is None:
            raise NotFound(Text("Jabatan tidak ditemukan", "Position not found"))
        duties = s.scalars(select(Duty).where(Duty.position_id == p.id).order_by(Duty.description)).all()
        body = position_json(p)
        if request.args.get("date"):
            day = query_date()
            version = s.scalars(select(PositionHistory).where(PositionHistory.position_id == p.id,
                                                              PositionHistory.valid_from <= day)
                                .order_by(PositionHistory.valid_from.desc(), PositionHistory.version.desc()).limit(1)).first()
            if version is None:
                raise NotFound(Text(f"Jabatan belum ada pada {day.isoformat()}", f"The position did not exist on {day.isoformat()}"),
                               "not_yet_valid")
            body = {**version_json(version), "date": day.isoformat()}
        return {**body, "duties": [duty_json(d) for d in duties]}


@bp.get("/positions/<position_id>/history")
def position_history(position_id: str):
    """Every version of a position, oldest first, each with the day it took effect."""
    reader()
    with runtime().session_factory() as s:
        if s.get(Position, position_id) is None:
            raise NotFound(Text("Jabatan tidak ditemukan", "Position not found"))
        rows = s.scalars(select(PositionHistory).where(PositionHistory.position_id == position_id)
                         .order_by(PositionHistory.version)).all()
        return {"position_id": position_id, "versions": [version_json(h) for h in rows]}


@bp.patch("/positions/<position_id>")
@accepts(PositionPatch)
def update_position(position_id: str, body: PositionPatch):
    """Change a position (role organisasi) from ``valid_from`` (default today; back-dating is
    allowed down to the current version's date, the future is not). Records a version in the
    history and publishes position.updated; a request that changes nothing does neither."""
    p = manage()
    changes = body.model_dump(exclude_unset=True)
    valid_from = changes.pop("valid_from", None)
    with runtime().uow(g.request_id) as uow:
        pos = services.update_position(uow, position_id, changes, valid_from, actor=p.account_id)
        uow.commit()
    return position_json(pos)


@bp.delete("/positions/<position_id>")
def abolish_position(position_id: str):
    """Abolish a position (role organisasi). 409 position_held while anyone holds it today or
    later (placements read model), 409 position_has_children while active positions sit below
    it. Otherwise it is kept as inactive, its duties are retired, and position.updated goes out
    with ``active: false, abolished: true``."""
    p = manage()
    with runtime().uow(g.request_id) as uow:
        services.abolish_position(uow, position_id, actor=p.account_id)
        uow.commit()
    return "", 204


# -- duties ---------------------------------------------------------------------------------------

@bp.get("/positions/<position_id>/duties")
def list_duties(position_id: str):
    """Duties of a position; ``?status=all`` includes retired ones."""
    reader()
    with runtime().session_factory() as s:
        q = select(Duty).where(Duty.position_id == position_id)
        if not include_inactive():
            q = q.where(Duty.status == "published")
        return {"duties": [duty_json(d) for d in s.scalars(q.order_by(Duty.description))]}


@bp.post("/positions/<position_id>/duties")
@accepts(DutyIn)
def publish_duty(position_id: str, body: DutyIn):
    """Publish a duty with its norma waktu and, for the ABK, its yearly volume (role
    organisasi); publishes duty.published."""
    p = manage()
    with runtime().uow(g.request_id) as uow:
        d = services.publish_duty(uow, position_id, body.description, body.output_unit, body.norma_waktu,
                                  body.yearly_volume, actor=p.account_id)
        uow.commit()
    return duty_json(d), 201


@bp.patch("/duties/<duty_id>")
@accepts(DutyPatch)
def change_duty(duty_id: str, body: DutyPatch):
    """Set a duty's yearly volume (role organisasi); publishes duty.published with a higher
    version. Its norma waktu does not change in place (publish a new duty instead)."""
    p = manage()
    with runtime().uow(g.request_id) as uow:
        d = services.set_yearly_volume(uow, duty_id, body.yearly_volume, actor=p.account_id)
        uow.commit()
    return duty_json(d)


@bp.post("/duties/<duty_id>/retire")
def retire_duty(duty_id: str):
    """Retire a duty (role organisasi); publishes duty.retired."""
    p = manage()
    with runtime().uow(g.request_id) as uow:
        d = services.retire_duty(uow, duty_id, actor=p.account_id)
        uow.commit()
    return duty_json(d)


UPLOAD_TYPES = ("text/csv", "text/plain", "application/octet-stream",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.ms-excel")


def uploaded_file() -> bytes:
    """The file of a multipart form (field ``file``) or the raw body (text/csv or XLSX)."""
    if request.mimetype == "multipart/form-data":
        f = request.files.get("file")
        if f is None:
            raise ValidationFailed({"file": Text("Lampirkan berkas pada kolom 'file'", "Attach the file as the 'file' field")})
        return f.read()
    if request.mimetype not in UPLOAD_TYPES:
        raise DomainError("unsupported_media_type", Text("Kirim berkas CSV atau XLSX", "Send a CSV or XLSX file"), status=415)
    return request.get_data()


@bp.post("/duties/import")
@idempotency.idempotent
def import_duties():
    """Publish many duties from CSV or XLSX (role organisasi; columns position_code, description,
    output_unit, norma_waktu, yearly_volume). All or nothing: 422 import_invalid lists every
    problem with its line; ``?partial=true`` stores the good rows and lists the bad ones;
    ``?dry_run=true`` is the preview (checked and counted, nothing stored). Publishes
    duty.published for each."""
    p = manage()
    data = uploaded_file()
    partial = request.args.get("partial", "").lower() in ("1", "true", "yes")
    dry_run = preview.dry_run_requested(request.args)
    with runtime().uow(g.request_id) as uow:
        result = imports.import_duties(uow, p.account_id, data, partial=partial)
        preview.finish(uow, dry_run)
    return ({**result.as_json(), "dry_run": True}, 200) if dry_run else (result.as_json(), 201)


# -- workload analysis (ABK) ----------------------------------------------------------------------

@bp.get("/abk")
def abk_report():
    """Workload analysis on ``?date=`` (default today), optionally for ``?unit_id=`` and the units
    below it (roles organisasi, admin_bkd): per position Σ(yearly volume × norma waktu), required
    staff as a decimal and rounded half up, the definitive headcount that day and the gap
    (actual − rounded); per unit the same summed, alone and with its subunits."""
    analyst()
    day = query_date()
    with runtime().session_factory() as s:
        return abk.report(s, day, request.args.get("unit_id") or None)


def _year(raw: str) -> int:
    if not (raw.isdigit() and 2000 <= int(raw) <= 2100):
        raise ValidationFailed({"year": Text("Tahun harus 2000–2100", "Year must be 2000–2100")})
    return int(raw)


@bp.get("/abk/policy/<year>")
def get_abk_policy(year: str):
    """The year's effective working minutes for the ABK (default 72,000 = 300 min × 240 days,
    Perka BKN 19/2011, until organisasi sets another)."""
    analyst()
    y = _year(year)
    with runtime().session_factory() as s:
        minutes, is_default = services.effective_minutes(s, y)
        row = s.get(AbkPolicy, y)
        return {"year": y, "effective_minutes_per_year": minutes, "is_default": is_default,
                "updated_at": row.updated_at.isoformat() if row else None, "updated_by": row.updated_by if row else None}


@bp.put("/abk/policy/<year>")
@accepts(AbkPolicyIn)
def put_abk_policy(year: str, body: AbkPolicyIn):
    """Set the year's effective working minutes (role organisasi); audited."""
    p = manage()
    y = _year(year)
    with runtime().uow(g.request_id) as uow:
        row = services.set_abk_policy(uow, y, body.effective_minutes_per_year, actor=p.account_id)
        uow.commit()
    return {"year": row.year, "effective_minutes_per_year": row.effective_minutes_per_year, "is_default": False,
            "updated_at": row.updated_at.isoformat(), "updated_by": row.updated_by}


def create_app(settings: Settings | None = None, verifier: TokenVerifier | None = None):
    rt = build_runtime(settings)
    verifier = verifier or verifier_for(rt)
    app = create_base_app("organization", verifier, rt.check_ready, "E-Kinerja organization (Bagian Organisasi)",
                          "Unit tree, positions (jabatan) with their history, duties (uraian tugas) with norma waktu, "
                          "and the workload analysis (ABK).")
    app.extensions["runtime"] = rt
    app.register_blueprint(bp)
    return app
