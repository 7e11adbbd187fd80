"""HTTP entry point of the identity service: parse, authorize, call the service layer, map results
to JSON. Personnel and account management need ``admin_bkd``; an employee may read their own
record. Identity verifies its own access tokens from its own key table, never over HTTP."""
from __future__ import annotations

from datetime import date
from typing import Literal

from flask import Blueprint, current_app, g, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ekinerja_common.auth import ROLES, CallableKeySource, Principal, TokenVerifier
from ekinerja_common.config import Settings
from ekinerja_common.envelope import utcnow
from ekinerja_common import idempotency
from ekinerja_common import paging, preview
from ekinerja_common.errors import DomainError, FieldErrors, Forbidden, NotFound, Text, Unauthorized, ValidationFailed
from ekinerja_common.runtime import Runtime
from ekinerja_common.web import accepts, allows_password_change, create_base_app, principal, public, validation_error
from ekinerja_common import clock

from . import cookies, directory, domain, grants, imports, people, services, sessions, throttle
from .keys import KeyStore
from .orm import Account, AccountRole, AttemptCounter, Employee, Placement, PositionRef, RoleGrant
from .runtime import build_runtime
from .tokens import Issuer

bp = Blueprint("identity", __name__)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Secret(BaseModel):
    """Bodies carrying a password: never strip it, a space is a character like any other."""

    model_config = ConfigDict(extra="forbid")


class LoginIn(Secret):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)
    # The browser client: keep the refresh token in an HttpOnly cookie, not in the answer (cookies.py).
    refresh_cookie: bool = Field(default=False, strict=True)


class RefreshIn(Secret):
    refresh_token: str = Field(min_length=1, max_length=200)


class CookieRefreshIn(Secret):
    # Absent: the refresh cookie (the browser client) is used.
    refresh_token: str | None = Field(default=None, min_length=1, max_length=200)


class PasswordIn(Secret):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=1, max_length=1000)


class EmployeeIn(Strict):
    nip: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    employee_kind: Literal["PNS", "PPPK"]
    status: Literal["CPNS", "PNS", "PPPK"]
    golongan: str = Field(min_length=1, max_length=10)
    bank_account: str | None = Field(default=None, max_length=40)
    npwp: str | None = Field(default=None, max_length=40)


class EmployeePatch(Strict):
    """Only the fields sent change. ``null`` clears a field that may be empty (bank account,
    NPWP); for any other field it is an error (422, every such field listed), never "leave as
    is" or "false". The defaults below only stand for "not sent": pydantic does not validate
    them, but it does validate an explicit null against the type, which has no None."""

    name: str = Field(default=None, min_length=1, max_length=200)  # type: ignore[assignment]
    status: Literal["CPNS", "PNS", "PPPK"] = None  # type: ignore[assignment]
    golongan: str = Field(default=None, min_length=1, max_length=10)  # type: ignore[assignment]
    bank_account: str | None = Field(default=None, max_length=40)
    npwp: str | None = Field(default=None, max_length=40)
    active: bool = None  # type: ignore[assignment]


class PlacementIn(Strict):
    position_id: str = Field(min_length=1, max_length=36)
    start_date: date
    end_date: date | None = None
    kind: Literal["definitive", "plt"]


class PlacementEndIn(Strict):
    end_date: date


class PlacementPatch(Strict):
    # Null opens the placement again (an end date entered by mistake).
    end_date: date | None


class AccountIn(Secret):
    username: str = Field(min_length=1, max_length=100)
    # Omitted: identity generates a one-time password and returns it once.
    password: str | None = Field(default=None, min_length=1, max_length=1000)
    employee_id: str | None = Field(default=None, max_length=36)
    roles: list[str] = Field(default_factory=list, max_length=10)


class AccountsImportIn(Strict):
    nips: list[str] = Field(min_length=1, max_length=services.ACCOUNT_IMPORT_MAX)


class RolesIn(Strict):
    roles: list[str] = Field(max_length=10)


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def issuer() -> Issuer:
    return current_app.extensions["issuer"]


def admin() -> Principal:
    p = principal()
    p.require("admin_bkd")
    return p


