"""Service layer of the personnel records and accounts: each function is one use case, run inside
a unit of work, and publishes the events its change causes and writes its audit record in the
same transaction."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ekinerja_common.envelope import utcnow
from ekinerja_common.events import AccountRevoked
from ekinerja_common.errors import Conflict, DomainError, Forbidden, NotFound, Text, ValidationFailed
from ekinerja_common.uow import UnitOfWork

from . import domain, grants, passwords
from .orm import Account, AccountRole, AttemptCounter, AuditRecord, Employee, Placement, PositionRef, RefreshToken, RoleGrant

EMPLOYEE_FIELDS = ("name", "status", "golongan", "bank_account", "npwp", "active")



def employee_record(e: Employee) -> dict:
    """The personnel record as the audit keeps it (NPWP included, unlike the events)."""
    return {**employee_data(e), "npwp": e.npwp}


def employee_data(e: Employee) -> dict:
    return {"employee_id": e.id, "nip": e.nip, "name": e.name, "employee_kind": e.employee_kind,
            "status": e.status, "golongan": e.golongan, "bank_account": e.bank_account, "active": e.active,
            "version": e.version}


def placement_data(p: Placement) -> dict:
    return {"placement_id": p.id, "employee_id": p.employee_id, "position_id": p.position_id,
            "start_date": p.start_date.isoformat(), "end_date": p.end_date.isoformat() if p.end_date else None,
            "kind": p.kind, "version": p.version}


def audit(uow: UnitOfWork, actor: str | None, action: str, object_type: str, object_id: str, *,
          before: dict | None = None, after: dict | None = None, **details: Any) -> None:
    """One audit record: who (``actor``, None for the system or the operator's command line), when,
    in which request (the gateway's request id), the record before and after, and what else
    explains the decision."""
    uow.session.add(AuditRecord(at=utcnow(), actor_account_id=actor, action=action, object_type=object_type,
                                object_id=object_id, details=details, request_id=uow.correlation_id,
                                before=before, after=after))


def revoke_tokens(uow: UnitOfWork, account: Account, reason: str, now: datetime) -> None:
    """Make every access token of the account issued until now worthless, in every service: a
    higher token version, announced as account.revoked (auth_store keeps it in each service)."""
    account.token_version = (account.token_version or 0) + 1
    uow.publish("account.revoked", AccountRevoked(account_id=account.id, token_version=account.token_version,
                                                  reason=reason, revoked_at=now))


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
    audit(uow, actor, "employee.registered", "employee", e.id, after=employee_record(e))
    return e


def update_employee(uow: UnitOfWork, actor: str | None, employee_id: str, changes: dict[str, Any], today: date) -> Employee:
    """Change the mutable part of a record (not NIP or kind: those are a new appointment)."""
    e = _employee(uow, employee_id, lock=True)
    record_before = employee_record(e)
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
        account = uow.session.scalar(select(Account).where(Account.employee_id == e.id).with_for_update())
        if account is not None:
            now = utcnow()
            revoke_sessions(uow, account.id, now)
            revoke_tokens(uow, account, "deactivated", now)
    uow.session.flush()
    uow.publish("employee.updated", employee_data(e))
    audit(uow, actor, "employee.updated", "employee", e.id, before=record_before, after=employee_record(e),
          changed=changed, version=e.version)
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
            before = placement_data(p)
            p.end_date = ends[p.id]
            p.version += 1
            uow.session.flush()
            uow.publish("employee.placed", placement_data(p))
            audit(uow, actor, "placement.ended", "placement", p.id, before=before, after=placement_data(p))
    placement = Placement(employee_id=e.id, position_id=position_id, start_date=start_date, end_date=end_date,
                          kind=kind, version=1)
    uow.session.add(placement)
    uow.session.flush()
    uow.publish("employee.placed", placement_data(placement))
    audit(uow, actor, "employee.placed", "placement", placement.id, after=placement_data(placement))
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
    before = placement_data(placement)
    placement.end_date = end_date
    placement.version += 1
    uow.session.flush()
    uow.publish("employee.placed", placement_data(placement))
    audit(uow, actor, "placement.ended", "placement", placement.id, before=before, after=placement_data(placement),
          previous_end_date=before["end_date"])
    return placement


# -- accounts -------------------------------------------------------------------------------------

def create_account(uow: UnitOfWork, actor: str | None, *, username: str, password: str | None, employee_id: str | None,
                   roles: list[str], must_change_password: bool = True) -> tuple[Account, str | None, list[RoleGrant]]:
    """An account made by an administrator starts with a password only they and the user know,
    so by default the user must replace it at first login. Without a password one is generated;
    it is returned (the second value) to be handed over once, and never stored in clear.

    Roles beyond ``pegawai`` asked for by an administrator (``actor``) wait for the second person
    (grants.py) and are returned as the third value; only the operator's command line
    (``actor`` None: create-admin) gives them at once."""
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
    now_roles = checked if actor is None else [r for r in checked if r not in grants.GRANTABLE]
    account = Account(username=username, password_hash=passwords.hash_password(password), employee_id=employee_id,
                      must_change_password=must_change_password, active=True, token_version=0,
                      role_rows=[AccountRole(role=r) for r in now_roles])
    uow.session.add(account)
    _flush_unique(uow, duplicate)
    audit(uow, actor, "account.created", "account", account.id, after=account_record(account),
          requested_roles=checked, **({"password_generated": True} if generated else {}))
    pending = [_request_grant(uow, actor, account, r, utcnow()) for r in checked if r not in now_roles]
    return account, generated, pending


ACCOUNT_IMPORT_MAX = 500  # one request stays well inside the worker timeout (one argon2 hash each)


def import_accounts(uow: UnitOfWork, actor: str, nips: list[str]) -> tuple[list[tuple[Account, str]], list[str]]:
    """A pegawai account (username = NIP) for each listed employee who has none yet, each with a
    generated one-time password (one hash per account; the person replaces it at first login).
    All or nothing: an unknown or inactive NIP, or one listed twice, refuses the whole list with
    every such line named (``nips.<i>``). NIPs whose employee already has an account are skipped
    and returned second, so a list can be sent again after a partial failure upstream."""
    wanted = [n.strip() for n in nips]
    employees = {e.nip: e for e in uow.session.scalars(select(Employee).where(Employee.nip.in_(set(wanted))))}
    problems: dict[str, Text] = {}
    seen: set[str] = set()
    for i, nip in enumerate(wanted):
        e = employees.get(nip)
        if nip in seen:
            problems[f"nips.{i}"] = Text("NIP tercantum dua kali", "NIP listed twice")
        elif e is None:
            problems[f"nips.{i}"] = Text("Pegawai dengan NIP ini tidak ditemukan", "No employee has this NIP")
        elif not e.active:
            problems[f"nips.{i}"] = Text("Pegawai tidak aktif", "The employee is inactive")
        seen.add(nip)
    if problems:
        raise ValidationFailed(problems)
    ids = [employees[n].id for n in wanted]
    taken = set(uow.session.scalars(select(Account.employee_id).where(Account.employee_id.in_(ids))))
    names_taken = set(uow.session.scalars(select(Account.username).where(Account.username.in_(wanted))))
    created, skipped = [], []
    for nip in wanted:
        e = employees[nip]
        if e.id in taken or nip in names_taken:
            skipped.append(nip)
            continue
        password = _one_time_password(nip)
        account = Account(username=domain.normalize_username(nip), password_hash=passwords.hash_password(password),
                          employee_id=e.id, must_change_password=True, active=True, token_version=0,
                          role_rows=[AccountRole(role="pegawai")])
        uow.session.add(account)
        created.append((account, password))
    _flush_unique(uow, Conflict("duplicate_username", Text("Nama pengguna sudah dipakai", "Username already taken")))
    for account, _ in created:
        audit(uow, actor, "account.created", "account", account.id, after=account_record(account),
              requested_roles=["pegawai"], password_generated=True, imported=True)
    return created, skipped


def account_record(a: Account) -> dict:
    """An account as the audit keeps it (never the password hash)."""
    return {"username": a.username, "employee_id": a.employee_id, "roles": a.roles, "active": a.active,
            "must_change_password": a.must_change_password, "token_version": a.token_version}


def _one_time_password(username: str) -> str:
    while True:  # a random 14-character password containing the username is next to impossible
        password = passwords.one_time_password()
        if domain.password_problem(password, username) is None:
            return password


def reset_password(uow: UnitOfWork, actor: str | None, account_id: str, now: datetime) -> tuple[Account, str]:
    """An administrator gives a user who forgot their password a new one-time password: every
    session of the account ends (its access tokens too, in every service), the login waits of
    its username are lifted, and the user must choose their own password at the next login.
    Returns the password, to be shown once."""
    account = uow.session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise NotFound(Text("Akun tidak ditemukan", "Account not found"))
    if actor == account.id:
        raise Forbidden(Text("Ganti kata sandi Anda sendiri lewat Ubah Kata Sandi", "Change your own password yourself"),
                        "own_account")
    before = account_record(account)
    password = _one_time_password(account.username)
    account.password_hash = passwords.hash_password(password)
    account.must_change_password = True
    uow.session.execute(delete(AttemptCounter).where(AttemptCounter.subject.in_([account.username, account.id])))
    revoke_sessions(uow, account.id, now)
    revoke_tokens(uow, account, "password_reset", now)
    audit(uow, actor, "account.password_reset", "account", account.id, before=before, after=account_record(account))
    return account, password


def _account(uow: UnitOfWork, account_id: str) -> Account:
    account = uow.session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise NotFound(Text("Akun tidak ditemukan", "Account not found"))
    return account


def set_roles(uow: UnitOfWork, actor: str, actor_roles: frozenset[str], account_id: str, roles: list[str],
              now: datetime) -> tuple[Account, list[RoleGrant]]:
    """Make an account's roles what ``roles`` says (grants.py): roles left out are taken away at
    once (its tokens stop working everywhere; a refresh gives the smaller token), roles added wait
    for the second person and are returned as pending grants."""
    problem = grants.change_problem(actor, actor_roles, account_id)
    if problem is not None:
        raise Forbidden(problem, "own_roles" if actor == account_id else "forbidden")
    account = _account(uow, account_id)
    before = account_record(account)
    wanted = domain.check_roles(roles, account.employee_id is not None)
    removed = [r for r in account.roles if r not in wanted]
    if removed:
        account.role_rows = [r for r in account.role_rows if r.role in wanted]
        uow.session.flush()
        revoke_tokens(uow, account, "roles_removed", now)
        audit(uow, actor, "account.roles_removed", "account", account.id, before=before, after=account_record(account),
              roles=removed)
    pending = {g.role: g for g in pending_grants(uow.session, account.id, now)}
    for role, g in pending.items():
        if role not in wanted:  # asked for earlier, no longer wanted
            _close(uow, g, actor, "cancelled", now)
    added = [r for r in wanted if r not in account.roles and r not in pending]
    fresh = [_request_grant(uow, actor, account, r, now) for r in added]
    return account, [g for r, g in pending.items() if r in wanted] + fresh


def pending_grants(session: Session, account_id: str | None, now: datetime) -> list[RoleGrant]:
    """Role requests still waiting for their second person (of one account, or all)."""
    q = select(RoleGrant).where(RoleGrant.status == "pending", RoleGrant.expires_at > now)
    if account_id is not None:
        q = q.where(RoleGrant.account_id == account_id)
    return list(session.scalars(q.order_by(RoleGrant.requested_at)))


def _request_grant(uow: UnitOfWork, actor: str | None, account: Account, role: str, now: datetime) -> RoleGrant:
    grant = RoleGrant(account_id=account.id, role=role, status="pending", requested_by=actor, requested_at=now,
                      expires_at=now + grants.REQUEST_LIFETIME)
    uow.session.add(grant)
    uow.session.flush()
    audit(uow, actor, "account.role_requested", "account", account.id, role=role, grant_id=grant.id,
          before=account_record(account), after=account_record(account))
    return grant


def _close(uow: UnitOfWork, grant: RoleGrant, actor: str | None, status: str, now: datetime,
           reason: str | None = None) -> None:
    grant.status, grant.decided_by, grant.decided_at = status, actor, now
    extra = {"reason": reason} if reason else {}
    audit(uow, actor, f"account.role_{status}", "account", grant.account_id, role=grant.role, grant_id=grant.id,
          requested_by=grant.requested_by, **extra)


def role_has_holders(session: Session, role: str, except_account: str) -> bool:
    """Does an active account other than ``except_account`` hold ``role`` today?"""
    return session.scalar(
        select(Account.id).join(AccountRole, AccountRole.account_id == Account.id)
        .outerjoin(Employee, Employee.id == Account.employee_id)
        .where(AccountRole.role == role, Account.active.is_(True), Account.id != except_account,
               or_(Employee.id.is_(None), Employee.active.is_(True))).limit(1)) is not None


def decidable_grants(session: Session, viewer: grants.Approver, now: datetime) -> list[tuple[RoleGrant, bool]]:
    """Pending grants the viewer may see, each with whether they may approve it: admin_bkd sees
    them all, an agency the grants of its own role."""
    out = []
    for g in pending_grants(session, None, now):
        holders = role_has_holders(session, g.role, g.account_id)
        if "admin_bkd" in viewer.roles or grants.may_decide(g.role, viewer.roles, holders):
            out.append((g, grants.approval_problem(g.role, viewer, g.requested_by, g.account_id, holders) is None))
    return out


def decide_grant(uow: UnitOfWork, approver: grants.Approver, grant_id: str, approve: bool, now: datetime,
                 reason: str | None = None) -> RoleGrant:
    """Approve (the role is added at once) or reject a pending grant. Rejecting is open to whoever
    may approve it and to the administrator who asked (withdrawing the request)."""
    grant = uow.session.get(RoleGrant, grant_id, with_for_update=True)
    if grant is None:
        raise NotFound(Text("Permintaan peran tidak ditemukan", "Role request not found"))
    if grant.status != "pending" or as_utc(grant.expires_at) <= now:
        raise Conflict("grant_closed", Text("Permintaan peran ini sudah diputuskan atau kedaluwarsa",
                                            "This role request was already decided or has expired"))
    account = _account(uow, grant.account_id)
    holders = role_has_holders(uow.session, grant.role, account.id)
    problem = grants.approval_problem(grant.role, approver, grant.requested_by, account.id, holders)
    if not approve and problem is not None and approver.account_id == grant.requested_by and approver.account_id != account.id:
        problem = None  # the one who asked may withdraw the request
    if problem is not None:
        raise Forbidden(problem, "own_roles" if approver.account_id == account.id else "approval_not_allowed")
    if not approve:
        _close(uow, grant, approver.account_id, "rejected", now, reason)
        return grant
    if not account.active:
        raise Conflict("account_inactive", Text("Akun tidak aktif", "The account is inactive"))
    before = account_record(account)
    _close(uow, grant, approver.account_id, "approved", now)
    account.role_rows.append(AccountRole(role=grant.role))
    uow.session.flush()
    audit(uow, approver.account_id, "account.role_granted", "account", account.id, before=before,
          after=account_record(account), role=grant.role, grant_id=grant.id, requested_by=grant.requested_by)
    return grant


def grant_by_operator(uow: UnitOfWork, username: str, role: str, now: datetime) -> Account:
    """``python -m identity grant-role``: whoever runs commands on the server already holds every
    key (like create-admin), so the command grants at once; audited with no actor."""
    account = uow.session.scalar(select(Account).where(Account.username == domain.normalize_username(username))
                                 .with_for_update())
    if account is None:
        raise NotFound(Text("Akun tidak ditemukan", "Account not found"))
    if role not in grants.GRANTABLE:
        raise ValidationFailed({"role": Text(f"Peran tidak dapat diberikan: {role}", f"Role cannot be granted: {role}")})
    if role in account.roles:
        return account
    before = account_record(account)
    for g in pending_grants(uow.session, account.id, now):
        if g.role == role:
            _close(uow, g, None, "approved", now)
    account.role_rows.append(AccountRole(role=role))
    uow.session.flush()
    audit(uow, None, "account.role_granted", "account", account.id, before=before, after=account_record(account),
          role=role, by="operator")
    return account


def as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones.
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
