"""HTTP entry point of BKD's entry rules (the yearly submission window), late-entry permissions
(izin pengisian susulan) and the month views across people (attendance per unit, who has entered
nothing). Everything here is ``admin_bkd`` except reading a year's rules (anyone logged in) and
one's own permissions (the employee)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, g, request
from pydantic import Field

from ekinerja_common import paging
from ekinerja_common.errors import FieldErrors, Text, ValidationFailed
from ekinerja_common.web import accepts, principal
from ekinerja_common import clock

from . import entry_policy, reports
from .http import Strict, bkd, current_policy, employee, query_month, runtime
from .orm import Employee, LateEntryPermission

bp = Blueprint("bkd", __name__)


class EntryPolicyIn(Strict):
    submission_window_days: int = Field(strict=True)
    reason: str | None = Field(default=None, max_length=1000)
    version: int | None = None  # the version read; another in between → 409 stale_version
    # read-only fields of GET, ignored when sent back
    year: int | None = None
    is_default: bool | None = None
    updated_at: str | None = None
    updated_by: str | None = None


class PermissionIn(Strict):
    employee_id: str | None = Field(default=None, max_length=36)
    unit_id: str | None = Field(default=None, max_length=36)
    start_date: date
    end_date: date
    valid_until: date | None = None  # default: a week from today
    reason: str = Field(min_length=1, max_length=2000)


class RevokeIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


def _year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise ValidationFailed({"year": Text("Tahun harus 2000 sampai 2100", "The year must be 2000 to 2100")})
    return year


# -- the yearly submission window ------------------------------------------------------------------

@bp.get("/entry-policies/<int:year>")
def get_entry_policy(year: int):
    """The year's entry rules: ``submission_window_days`` (an entry for day D is accepted until
    D + n), ``is_default`` until BKD stores the year."""
    principal()
    with runtime().session_factory() as s:
        return entry_policy.policy_json(s, _year(year), current_policy())


@bp.put("/entry-policies/<int:year>")
@accepts(EntryPolicyIn)
def put_entry_policy(year: int, body: EntryPolicyIn):
    """Set the year's submission window (admin_bkd), 0–60 days; audited with the reason;
    ``version`` (optional) guards against overwriting a change made meanwhile (409)."""
    who = bkd()
    _year(year)
    with runtime().uow(g.request_id) as uow:
        changed = entry_policy.put_policy(uow, year, body.submission_window_days, body.reason, who.account_id,
                                          body.version, current_policy())
        uow.commit()
    with runtime().session_factory() as s:
        return {**entry_policy.policy_json(s, year, current_policy()), "changed": changed}


@bp.get("/entry-policies/<int:year>/history")
def entry_policy_history(year: int):
    """Every stored version of the year's entry rules: value before and after, who, when, why."""
    bkd()
    with runtime().session_factory() as s:
        return {"year": year, "versions": [
            {"version": r.version, "submission_window_days": r.submission_window_days,
             "previous_window_days": r.previous_window_days, "reason": r.reason, "changed_by": r.changed_by,
             "changed_at": r.changed_at.isoformat()} for r in entry_policy.policy_history(s, _year(year))]}


# -- late-entry permissions ------------------------------------------------------------------------

@bp.post("/late-entry-permissions")
@accepts(PermissionIn)
def grant_permission(body: PermissionIn):
    """Let one employee (``employee_id``) or everyone placed in a unit and its sub-units
    (``unit_id``) enter the past activity dates ``start_date``..``end_date`` outside the
    submission window, until ``valid_until`` (admin_bkd). The reason is mandatory; the row is the
    audit record."""
    who = bkd()
    today = clock.today()
    with runtime().uow(g.request_id) as uow:
        row = entry_policy.grant(uow, entry_policy.Grant(body.employee_id, body.unit_id, body.start_date, body.end_date,
                                                         body.valid_until, body.reason), who.account_id, today)
        uow.commit()
        return entry_policy.permission_json(row, entry_policy.names_for(uow.session, [row])), 201