@bp.before_request
def _authenticated_first():
    """Every endpoint not marked public verifies the token before anything else. An account still
    on its one-time password is refused (403 password_change_required) everywhere but at POST
    /auth/password: the common web base does that for every service."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "_public", False):
        return
    principal()


def client_address() -> str:
    """The caller's address as the gateway saw it (X-Real-IP, which nginx sets and a client cannot,
    because identity is reachable only through the gateway), else the socket's peer."""
    return (request.headers.get("X-Real-IP") or request.remote_addr or "")[:45]


def account_json(a: Account, e: Employee | None) -> dict:
    return {"id": a.id, "username": a.username, "employee_id": a.employee_id,
            "name": e.name if e else a.username, "roles": a.roles, "must_change_password": a.must_change_password}


# Who reads bank account numbers and NPWP: BKD, which keeps them, and BPKAD, which pays to them
# (besides the employee themself). A supervisor reads the rest of a subordinate's record only.
MONEY_READERS = ("admin_bkd", "bpkad")


def shows_money(p: Principal | None, e: Employee) -> bool:
    return p is None or p.has(*MONEY_READERS) or (p.employee_id is not None and p.employee_id == e.id)


def employee_json(e: Employee, reader: Principal | None = None) -> dict:
    """The record for ``reader`` (None: an administrator's own write): ``bank_account`` and
    ``npwp`` only for MONEY_READERS and the employee themself."""
    body = {"id": e.id, "nip": e.nip, "nip_formatted": domain.format_nip(e.nip), "name": e.name,
            "employee_kind": e.employee_kind, "status": e.status, "golongan": e.golongan,
            "bank_account": e.bank_account, "npwp": e.npwp, "active": e.active, "version": e.version}
    if not shows_money(reader, e):
        del body["bank_account"], body["npwp"]
    return body


def placement_json(p: Placement, position: PositionRef | None = None) -> dict:
    return {"id": p.id, "employee_id": p.employee_id, "position_id": p.position_id,
            "position_code": position.code if position else None, "position_name": position.name if position else None,
            "start_date": p.start_date.isoformat(), "end_date": p.end_date.isoformat() if p.end_date else None,
            "kind": p.kind, "version": p.version}


def employee_with_placements(s: Session, e: Employee, reader: Principal | None = None) -> dict:
    rows = s.execute(select(Placement, PositionRef).outerjoin(PositionRef, PositionRef.position_id == Placement.position_id)
                     .where(Placement.employee_id == e.id).order_by(Placement.start_date, Placement.kind)).all()
    return {**employee_json(e, reader), "placements": [placement_json(p, pos) for p, pos in rows]}


def tokens_json(t: sessions.Tokens, cookie: bool = False):
    body = {"access_token": t.access_token, "refresh_token": t.refresh_token, "token_type": "Bearer",
            "expires_in": t.expires_in, "account": account_json(t.account, t.employee)}
    if not cookie:
        return body, 200, {"Cache-Control": "no-store"}
    del body["refresh_token"]  # it lives in the HttpOnly cookie only
    resp = current_app.make_response((body, 200, {"Cache-Control": "no-store"}))
    return cookies.set_on(resp, t.refresh_token, int(issuer().refresh_ttl.total_seconds()))


# -- sessions -------------------------------------------------------------------------------------

@bp.post("/auth/login")
@public
@accepts(LoginIn)
def login(body: LoginIn):
    """Log in with username and password; returns an access token and a refresh token. Failed
    attempts slow further ones per username + address, username and address (429
    too_many_attempts with Retry-After; README), the same for a username that does not exist."""
    with runtime().uow(g.request_id) as uow:
        tokens = sessions.login(uow, issuer(), body.username, body.password, utcnow(), client_address())
        uow.commit()
    return tokens_json(tokens, cookie=body.refresh_cookie)


