"""HTTP entry point of the organization service: parse, authorize, call the service layer, map
results to JSON. Writes need the ``organisasi`` role; any logged-in user may read the structure."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from flask import Blueprint, current_app, g, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select

from ekinerja_common.auth import JwksKeySource, TokenVerifier
from ekinerja_common.config import Settings
from ekinerja_common.errors import NotFound, Text
from ekinerja_common.runtime import Runtime
from ekinerja_common.web import accepts, create_base_app, principal

from . import services
from .orm import Duty, Placement, Position, Unit
from .runtime import build_runtime

bp = Blueprint("organization", __name__)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UnitIn(Strict):
    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["opd", "bidang", "subbidang"]
    parent_id: str | None = None


class PositionIn(Strict):
    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["jpt", "administrator", "pengawas", "pelaksana", "fungsional"]
    kelas_jabatan: int
    unit_id: str
    parent_id: str | None = None
    eselon: str | None = Field(default=None, max_length=10)
    factor: Decimal = Decimal("1")


class PositionPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kelas_jabatan: int | None = None
    unit_id: str | None = None
    parent_id: str | None = None
    eselon: str | None = Field(default=None, max_length=10)
    factor: Decimal | None = None


class DutyIn(Strict):
    description: str = Field(min_length=1, max_length=2000)
    output_unit: str = Field(min_length=1, max_length=50)
    norma_waktu: int


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def manage() -> None:
    principal().require("organisasi")


def unit_json(u: Unit) -> dict:
    return {"id": u.id, "code": u.code, "name": u.name, "kind": u.kind, "parent_id": u.parent_id}


def position_json(p: Position, holders: int | None = None) -> dict:
    out = {"id": p.id, "code": p.code, "name": p.name, "kind": p.kind, "eselon": p.eselon,
           "kelas_jabatan": p.kelas_jabatan, "factor": str(p.factor), "unit_id": p.unit_id,
           "parent_id": p.parent_id, "version": p.version}
    if holders is not None:
        out["holders_today"] = holders
    return out


def duty_json(d: Duty) -> dict:
    return {"id": d.id, "position_id": d.position_id, "description": d.description,
            "output_unit": d.output_unit, "norma_waktu": d.norma_waktu, "status": d.status}


@bp.get("/units")
def list_units():
    """All units (OPD, bidang, subbidang)."""
    principal()
    with runtime().session_factory() as s:
        return {"units": [unit_json(u) for u in s.scalars(select(Unit).order_by(Unit.code))]}


@bp.post("/units")
@accepts(UnitIn)
def create_unit(body: UnitIn):
    """Create a unit (role organisasi)."""
    manage()
    with runtime().uow(g.request_id) as uow:
        unit = services.create_unit(uow, body.code, body.name, body.kind, body.parent_id)
        uow.commit()
    return unit_json(unit), 201


@bp.get("/positions")
def list_positions():
    """All positions, with how many people hold each today."""
    principal()
    today = date.today()
    with runtime().session_factory() as s:
        held = dict(s.execute(
            select(Placement.position_id, func.count())
            .where(Placement.start_date <= today, or_(Placement.end_date.is_(None), Placement.end_date >= today))
            .group_by(Placement.position_id)
        ).all())
        positions = s.scalars(select(Position).order_by(Position.code)).all()
        return {"positions": [position_json(p, held.get(p.id, 0)) for p in positions]}


@bp.post("/positions")
@accepts(PositionIn)
def create_position(body: PositionIn):
    """Create a position (role organisasi); publishes position.created."""
    manage()
    with runtime().uow(g.request_id) as uow:
        p = services.create_position(uow, **body.model_dump())
        uow.commit()
    return position_json(p), 201


@bp.get("/positions/<position_id>")
def get_position(position_id: str):
    """One position with its duties."""
    principal()
    with runtime().session_factory() as s:
        p = s.get(Position, position_id)
        if p is None:
            raise NotFound(Text("Jabatan tidak ditemukan", "Position not found"))
        duties = s.scalars(select(Duty).where(Duty.position_id == p.id).order_by(Duty.description)).all()
        return {**position_json(p), "duties": [duty_json(d) for d in duties]}


@bp.patch("/positions/<position_id>")
@accepts(PositionPatch)
def update_position(position_id: str, body: PositionPatch):
    """Change a position (role organisasi); publishes position.updated with a new version."""
    manage()
    with runtime().uow(g.request_id) as uow:
        p = services.update_position(uow, position_id, body.model_dump(exclude_unset=True))
        uow.commit()
    return position_json(p)


@bp.get("/positions/<position_id>/duties")
def list_duties(position_id: str):
    """Duties of a position; ``?status=all`` includes retired ones."""
    principal()
    with runtime().session_factory() as s:
        q = select(Duty).where(Duty.position_id == position_id)
        if request.args.get("status") != "all":
            q = q.where(Duty.status == "published")
        return {"duties": [duty_json(d) for d in s.scalars(q.order_by(Duty.description))]}


@bp.post("/positions/<position_id>/duties")
@accepts(DutyIn)
def publish_duty(position_id: str, body: DutyIn):
    """Publish a duty with its norma waktu (role organisasi); publishes duty.published."""
    manage()
    with runtime().uow(g.request_id) as uow:
        d = services.publish_duty(uow, position_id, body.description, body.output_unit, body.norma_waktu)
        uow.commit()
    return duty_json(d), 201


@bp.post("/duties/<duty_id>/retire")
def retire_duty(duty_id: str):
    """Retire a duty (role organisasi); publishes duty.retired."""
    manage()
    with runtime().uow(g.request_id) as uow:
        d = services.retire_duty(uow, duty_id)
        uow.commit()
    return duty_json(d)


def create_app(settings: Settings | None = None, verifier: TokenVerifier | None = None):
    rt = build_runtime(settings)
    verifier = verifier or TokenVerifier(JwksKeySource(rt.settings.jwks_url), rt.settings.jwt_issuer, rt.settings.jwt_audience)
    app = create_base_app("organization", verifier, rt.check_ready, "E-Kinerja organization (Bagian Organisasi)",
                          "Unit tree, positions (jabatan) and duties (uraian tugas) with norma waktu.")
    app.extensions["runtime"] = rt
    app.register_blueprint(bp)
    return app
