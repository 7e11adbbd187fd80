"""Service layer: each function is one use case, run inside a unit of work, and publishes the
events its change causes in the same transaction."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from ekinerja_common.errors import Conflict, NotFound, Text, ValidationFailed
from ekinerja_common.uow import UnitOfWork

from . import domain
from .orm import Duty, Position, Unit


def position_data(p: Position) -> dict:
    return {
        "position_id": p.id, "code": p.code, "name": p.name, "kind": p.kind, "eselon": p.eselon,
        "kelas_jabatan": p.kelas_jabatan, "parent_id": p.parent_id, "unit_id": p.unit_id,
        "factor": str(p.factor), "version": p.version,
    }


def duty_data(d: Duty) -> dict:
    return {
        "duty_id": d.id, "position_id": d.position_id, "description": d.description,
        "output_unit": d.output_unit, "norma_waktu": d.norma_waktu, "version": d.version,
    }


def _unit(uow: UnitOfWork, unit_id: str) -> Unit:
    unit = uow.session.get(Unit, unit_id)
    if unit is None:
        raise ValidationFailed({"unit_id": Text("Unit tidak ditemukan", "Unknown unit")})
    return unit


def _position(uow: UnitOfWork, position_id: str, field: str | None = None) -> Position:
    p = uow.session.get(Position, position_id)
    if p is None:
        if field:
            raise ValidationFailed({field: Text("Jabatan tidak ditemukan", "Unknown position")})
        raise NotFound(Text("Jabatan tidak ditemukan", "Position not found"))
    return p


def create_unit(uow: UnitOfWork, code: str, name: str, kind: str, parent_id: str | None) -> Unit:
    if kind not in domain.UNIT_KINDS:
        raise ValidationFailed({"kind": Text("Jenis unit harus opd, bidang atau subbidang", "Unit kind must be opd, bidang or subbidang")})
    if parent_id:
        _unit(uow, parent_id)
    if uow.session.scalar(select(Unit.id).where(Unit.code == code)):
        raise Conflict("duplicate_code", Text("Kode unit sudah dipakai", "Unit code already used"),
                       {"code": Text("Kode sudah dipakai", "Code already used")})
    unit = Unit(code=code, name=name, kind=kind, parent_id=parent_id)
    uow.session.add(unit)
    uow.session.flush()
    return unit


def create_position(uow: UnitOfWork, *, code: str, name: str, kind: str, kelas_jabatan: int, unit_id: str,
                    parent_id: str | None, eselon: str | None, factor: Decimal) -> Position:
    domain.check_position(kind, kelas_jabatan, eselon, factor)
    _unit(uow, unit_id)
    if parent_id:
        _position(uow, parent_id, "parent_id")
    if uow.session.scalar(select(Position.id).where(Position.code == code)):
        raise Conflict("duplicate_code", Text("Kode jabatan sudah dipakai", "Position code already used"),
                       {"code": Text("Kode sudah dipakai", "Code already used")})
    p = Position(code=code, name=name, kind=kind, kelas_jabatan=kelas_jabatan, unit_id=unit_id,
                 parent_id=parent_id, eselon=eselon, factor=factor, version=1)
    uow.session.add(p)
    uow.session.flush()
    uow.publish("position.created", position_data(p))
    return p


def update_position(uow: UnitOfWork, position_id: str, changes: dict) -> Position:
    p = _position(uow, position_id)
    # Lock the row so two concurrent edits get consecutive versions, never the same one.
    uow.session.refresh(p, with_for_update=True)
    if "parent_id" in changes and changes["parent_id"]:
        _position(uow, changes["parent_id"], "parent_id")
        domain.check_no_cycle(p.id, changes["parent_id"], lambda pid: uow.session.scalar(select(Position.parent_id).where(Position.id == pid)))
    if "unit_id" in changes:
        _unit(uow, changes["unit_id"])
    for key, value in changes.items():
        setattr(p, key, value)
    domain.check_position(p.kind, p.kelas_jabatan, p.eselon, Decimal(p.factor))
    p.version += 1
    uow.session.flush()
    uow.publish("position.updated", position_data(p))
    return p


def publish_duty(uow: UnitOfWork, position_id: str, description: str, output_unit: str, norma_waktu: int) -> Duty:
    _position(uow, position_id)
    domain.check_duty(norma_waktu, description, output_unit)
    d = Duty(position_id=position_id, description=description.strip(), output_unit=output_unit.strip(),
             norma_waktu=norma_waktu, status="published", version=1)
    uow.session.add(d)
    uow.session.flush()
    uow.publish("duty.published", duty_data(d))
    return d


def retire_duty(uow: UnitOfWork, duty_id: str) -> Duty:
    d = uow.session.get(Duty, duty_id, with_for_update=True)
    if d is None:
        raise NotFound(Text("Uraian tugas tidak ditemukan", "Duty not found"))
    if d.status == "retired":
        return d
    d.status = "retired"
    d.version += 1
    uow.session.flush()
    uow.publish("duty.retired", {"duty_id": d.id, "position_id": d.position_id, "version": d.version})
    return d