@bp.post("/auth/refresh")
@public
@accepts(CookieRefreshIn)
def refresh(body: CookieRefreshIn):
    """Trade a refresh token (in the body, or the browser's refresh cookie) for new tokens; the
    presented one is spent. Presenting a spent token again ends the whole session (reuse
    detection). A cookie is answered with a new cookie, a body token with a body token."""
    token, cookie = body.refresh_token, False
    if token is None:
        token, cookie = cookies.presented(), True
        cookies.clear_when_refused()
    if token is None:
        raise sessions.invalid_refresh()
    with runtime().uow(g.request_id) as uow:
        tokens = sessions.refresh(uow, issuer(), token, utcnow())
        uow.commit()
    return tokens_json(tokens, cookie=cookie)


@bp.delete("/auth/refresh")
@public
def end_cookie_session():
    """Log out the browser: end the session of the refresh cookie and remove the cookie."""
    token = cookies.presented()
    if token is not None:
        with runtime().uow(g.request_id) as uow:
            sessions.logout(uow, token, utcnow())
            uow.commit()
    return cookies.clear_on(current_app.make_response(("", 204)))


@bp.post("/auth/logout")
@public
@accepts(RefreshIn)
def logout(body: RefreshIn):
    """End the session of this refresh token (access tokens already issued expire on their own)."""
    with runtime().uow(g.request_id) as uow:
        sessions.logout(uow, body.refresh_token, utcnow())
        uow.commit()
    return "", 204


@bp.post("/auth/password")
@allows_password_change
@accepts(PasswordIn)
def change_password(body: PasswordIn):
    """Change one's own password; every session of the account ends, log in again. Wrong current
    passwords slow further changes (429 too_many_attempts), never logins."""
    p = principal()
    with runtime().uow(g.request_id) as uow:
        sessions.change_password(uow, p.account_id, body.current_password, body.new_password, utcnow(), client_address())
        uow.commit()
    return "", 204


@bp.get("/.well-known/jwks.json")
@public
def jwks():
    """The public keys that verify access tokens (Ed25519, JWK set)."""
    return current_app.extensions["keys"].jwks(), 200, {"Cache-Control": "public, max-age=300"}


@bp.get("/me")
def me():
    """The caller's account and, for an employee, their personnel record with placements."""
    p = principal()
    with runtime().session_factory() as s:
        account = s.get(Account, p.account_id)
        if account is None or not account.active:
            raise Unauthorized()
        e = s.get(Employee, account.employee_id) if account.employee_id else None
        return {"account": account_json(account, e), "employee": employee_with_placements(s, e, p) if e else None}


# -- employees ------------------------------------------------------------------------------------

@bp.post("/employees")
@accepts(EmployeeIn)
def create_employee(body: EmployeeIn):
    """Register an employee (role admin_bkd); the NIP is checked part by part. Publishes
    employee.registered."""
    p = admin()
    with runtime().uow(g.request_id) as uow:
        e = services.register_employee(uow, p.account_id, **body.model_dump(), today=clock.today())
        uow.commit()
    return employee_json(e), 201


def _may_read(s: Session, p: Principal, employee_id: str) -> bool:
    """admin_bkd reads everyone; an employee reads themself and the people they supervise
    today (an acting head included, for the post they act in)."""
    if p.has("admin_bkd") or (p.employee_id is not None and p.employee_id == employee_id):
        return True
    return p.employee_id is not None and employee_id in people.subordinate_ids(s, p.employee_id, clock.today())


@bp.get("/employees")
def list_employees():
    """Employees, paged (``limit``, ``cursor`` or ``page``; answer ``{items, total, next_cursor}``),
    sorted by name, each with ``current_position`` today. Filters: ``q`` (part of the name or
    NIP), ``nip`` (its start), ``unit_id`` (repeatable: placed today in a post of one of them),
    ``status`` (CPNS/PNS/PPPK), ``active`` (true/false). admin_bkd sees every employee; anyone
    else only their own record and those of the people they supervise today."""
    p = principal()
    problems = FieldErrors()
    req = paging.page_request(request.args, errors=problems)
    filters = directory.filters_from(request.args, request.args.getlist("unit_id"), problems)
    problems.raise_if_any()
    today = clock.today()
    with runtime().session_factory() as s:
        visible = None
        if not p.has("admin_bkd"):
            visible = ({p.employee_id} | people.subordinate_ids(s, p.employee_id, today)) if p.employee_id else set()
        page = paging.paginate(s, directory.employee_query(filters, today, visible),
                               [paging.SortKey(Employee.name), paging.SortKey(Employee.id)], req)
        posts = directory.posts_today(s, [e.id for e in page.items], today)
        return page.as_json(lambda e: {**employee_json(e, p), "current_position": posts.get(e.id)})


