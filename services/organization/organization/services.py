"""Service layer: each function is one use case, run inside a unit of work, and publishes the
events its change causes and writes its audit record in the same transaction."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from ekinerja_common import clock
from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import Conflict, DomainError, NotFound, Text, ValidationFailed
from ekinerja_common.uow import UnitOfWork

from . import domain
from .orm import AbkPolicy, AuditRecord, Duty, Placement, Position, PositionHistory, Unit

POSITION_FIELDS = ("name", "kind", "eselon", "kelas_jabatan", "factor", "unit_id", "parent_id")



def position_data(p: Position) -> dict:
    """The full state of a position as events carry it. Beyond the catalogue's fields: ``eselon``,
    ``valid_from`` (the day this version took effect), ``active`` and ``abolished`` (a post
    abolished with DELETE /positions/{id} is sent once more with active false)."""
    return {
        "position_id": p.id, "code": p.code, "name": p.name, "kind": p.kind, "eselon": p.eselon,
        "kelas_jabatan": p.kelas_jabatan, "parent_id": p.parent_id, "unit_id": p.unit_id,
        "factor": str(p.factor), "version": p.version,
        "valid_from": p.valid_from.isoformat() if p.valid_from else None,
        "active": p.active, "abolished": not p.active,
    }


def unit_data(u: Unit) -> dict:
    """The full state of a unit as unit.created / unit.updated carry it; beyond the catalogue's
    fields, ``active`` (false once the unit is dissolved)."""
    return {"unit_id": u.id, "code": u.code, "name": u.name, "kind": u.kind, "parent_id": u.parent_id,
            "active": u.active, "version": u.version}


def duty_data(d: Duty) -> dict:
    return {
        "duty_id": d.id, "position_id": d.position_id, "description": d.description,
        "output_unit": d.output_unit, "norma_waktu": d.norma_waktu, "version": d.version,
        "yearly_volume": d.yearly_volume,
    }


def audit(uow: UnitOfWork, actor: str | None, action: str, object_type: str, object_id: str, *,
          before: Any = None, after: Any = None, **details: Any) -> None:
    """One audit record: who, when, in which request (the gateway's request id), the record
    before and after the change, and what else explains it."""
    uow.session.add(AuditRecord(at=utcnow(), actor_account_id=actor, action=action, object_type=object_type,
                                object_id=object_id, details=details, request_id=uow.correlation_id,
                                before=before, after=after))


def _unit(uow: UnitOfWork, unit_id: str, field: str = "unit_id") -> Unit:
    unit = uow.session.get(Unit, unit_id)
    if unit is None:
        raise ValidationFailed({field: Text("Unit tidak ditemukan", "Unknown unit")})
    if not unit.active:
        raise ValidationFailed({field: Text("Unit sudah dibubarkan", "The unit has been dissolved")})
    return unit


def _position(uow: UnitOfWork, position_id: str, field: str | None = None, lock: bool = False) -> Position:
    p = uow.session.get(Position, position_id, with_for_update=lock)
    if p is None:
        if field:
            raise ValidationFailed({field: Text("Jabatan tidak ditemukan", "Unknown position")})
        raise NotFound(Text("Jabatan tidak ditemukan", "Position not found"))
    if field and not p.active:
        raise ValidationFailed({field: Text("Jabatan sudah dihapus", "The position has been abolished")})
    return p


def _record_version(uow: UnitOfWork, actor: str | None, p: Position) -> None:
    uow.session.add(PositionHistory(
        position_id=p.id, version=p.version, valid_from=p.valid_from, code=p.code, name=p.name, kind=p.kind,
        eselon=p.eselon, kelas_jabatan=p.kelas_jabatan, factor=p.factor, unit_id=p.unit_id, parent_id=p.parent_id,
        active=p.active, recorded_at=utcnow(), recorded_by=actor))


def _flush_unique(uow: UnitOfWork, conflict: DomainError) -> None:
    # The check before the insert answers the usual case; this answers two requests racing past it.
    try:
        uow.session.flush()
    except IntegrityError:
        raise conflict from None


# -- units ----------------------------------------------------------------------------------------

def create_unit(uow: UnitOfWork, code: str, name: str, kind: str, parent_id: str | None, actor: str | None = None) -> Unit:
    parent = _unit(uow, parent_id, "parent_id") if parent_id else None
    domain.check_unit(kind, parent.kind if parent else None, parent is not None)
    duplicate = Conflict("duplicate_code", Text("Kode unit sudah dipakai", "Unit code already used"),
                         {"code": Text("Kode sudah dipakai", "Code already used")})
    if uow.session.scalar(select(Unit.id).where(Unit.code == code)):
        raise duplicate
    unit = Unit(code=code, name=name, kind=kind, parent_id=parent_id, active=True, version=1)
    uow.session.add(unit)
    _flush_unique(uow, duplicate)
    uow.publish("unit.created", unit_data(unit))
    audit(uow, actor, "unit.created", "unit", unit.id, after=unit_data(unit), code=code, name=name, kind=kind,
          parent_id=parent_id)
    return unit


def rename_unit(uow: UnitOfWork, unit_id: str, name: str, actor: str | None = None) -> Unit:
    """Only the name of a unit changes in place. Its kind and parent are its place in the tree:
    a reorganisation makes new units and moves the positions, so history keeps the old shape."""
    unit = uow.session.get(Unit, unit_id, with_for_update=True)
    if unit is None:
        raise NotFound(Text("Unit tidak ditemukan", "Unit not found"))
    if unit.name != name:
        before = unit_data(unit)
        unit.name = name
        unit.version += 1
        uow.session.flush()
        uow.publish("unit.updated", unit_data(unit))
        audit(uow, actor, "unit.renamed", "unit", unit.id, before=before, after=unit_data(unit))
    return unit


def dissolve_unit(uow: UnitOfWork, unit_id: str, actor: str | None = None) -> Unit:
    """DELETE /units/{id}: refused while the unit has active child units or active positions;
    otherwise the unit is marked dissolved (kept, since history refers to it)."""
    unit = uow.session.get(Unit, unit_id, with_for_update=True)
    if unit is None:
        raise NotFound(Text("Unit tidak ditemukan", "Unit not found"))
    if not unit.active:
        return unit
    children = uow.session.scalar(select(func.count()).select_from(Unit).where(Unit.parent_id == unit.id, Unit.active))
    positions = uow.session.scalar(select(func.count()).select_from(Position)
                                   .where(Position.unit_id == unit.id, Position.active))
    domain.check_unit_removable(children or 0, positions or 0)
    before = unit_data(unit)
    unit.active = False
    unit.dissolved_at = utcnow()
    unit.version += 1
    uow.session.flush()
    uow.publish("unit.updated", unit_data(unit))
    audit(uow, actor, "unit.dissolved", "unit", unit.id, before=before, after=unit_data(unit), code=unit.code)
    return unit


# -- positions ------------------------------------------------------------------------------------

def create_position(uow: UnitOfWork, *, code: str, name: str, kind: str, kelas_jabatan: int, unit_id: str,
                    parent_id: str | None, eselon: str | None, factor: Decimal, valid_from: date | None = None,
                    today: date | None = None, actor: str | None = None) -> Position:
    today = today or clock.today()
    eselon = domain.normalize_eselon(eselon)
    domain.check_position(kind, kelas_jabatan, eselon, factor)
    domain.check_valid_from(valid_from or today, None, today)
    _unit(uow, unit_id)
    if parent_id:
        _position(uow, parent_id, "parent_id")
    duplicate = Conflict("duplicate_code", Text("Kode jabatan sudah dipakai", "Position code already used"),
                         {"code": Text("Kode sudah dipakai", "Code already used")})
    if uow.session.scalar(select(Position.id).where(Position.code == code)):
        raise duplicate
    p = Position(code=code, name=name, kind=kind, kelas_jabatan=kelas_jabatan, unit_id=unit_id, parent_id=parent_id,
                 eselon=eselon, factor=factor, version=1, valid_from=valid_from or today, active=True)
    uow.session.add(p)
    _flush_unique(uow, duplicate)
    _record_version(uow, actor, p)
    uow.publish("position.created", position_data(p))
    audit(uow, actor, "position.created", "position", p.id, after=position_data(p), **position_data(p))
    return p


def update_position(uow: UnitOfWork, position_id: str, changes: dict, valid_from: date | None = None,
                    today: date | None = None, actor: str | None = None) -> Position:
    """A new version of the position, effective from ``valid_from`` (default today): recorded in
    the history and published as position.updated. A request that changes nothing is no version."""
    today = today or clock.today()
    # Locked so two concurrent edits get consecutive versions, never the same one.
    p = _position(uow, position_id, lock=True)
    if not p.active:
        raise Conflict("position_abolished", Text("Jabatan sudah dihapus", "The position has been abolished"))
    changes = {k: v for k, v in changes.items() if k in POSITION_FIELDS}
    if "eselon" in changes:
        changes["eselon"] = domain.normalize_eselon(changes["eselon"])
    if "factor" in changes and changes["factor"] is None:
        changes.pop("factor")
    for required in ("name", "kind", "kelas_jabatan", "unit_id"):
        if required in changes and changes[required] is None:
            raise ValidationFailed({required: Text("Wajib diisi", "Required")})
    before = {f: getattr(p, f) for f in POSITION_FIELDS}
    after = {**before, **changes}
    changed = {f: [_json(before[f]), _json(after[f])] for f in POSITION_FIELDS if before[f] != after[f]
               and not (f == "factor" and Decimal(before[f]) == Decimal(after[f]))}
    if not changed:
        return p
    day = valid_from or today
    domain.check_valid_from(day, p.valid_from, today)
    domain.check_position(after["kind"], after["kelas_jabatan"], after["eselon"], Decimal(after["factor"]))
    if "unit_id" in changed:
        _unit(uow, after["unit_id"])
    if "parent_id" in changed and after["parent_id"]:
        _position(uow, after["parent_id"], "parent_id")
        domain.check_no_cycle(p.id, after["parent_id"],
                              lambda pid: uow.session.scalar(select(Position.parent_id).where(Position.id == pid)))
    record_before = position_data(p)
    for f in changed:
        setattr(p, f, after[f])
    p.version += 1
    p.valid_from = day
    p.updated_at = utcnow()
    uow.session.flush()
    _record_version(uow, actor, p)
    uow.publish("position.updated", position_data(p))
    audit(uow, actor, "position.updated", "position", p.id, before=record_before, after=position_data(p),
          changed=changed, version=p.version, valid_from=day.isoformat())
    return p


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def abolish_position(uow: UnitOfWork, position_id: str, today: date | None = None, actor: str | None = None) -> Position:
    """DELETE /positions/{id}. Refused (409 position_held) while anyone holds the post today or
    later according to the placements read model, and (409 position_has_children) while active
    positions hang below it. Otherwise the post is abolished: a last version with active false
    (position.updated, abolished true) and its published duties retired (duty.retired each)."""
    today = today or clock.today()
    p = _position(uow, position_id, lock=True)
    if not p.active:
        return p
    holders = uow.session.scalar(select(func.count()).select_from(Placement).where(
        Placement.position_id == p.id, or_(Placement.end_date.is_(None), Placement.end_date >= today)))
    children = uow.session.scalar(select(func.count()).select_from(Position)
                                  .where(Position.parent_id == p.id, Position.active))
    domain.check_abolishable(holders or 0, children or 0)
    duties = uow.session.scalars(select(Duty).where(Duty.position_id == p.id, Duty.status == "published")
                                 .with_for_update()).all()
    record_before = position_data(p)
    for d in duties:
        d.status = "retired"
        d.version += 1
    p.active = False
    p.version += 1
    p.valid_from = max(today, p.valid_from or today)
    p.updated_at = utcnow()
    uow.session.flush()
    _record_version(uow, actor, p)
    for d in duties:
        uow.publish("duty.retired", {"duty_id": d.id, "position_id": d.position_id, "version": d.version})
    uow.publish("position.updated", position_data(p))
    audit(uow, actor, "position.abolished", "position", p.id, before=record_before, after=position_data(p),
          code=p.code, version=p.version,
          retired_duties=[d.id for d in duties])
    return p


# -- duties ---------------------------------------------------------------------------------------

def publish_duty(uow: UnitOfWork, position_id: str, description: str, output_unit: str, norma_waktu: int,
                 yearly_volume: int | None = None, actor: str | None = None) -> Duty:
    p = _position(uow, position_id)
    if not p.active:
        raise Conflict("position_abolished", Text("Jabatan sudah dihapus", "The position has been abolished"))
    domain.check_duty(norma_waktu, description, output_unit, yearly_volume)
    key = domain.duty_key(description)
    existing = uow.session.scalars(select(Duty.description).where(Duty.position_id == p.id, Duty.status == "published"))
    if any(domain.duty_key(x) == key for x in existing):
        raise Conflict("duplicate_duty", Text("Uraian tugas yang sama sudah ada pada jabatan ini",
                                              "The same duty already exists for this position"),
                       {"description": Text("Sudah ada", "Already exists")})
    d = Duty(position_id=position_id, description=description.strip(), output_unit=output_unit.strip(),
             norma_waktu=norma_waktu, status="published", version=1, yearly_volume=yearly_volume)
    uow.session.add(d)
    uow.session.flush()
    uow.publish("duty.published", duty_data(d))
    audit(uow, actor, "duty.published", "duty", d.id, after=duty_data(d), **duty_data(d))
    return d


def set_yearly_volume(uow: UnitOfWork, duty_id: str, yearly_volume: int | None, actor: str | None = None) -> Duty:
    """The yearly volume feeds the workload analysis only. The duty is still sent again
    (duty.published, higher version, same norma waktu) so that every copy stays complete. Its
    norma waktu never changes in place: credited minutes of past entries were computed with it,
    so a new norma waktu is a new duty (publish it, retire the old one)."""
    d = uow.session.get(Duty, duty_id, with_for_update=True)
    if d is None:
        raise NotFound(Text("Uraian tugas tidak ditemukan", "Duty not found"))
    if d.status != "published":
        raise Conflict("duty_retired", Text("Uraian tugas sudah tidak berlaku", "The duty has been retired"))
    domain.check_duty(d.norma_waktu, d.description, d.output_unit, yearly_volume)
    if d.yearly_volume == yearly_volume:
        return d
    before = duty_data(d)
    d.yearly_volume = yearly_volume
    d.version += 1
    uow.session.flush()
    uow.publish("duty.published", duty_data(d))
    audit(uow, actor, "duty.volume_changed", "duty", d.id, before=before, after=duty_data(d), version=d.version)
    return d


def retire_duty(uow: UnitOfWork, duty_id: str, actor: str | None = None) -> Duty:
    d = uow.session.get(Duty, duty_id, with_for_update=True)
    if d is None:
        raise NotFound(Text("Uraian tugas tidak ditemukan", "Duty not found"))
    if d.status == "retired":
        return d
    before = duty_data(d)
    d.status = "retired"
    d.version += 1
    uow.session.flush()
    uow.publish("duty.retired", {"duty_id": d.id, "position_id": d.position_id, "version": d.version})
    audit(uow, actor, "duty.retired", "duty", d.id, before=before, after={**duty_data(d), "status": "retired"},
          version=d.version)
    return d


# -- ABK policy -----------------------------------------------------------------------------------

def effective_minutes(session, year: int) -> tuple[int, bool]:
    """(effective minutes per year, whether it is the default rather than a stored policy)."""
    stored = session.get(AbkPolicy, year)
    if stored is None:
        return domain.DEFAULT_EFFECTIVE_MINUTES_PER_YEAR, True
    return stored.effective_minutes_per_year, False


def set_abk_policy(uow: UnitOfWork, year: int, minutes: int, actor: str | None = None) -> AbkPolicy:
    domain.check_effective_minutes(minutes)
    row = uow.session.get(AbkPolicy, year, with_for_update=True)
    before = row.effective_minutes_per_year if row else None
    if row is None:
        row = AbkPolicy(year=year)
        uow.session.add(row)
    row.effective_minutes_per_year = minutes
    row.updated_at = utcnow()
    row.updated_by = actor
    uow.session.flush()
    audit(uow, actor, "abk_policy.changed", "abk_policy", str(year),
          before=None if before is None else {"effective_minutes_per_year": before},
          after={"effective_minutes_per_year": minutes})
    return row
