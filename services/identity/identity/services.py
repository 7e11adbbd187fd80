"""Service layer of the personnel records and accounts: each function is one use case, run inside
a unit of work, and publishes the events its change causes and writes its audit record in the
same transaction."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import Conflict, DomainError, NotFound, Text, ValidationFailed
from ekinerja_common.uow import UnitOfWork

from . import domain, passwords
from .orm import Account, AccountRole, AuditRecord, Employee, Placement, PositionRef, RefreshToken

EMPLOYEE_FIELDS = ("name", "status", "golongan", "bank_account", "npwp", "active")



def employee_data(e: Employee) -> dict:
    return {"employee_id": e.id, "nip": e.nip, "name": e.name, "employee_kind": e.employee_kind,
            "status": e.status, "golongan": e.golongan, "bank_account": e.bank_account, "active": e.active,
            "version": e.version}


def placement_data(p: Placement) -> dict:
    return {"placement_id": p.id, "employee_id": p.employee_id, "position_id": p.position_id,
            "start_date": p.start_date.isoformat(), "end_date": p.end_date.isoformat() if p.end_date else None,
            "kind": p.kind, "version": p.version}


def audit(uow: UnitOfWork, actor: str | None, action: str, object_type: str, object_id: str, **details: Any) -> None:
    uow.session.add(AuditRecord(at=utcnow(), actor_account_id=actor, action=action, object_type=object_type,
                                object_id=object_id, details=details))


def revoke_sessions(uow: UnitOfWork, account_id: str, now: datetime) -> None:
    """End every login of an account: its live refresh tokens stop working."""
    uow.session.execute(update(RefreshToken)
                        .where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
                        .values(revoked_at=now))


def _employee(uow: UnitOfWork, employee_id: str, lock: bool = False) -> Employee:
    e = uow.session.get(Employee, employee_id, with_for_update=lock)
    if e is None:
        raise NotFound(Text("Pegawai tidak ditemukan", "Employee not found"))
    return e


def _flush_unique(uow: UnitOfWork, conflict: Conflict) -> None:
    # The check before the insert answers the usual case; this answers two requests racing past it.
    try:
        uow.session.flush()
    except IntegrityError:
        raise conflict from None


# -- employees ------------------------------------------------------------------------------------

def register_employee(uow: UnitOfWork, actor: str | None, *, nip: str, name: str, employee_kind: str, status: str,
                      golongan: str, bank_account: str | None, npwp: str | None, today: date) -> Employee:
    facts = domain.check_personnel(nip=nip, name=name, employee_kind=employee_kind, status=status, golongan=golongan,
                                   bank_account=bank_account, npwp=npwp, today=today)
    duplicate = Conflict("duplicate_nip", Text("NIP sudah terdaftar", "NIP already registered"),
                         {"nip": Text("NIP sudah terdaftar", "NIP already registered")})
    if uow.session.scalar(select(Employee.id).where(Employee.nip == facts.nip)):
        raise duplicate
    e = Employee(nip=facts.nip, name=facts.name, employee_kind=facts.employee_kind, status=facts.status,
                 golongan=facts.golongan, bank_account=facts.bank_account, npwp=facts.npwp, active=True, version=1)
    uow.session.add(e)
    _flush_unique(uow, duplicate)
    uow.publish("employee.registered", employee_data(e))
    audit(uow, actor, "employee.registered", "employee", e.id, **employee_data(e))
    return e


def update_employee(uow: UnitOfWork, actor: str | None, employee_id: str, changes: dict[str, Any], today: date) -> Employee:
    """Change the mutable part of a record (not NIP or kind: those are a new appointment)."""
    e = _employee(uow, employee_id, lock=True)
    before = {f: getattr(e, f) for f in EMPLOYEE_FIELDS}
    wanted = {**before, **{k: v for k, v in changes.items() if k in EMPLOYEE_FIELDS}}
    facts = domain.check_personnel(nip=e.nip, name=wanted["name"], employee_kind=e.employee_kind,
                                   status=wanted["status"], golongan=wanted["golongan"],
                                   bank_account=wanted["bank_account"], npwp=wanted["npwp"], today=today)
    after = {"name": facts.name, "status": facts.status, "golongan": facts.golongan,
             "bank_account": facts.bank_account, "npwp": facts.npwp, "active": bool(wanted["active"])}
    changed = {f: [before[f], after[f]] for f in EMPLOYEE_FIELDS if before[f] != after[f]}
    if not changed:
        return e
    for f, (_, new) in changed.items():
        setattr(e, f, new)
    e.version += 1
    e.updated_at = utcnow()
    if "active" in changed and not e.active:
        account_id = uow.session.scalar(select(Account.id).where(Account.employee_id == e.id))
        if account_id:
            revoke_sessions(uow, account_id, utcnow())
    uow.session.flush()
    uow.publish("employee.updated", employee_data(e))
    audit(uow, actor, "employee.updated", "employee", e.id, changed=changed, version=e.version)
    return e


def place_employee(uow: UnitOfWork, actor: str | None, employee_id: str, *, position_id: str, start_date: date,
                   end_date: date | None, kind: str) -> Placement:
    # The employee row lock serializes placements of one person: two transfers at once must not
    # both end the same open placement.
    e = _employee(uow, employee_id, lock=True)
    if not e.active:
        raise Conflict("inactive_employee", Text("Pegawai tidak aktif tidak dapat ditempatkan",
                                                 "An inactive employee cannot be placed"))
    position = uow.session.get(PositionRef, position_id)
    if position is None:
        raise DomainError("unknown_position", Text("Jabatan tidak dikenal (belum diterima dari Bagian Organisasi)",
                                                   "Unknown position (not yet received from organization)"),
                          {"position_id": Text("Jabatan tidak dikenal", "Unknown position")})
    if not position.active:
        raise DomainError("abolished_position", Text("Jabatan ini sudah dihapus oleh Bagian Organisasi",
                                                     "This position has been abolished by organization"),
                          {"position_id": Text("Jabatan sudah dihapus", "Position abolished")})
    history = uow.session.scalars(select(Placement).where(Placement.employee_id == e.id)).all()
    spans = [domain.Span(p.id, p.position_id, p.kind, p.start_date, p.end_date) for p in history]
    ends = domain.plan_placement(spans, position_id, kind, start_date, end_date)
    for p in history:
        if p.id in ends:
            p.end_date = ends[p.id]
            p.version += 1
            uow.session.flush()
            uow.publish("employee.placed", placement_data(p))
            audit(uow, actor, "placement.ended", "placement", p.id, **placement_data(p))
    placement = Placement(employee_id=e.id, position_id=position_id, start_date=start_date, end_date=end_date,
                          kind=kind, version=1)
    uow.session.add(placement)
    uow.session.flush()
    uow.publish("employee.placed", placement_data(placement))
    audit(uow, actor, "employee.placed", "placement", placement.id, **placement_data(placement))
    return placement


def end_placement(uow: UnitOfWork, actor: str | None, placement_id: str, end_date: date | None) -> Placement:
    """Set (or change, or clear) a placement's last day. The placement keeps its id and is sent
    again as employee.placed with a higher version, so every read model replaces its copy."""
    found = uow.session.get(Placement, placement_id)
    if found is None:
        raise NotFound(Text("Penempatan tidak ditemukan", "Placement not found"))
    # Same lock as place_employee: one employee's placements change one request at a time.
    _employee(uow, found.employee_id, lock=True)
    history = uow.session.scalars(select(Placement).where(Placement.employee_id == found.employee_id)).all()
    placement = next(p for p in history if p.id == placement_id)
    if placement.end_date == end_date:
        return placement
    spans = [domain.Span(p.id, p.position_id, p.kind, p.start_date, p.end_date) for p in history]
    domain.plan_end(spans, placement.id, end_date)
    before = placement.end_date
    placement.end_date = end_date
    placement.version += 1
    uow.session.flush()
    uow.publish("employee.placed", placement_data(placement))
    audit(uow, actor, "placement.ended", "placement", placement.id, **placement_data(placement),
          previous_end_date=before.isoformat() if before else None)
    return placement


# -- accounts -------------------------------------------------------------------------------------

def create_account(uow: UnitOfWork, actor: str | None, *, username: str, password: str | None, employee_id: str | None,
                   roles: list[str], must_change_password: bool = True) -> tuple[Account, str | None]:
    """An account made by an administrator starts with a password only they and the user know,
    so by default the user must replace it at first login. Without a password one is generated;
    it is returned (the second value) to be handed over once, and never stored in clear."""
    username = domain.normalize_username(username)
    generated = None
    if password is None:
        password = generated = _one_time_password(username)
    checked = domain.check_new_account(username, password, roles, employee_id is not None)
    if employee_id is not None:
        employee = uow.session.get(Employee, employee_id)
        if employee is None:
            raise ValidationFailed({"employee_id": Text("Pegawai tidak ditemukan", "Unknown employee")})
        if not employee.active:
            raise ValidationFailed({"employee_id": Text("Pegawai tidak aktif", "The employee is inactive")})
        if uow.session.scalar(select(Account.id).where(Account.employee_id == employee_id)):
            raise Conflict("employee_has_account", Text("Pegawai ini sudah memiliki akun", "This employee already has an account"),
                           {"employee_id": Text("Sudah memiliki akun", "Already has an account")})
    duplicate = Conflict("duplicate_username", Text("Nama pengguna sudah dipakai", "Username already taken"),
                         {"username": Text("Sudah dipakai", "Already taken")})
    if uow.session.scalar(select(Account.id).where(Account.username == username)):
        raise duplicate
    account = Account(username=username, password_hash=passwords.hash_password(password), employee_id=employee_id,
                      must_change_password=must_change_password, failed_logins=0, active=True,
                      role_rows=[AccountRole(role=r) for r in checked])
    uow.session.add(account)
    _flush_unique(uow, duplicate)
    audit(uow, actor, "account.created", "account", account.id, username=username, employee_id=employee_id, roles=checked,
          **({"password_generated": True} if generated else {}))
    return account, generated


def _one_time_password(username: str) -> str:
    while True:  # a random 14-character password containing the username is next to impossible
        password = passwords.one_time_password()
        if domain.password_problem(password, username) is None:
            return password


def reset_password(uow: UnitOfWork, actor: str | None, account_id: str, now: datetime) -> tuple[Account, str]:
    """An administrator gives a user who forgot their password a new one-time password: every
    session of the account ends, a lock from failed attempts is lifted, and the user must choose
    their own password at the next login. Returns the password, to be shown once."""
    account = uow.session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise NotFound(Text("Akun tidak ditemukan", "Account not found"))
    password = _one_time_password(account.username)
    account.password_hash = passwords.hash_password(password)
    account.must_change_password = True
    account.failed_logins = 0
    account.locked_until = None
    revoke_sessions(uow, account.id, now)
    audit(uow, actor, "account.password_reset", "account", account.id)
    return account, password


def set_roles(uow: UnitOfWork, actor: str | None, account_id: str, roles: list[str]) -> Account:
    """Replace an account's roles. They reach the user's tokens at the next login or refresh."""
    account = uow.session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise NotFound(Text("Akun tidak ditemukan", "Account not found"))
    before = account.roles
    after = domain.check_roles(roles, account.employee_id is not None)
    if actor == account.id and "admin_bkd" in before and "admin_bkd" not in after:
        # Otherwise the last administrator could lock everyone out of personnel management.
        raise Conflict("own_admin_role", Text("Anda tidak dapat mencabut peran admin_bkd Anda sendiri",
                                              "You cannot remove your own admin_bkd role"),
                       {"roles": Text("Peran admin_bkd Anda sendiri", "Your own admin_bkd role")})
    if before == after:
        return account
    account.role_rows = [r for r in account.role_rows if r.role in after]
    account.role_rows.extend(AccountRole(role=r) for r in after if r not in before)
    uow.session.flush()
    audit(uow, actor, "account.roles_changed", "account", account.id, before=before, after=after)
    return account