@bp.get("/employees/<employee_id>")
def get_employee(employee_id: str):
    """One employee with placement history (admin_bkd, the employee themself, or their
    supervisor today)."""
    p = principal()
    with runtime().session_factory() as s:
        # Checked before the lookup, so a stranger learns nothing, not even whether the id exists.
        if not _may_read(s, p, employee_id):
            raise Forbidden()
        e = s.get(Employee, employee_id)
        if e is None:
            raise NotFound(Text("Pegawai tidak ditemukan", "Employee not found"))
        return employee_with_placements(s, e, p)


@bp.get("/employees/<employee_id>/supervisor")
def get_supervisor(employee_id: str):
    """The employee's supervisor (atasan langsung) on ``?date=YYYY-MM-DD`` (default today):
    the holder of the parent post, or its Plt when it is vacant; vacant posts without a Plt are
    skipped upwards. Same readers as GET /employees/{id}."""
    p = principal()
    raw = request.args.get("date")
    try:
        day = date.fromisoformat(raw) if raw else clock.today()
    except ValueError:
        raise ValidationFailed({"date": Text("Harus berupa tanggal (YYYY-MM-DD)", "Must be a date (YYYY-MM-DD)")}) from None
    with runtime().session_factory() as s:
        if not _may_read(s, p, employee_id):
            raise Forbidden()
        if s.get(Employee, employee_id) is None:
            raise NotFound(Text("Pegawai tidak ditemukan", "Employee not found"))
        found = people.supervisor(s, employee_id, day)
        boss = s.get(Employee, found.supervisor_id) if found else None
        return {"employee_id": employee_id, "date": day.isoformat(),
                "supervisor": {"id": boss.id, "nip": boss.nip, "name": boss.name} if boss else None,
                "position_id": found.position_id if found else None, "acting": found.acting if found else False}


@bp.patch("/employees/<employee_id>")
@accepts(EmployeePatch)
def update_employee(employee_id: str, body: EmployeePatch):
    """Change name, status, golongan, bank account, NPWP or active (role admin_bkd). Publishes
    employee.updated with a new version."""
    p = admin()
    with runtime().uow(g.request_id) as uow:
        e = services.update_employee(uow, p.account_id, employee_id, body.model_dump(exclude_unset=True),
                                     clock.today())
        uow.commit()
    return employee_json(e)


@bp.post("/employees/<employee_id>/placements")
@accepts(PlacementIn)
def place_employee(employee_id: str, body: PlacementIn):
    """Place an employee in a position from a date (role admin_bkd). A new definitive placement
    ends the previous one the day before. 422 unknown_position until organization's
    position.created has reached identity. Publishes employee.placed."""
    p = admin()
    with runtime().uow(g.request_id) as uow:
        placement = services.place_employee(uow, p.account_id, employee_id, **body.model_dump())
        uow.commit()
        position = uow.session.get(PositionRef, placement.position_id)
        return placement_json(placement, position), 201


@bp.post("/placements/<placement_id>/end")
@accepts(PlacementEndIn)
def end_placement(placement_id: str, body: PlacementEndIn):
    """End a placement on ``end_date`` (its last day; role admin_bkd). Publishes employee.placed
    again with the end date and a higher version."""
    p = admin()
    with runtime().uow(g.request_id) as uow:
        placement = services.end_placement(uow, p.account_id, placement_id, body.end_date)
        uow.commit()
        return placement_json(placement, uow.session.get(PositionRef, placement.position_id))


@bp.patch("/placements/<placement_id>")
@accepts(PlacementPatch)
def change_placement(placement_id: str, body: PlacementPatch):
    """Change a placement's end date, or clear it (role admin_bkd): extend a Plt, correct a
    mistake. Overlaps are refused as for a new placement. Publishes employee.placed."""
    p = admin()
    with runtime().uow(g.request_id) as uow:
        placement = services.end_placement(uow, p.account_id, placement_id, body.end_date)
        uow.commit()
        return placement_json(placement, uow.session.get(PositionRef, placement.position_id))