@bp.get("/late-entry-permissions")
def list_permissions():
    """BKD's permissions, newest first, paged (``limit``/``cursor``/``page``); ``status=active``
    (default: not revoked and still usable) or ``all``; ``employee_id``, ``unit_id``."""
    bkd()
    problems = FieldErrors()
    req = paging.page_request(request.args, errors=problems)
    status = request.args.get("status", "active")
    if status not in ("active", "all"):
        problems.add("status", "Harus active atau all", "Must be active or all")
    problems.raise_if_any()
    stmt = entry_policy.permissions_query(status, clock.today(), request.args.get("employee_id") or None,
                                          request.args.get("unit_id") or None)
    with runtime().session_factory() as s:
        page = paging.paginate(s, stmt, [paging.SortKey(LateEntryPermission.granted_at, descending=True),
                                         paging.SortKey(LateEntryPermission.id)], req)
        names = entry_policy.names_for(s, page.items)
        return page.as_json(lambda p: entry_policy.permission_json(p, names))


@bp.post("/late-entry-permissions/<permission_id>/revoke")
@accepts(RevokeIn)
def revoke_permission(permission_id: str, body: RevokeIn):
    """End a permission now (admin_bkd), with the reason; entries already made stay."""
    who = bkd()
    with runtime().uow(g.request_id) as uow:
        row = entry_policy.revoke(uow, permission_id, body.reason, who.account_id)
        uow.commit()
        return entry_policy.permission_json(row, entry_policy.names_for(uow.session, [row]))


@bp.get("/me/late-entry-permissions")
def my_permissions():
    """The caller's live permissions (own, or of a unit of their post): which past dates they may
    still enter, and until when."""
    emp = employee()
    with runtime().session_factory() as s:
        rows = entry_policy.permissions_of(s, emp, clock.today())
        return {"permissions": [{k: v for k, v in entry_policy.permission_json(p).items()
                                 if k in ("id", "start_date", "end_date", "valid_until", "reason")} for p in rows]}


# -- month views across people ---------------------------------------------------------------------

def _scope_args():
    first, after = query_month()
    unit_id = request.args.get("unit_id") or None
    return first, after, unit_id


@bp.get("/reports/attendance")
def attendance_report():
    """The month's attendance of everyone in a unit (``unit_id``, its sub-units included; all
    units without it), paged by name: recorded, late, early, absent and excused days, deduction and
    discipline %; ``totals`` over the whole unit (admin_bkd)."""
    bkd()
    first, after, unit_id = _scope_args()
    req = paging.page_request(request.args)
    with runtime().session_factory() as s:
        units = reports.subtree(s, unit_id) if unit_id else None
        stmt = reports.scope(first, after, units)
        page = paging.paginate(s, stmt, [paging.SortKey(Employee.name), paging.SortKey(Employee.employee_id)], req)
        ids = [e.employee_id for e in page.items]
        posts = reports.posts(s, ids, first, after)
        months = reports.summaries(s, ids, first.year, first.month)
        body = page.as_json(lambda e: reports.attendance_item(e, posts.get(e.employee_id), months.get(e.employee_id)))
        return {"month": f"{first:%Y-%m}", "unit_id": unit_id, **body,
                "totals": reports.attendance_totals(s, stmt, first.year, first.month)}


@bp.get("/reports/no-entries")
def no_entries_report():
    """Who, placed in the month (in ``unit_id`` and below, or anywhere), has entered no activity
    dated in it, paged by name; ``by_unit``: per unit of their posts, how many are placed and how
    many have entered nothing (admin_bkd)."""
    bkd()
    first, after, unit_id = _scope_args()
    req = paging.page_request(request.args)
    with runtime().session_factory() as s:
        units = reports.subtree(s, unit_id) if unit_id else None
        everyone = reports.scope(first, after, units)
        nothing = reports.without_entries(everyone, first, after)
        page = paging.paginate(s, nothing, [paging.SortKey(Employee.name), paging.SortKey(Employee.employee_id)], req)
        posts = reports.posts(s, [e.employee_id for e in page.items], first, after)
        placed, idle = reports.by_unit(s, everyone, first, after), reports.by_unit(s, nothing, first, after)
        if units is not None:
            placed = {u: n for u, n in placed.items() if u in units}
            idle = {u: n for u, n in idle.items() if u in units}
        names = reports.unit_names(s, placed)
        body = page.as_json(lambda e: {"employee_id": e.employee_id, "nip": e.nip, "name": e.name,
                                       "post": posts.get(e.employee_id)})
        return {"month": f"{first:%Y-%m}", "unit_id": unit_id, **body,
                "placed": reports.count(s, everyone),
                "by_unit": sorted(({"unit_id": u, "unit_name": names.get(u or ""), "placed": n,
                                    "without_entries": idle.get(u, 0)} for u, n in placed.items()),
                                  key=lambda x: (-x["without_entries"], x["unit_name"] or ""))}