# -- imports --------------------------------------------------------------------------------------

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


def partial_mode() -> bool:
    return request.args.get("partial", "").lower() in ("1", "true", "yes")


@bp.post("/employees/import")
@idempotency.idempotent
def import_employees():
    """Register many employees, each optionally with a first placement, from CSV or XLSX (role
    admin_bkd; format in the service README). All or nothing: any bad row and nothing is stored,
    422 import_invalid lists every problem with its line. ``?partial=true`` stores the good rows
    and lists the bad ones. ``?dry_run=true`` is the preview: everything checked and counted,
    nothing stored. Publishes employee.registered and employee.placed for each."""
    p = admin()
    data = uploaded_file()
    dry_run = preview.dry_run_requested(request.args)
    with runtime().uow(g.request_id) as uow:
        result = imports.import_employees(uow, p.account_id, data, partial=partial_mode(), today=clock.today())
        preview.finish(uow, dry_run)
    # A preview stored nothing: 200 with the counts the import would give, not 201.
    return ({**result.as_json(), "dry_run": True}, 200) if dry_run else (result.as_json(), 201)


@bp.post("/placements/import")
@idempotency.idempotent
def import_placements():
    """Place many registered employees (by NIP) in positions (by code) from CSV or XLSX (role
    admin_bkd). Rows apply in file order with the rules of a single placement. Same error
    reporting and ``?partial=true`` as the employee import. Publishes employee.placed."""
    p = admin()
    data = uploaded_file()
    dry_run = preview.dry_run_requested(request.args)
    with runtime().uow(g.request_id) as uow:
        result = imports.import_placements(uow, p.account_id, data, partial=partial_mode())
        preview.finish(uow, dry_run)
    # A preview stored nothing: 200 with the counts the import would give, not 201.
    return ({**result.as_json(), "dry_run": True}, 200) if dry_run else (result.as_json(), 201)


# -- accounts -------------------------------------------------------------------------------------

def grant_json(g_: RoleGrant, account: Account | None = None, may_approve: bool | None = None) -> dict:
    body = {"id": g_.id, "account_id": g_.account_id, "role": g_.role, "status": g_.status,
            "requested_by": g_.requested_by, "requested_at": g_.requested_at.isoformat(),
            "expires_at": g_.expires_at.isoformat(), "decided_by": g_.decided_by,
            "decided_at": g_.decided_at.isoformat() if g_.decided_at else None,
            "approver": grants.AGENCY[grants.APPROVER_ROLE[g_.role]]}
    if account is not None:
        body["username"] = account.username
    if may_approve is not None:
        body["may_approve"] = may_approve
    return body


@bp.get("/accounts")
def list_accounts():
    """Login accounts with their roles and state (role admin_bkd), paged by username (``limit``,
    ``cursor`` or ``page``; ``{items, total, next_cursor}``); ``q`` finds part of the username or
    the employee's name, ``role`` those holding a role. Never a password. ``locked``: logins with
    this username are being slowed right now (throttle); ``pending_roles``: roles asked for and
    waiting for their second person."""
    admin()
    problems = FieldErrors()
    req = paging.page_request(request.args, errors=problems)
    q = (request.args.get("q") or "").strip().lower()
    role = request.args.get("role") or None
    if role is not None and role not in ROLES:
        problems.add("role", "Peran tidak dikenal", "Unknown role")
    problems.raise_if_any()
    now = utcnow()
    stmt = select(Account, Employee).outerjoin(Employee, Employee.id == Account.employee_id)
    if q:
        stmt = stmt.where(or_(func.lower(Account.username).like(f"%{q}%"), func.lower(Employee.name).like(f"%{q}%")))
    if role:
        stmt = stmt.where(Account.id.in_(select(AccountRole.account_id).where(AccountRole.role == role)))
    with runtime().session_factory() as s:
        page = paging.paginate(s, stmt, [paging.SortKey(Account.username), paging.SortKey(Account.id)], req)
        names = [row[0].username for row in page.items]
        slowed = set(s.scalars(select(AttemptCounter.subject).where(
            AttemptCounter.subject.in_(names), AttemptCounter.blocked_until > now,
            AttemptCounter.scope.in_([throttle.LOGIN_USER.scope, throttle.LOGIN_USER_ADDRESS.scope]))))
        pending: dict[str, list[str]] = {}
        for g_ in services.pending_grants(s, None, now):
            pending.setdefault(g_.account_id, []).append(g_.role)
        return page.as_json(lambda row: {
            **account_json(row[0], row[1]), "active": row[0].active, "locked": row[0].username in slowed,
            "pending_roles": pending.get(row[0].id, [])})


@bp.post("/accounts")
@accepts(AccountIn)
def create_account(body: AccountIn):
    """Create a login account (role admin_bkd), optionally linked to an employee. Without a
    ``password`` a one-time password is generated and returned once as ``one_time_password``.
    Either way the user must replace it at first login. Roles other than ``pegawai`` wait for the
    second person (``pending_grants``; README "Roles and who grants them")."""
    p = admin()
    with runtime().uow(g.request_id) as uow:
        a, generated, pending = services.create_account(uow, p.account_id, **body.model_dump())
        uow.commit()
        e = uow.session.get(Employee, a.employee_id) if a.employee_id else None
        body_out = {**account_json(a, e), "active": a.active, "pending_grants": [grant_json(x) for x in pending]}
        if generated:
            body_out["one_time_password"] = generated
        return body_out, 201, {"Cache-Control": "no-store"}


@bp.post("/accounts/import")
@accepts(AccountsImportIn)
def import_accounts(body: AccountsImportIn):
    """Pegawai accounts for many employees at once (role admin_bkd): ``{"nips": [...]}``, at most
    500 per request, username = NIP, each with a one-time password returned once (one argon2 hash
    per account; the person replaces it at first login). All or nothing on an unknown, inactive or
    repeated NIP (``nips.<i>``); employees who already have an account are listed in ``existing``
    and left alone, so the same list may be sent again."""
    p = admin()
    with runtime().uow(g.request_id) as uow:
        created, skipped = services.import_accounts(uow, p.account_id, body.nips)
        uow.commit()
        out = {"created": [{"account_id": a.id, "username": a.username, "employee_id": a.employee_id,
                            "one_time_password": password} for a, password in created],
               "existing": skipped}
    return out, 201, {"Cache-Control": "no-store"}


@bp.post("/accounts/<account_id>/reset-password")
def reset_password(account_id: str):
    """Give an account a new one-time password (role admin_bkd, never one's own), returned once as
    ``one_time_password``. Every session of the account ends, its access tokens stop working in
    every service, login waits of its username are lifted, and the user must choose a new
    password at the next login."""
    p = admin()
    with runtime().uow(g.request_id) as uow:
        a, password = services.reset_password(uow, p.account_id, account_id, utcnow())
        uow.commit()
        e = uow.session.get(Employee, a.employee_id) if a.employee_id else None
        return ({**account_json(a, e), "active": a.active, "one_time_password": password}, 200,
                {"Cache-Control": "no-store"})


@bp.put("/accounts/<account_id>/roles")
@accepts(RolesIn)
def set_roles(account_id: str, body: RolesIn):
    """Make an account's roles the given list (role admin_bkd; never one's own account: 403
    own_roles). Roles left out are taken away at once and the account's tokens stop working in
    every service. Roles added wait for the agency that answers for them (``pending_grants``,
    202): BPKAD approves ``bpkad``, Bagian Organisasi ``organisasi``, a second admin_bkd
    ``admin_bkd`` and ``majelis``."""
    p = admin()
    with runtime().uow(g.request_id) as uow:
        a, pending = services.set_roles(uow, p.account_id, p.roles, account_id, body.roles, utcnow())
        uow.commit()
        e = uow.session.get(Employee, a.employee_id) if a.employee_id else None
        return ({**account_json(a, e), "active": a.active, "pending_grants": [grant_json(x) for x in pending]},
                202 if pending else 200)


@bp.get("/role-grants")
def list_role_grants():
    """Pending role requests the caller may decide: admin_bkd sees them all, BPKAD and Bagian
    Organisasi the requests for their own role; ``may_approve`` says whether the caller may
    approve this one (never a request for their own account or one they asked for)."""
    p = principal()
    if not p.has("admin_bkd", "bpkad", "organisasi"):
        raise Forbidden()
    with runtime().session_factory() as s:
        found = services.decidable_grants(s, grants.Approver(p.account_id, p.roles), utcnow())
        ids = {x.account_id for x, _ in found} | {x.requested_by for x, _ in found if x.requested_by}
        accounts = {a.id: a for a in s.scalars(select(Account).where(Account.id.in_(ids)))}
        people = {e.id: e for e in s.scalars(select(Employee).where(
            Employee.id.in_({a.employee_id for a in accounts.values() if a.employee_id})))}
        items = []
        for x, ok in found:
            body = grant_json(x, accounts.get(x.account_id), ok)
            # Names, so the person deciding sees who gets the role and who asked for it.
            account = accounts.get(x.account_id)
            person = people.get(account.employee_id) if account is not None and account.employee_id else None
            asker = accounts.get(x.requested_by)
            body["name"] = person.name if person is not None else None
            body["requested_by_username"] = asker.username if asker is not None else None
            body["requested_by_me"] = x.requested_by == p.account_id
            items.append(body)
        return {"items": items}


class GrantDecisionIn(Strict):
    # Optional: why a request was refused or withdrawn, kept in the audit trail.
    reason: str | None = Field(None, min_length=1, max_length=500)


def _decision_body() -> GrantDecisionIn:
    """The decision's optional body (a bare POST decides without a reason)."""
    raw = request.get_json(silent=True)
    try:
        return GrantDecisionIn.model_validate(raw if isinstance(raw, dict) else {})
    except ValidationError as exc:
        raise validation_error(exc)


def _decide(grant_id: str, approve: bool):
    p = principal()
    body = _decision_body()
    with runtime().uow(g.request_id) as uow:
        grant = services.decide_grant(uow, grants.Approver(p.account_id, p.roles), grant_id, approve, utcnow(),
                                      reason=body.reason)
        uow.commit()
        return grant_json(grant, uow.session.get(Account, grant.account_id))


@bp.post("/role-grants/<grant_id>/approve")
def approve_role_grant(grant_id: str):
    """Approve a pending role request: the role is added at once. Only the agency that answers
    for the role (or a second admin_bkd, README), never for one's own account, never the one who
    asked. Audited (account.role_granted)."""
    return _decide(grant_id, True)


@bp.post("/role-grants/<grant_id>/reject")
def reject_role_grant(grant_id: str):
    """Reject a pending role request (whoever may approve it), or withdraw it (the administrator
    who asked). Audited."""
    return _decide(grant_id, False)


class AccountVersions:
    """Identity's own revocation check: the token version is read from the account itself."""

    def __init__(self, rt: Runtime):
        self.rt = rt

    def min_version(self, account_id: str) -> int:
        with self.rt.session_factory() as s:
            row = s.execute(select(Account.token_version, Account.active).where(Account.id == account_id)).first()
        if row is None or not row.active:
            return 1 << 62  # no such account (any more): no token of it is good
        return row.token_version or 0


def create_app(settings: Settings | None = None, verifier: TokenVerifier | None = None):
    rt = build_runtime(settings)
    keys = KeyStore(rt)
    verifier = verifier or TokenVerifier(CallableKeySource(keys.public_key), rt.settings.jwt_issuer,
                                         rt.settings.jwt_audience, AccountVersions(rt))
    app = create_base_app("identity", verifier, rt.check_ready, "E-Kinerja identity (BKD personnel)",
                          "Employees (NIP, golongan, status, placements), accounts, roles, login and token keys.")
    app.extensions["runtime"] = rt
    app.extensions["keys"] = keys
    app.extensions["issuer"] = Issuer.from_settings(keys, rt.settings)
    app.register_blueprint(bp)
    return app
