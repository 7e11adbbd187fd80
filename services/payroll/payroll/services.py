"""Service layer: each function is one use case, run inside a unit of work.

Events leave through ``uow.publish`` in the transaction of their change: locking a month publishes
``tpp.period_locked`` and one ``tpp.correction_issued`` per correction it pays. Changes that have
no event in the catalogue (policy versions, salaries, sanctions, computes) write an audit row.

Corrections (rapel), in short (README "Lock and corrections" has the whole story): every change to
a computed month's data is noted (``DataChange``) in the transaction that makes it. Computing a
month M claims the noted changes of locked months, recomputes those employees' lines of those
months with today's data (and everything else as locked), and stores the difference with what was
paid for them so far as correction lines of M. A recompute of M replaces M's corrections; locking
M issues them and settles the changes. What was paid for a month is always its locked line plus
the corrections made for it anywhere else, so a correction is never paid twice.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import threading
from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterator

from sqlalchemy import Row, and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ekinerja_common import clock, discipline
from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import Conflict, FieldErrors, NotFound, Text, ValidationFailed
from ekinerja_common.events import PeriodLocked
from ekinerja_common.uow import UnitOfWork

from . import defaults, domain, policy, repository, reports, salary_csv
from .orm import (AttendanceDay, AuditEntry, DataChange, Employee, PolicyVersion, Salary, Sanction, TppCorrection, TppLineRow, TppRun,
                  Unit, new_id, new_ids)
from .exports import MONTHS_ID
from .policy import TppPolicy


STALE_POLICY = Text("Kebijakan tahun ini sudah diubah orang lain; muat ulang lalu ulangi",
                    "Someone else changed this year's policy meanwhile; reload and try again")
PERIOD_LOCKED = Text("Periode ini sudah dikunci dan tidak dapat diubah", "This period is locked and cannot change")
NO_RUN = Text("Perhitungan TPP bulan ini belum ada", "No TPP run for this month")
DEDUCTION_PLACES = Decimal("0.001")


def audit(uow: UnitOfWork, actor: str, action: str, subject: str, detail: dict, *, before: dict | None = None,
          after: dict | None = None) -> None:
    """One audit entry: who, when, in which request (the gateway's request id), the subject
    before and after, and the figures that explain the decision (``detail``)."""
    uow.session.add(AuditEntry(actor=actor, action=action, subject=subject, detail=detail,
                               request_id=uow.correlation_id, before=before, after=after))


def period_key(year: int, month: int) -> int:
    """Months in order as one number (202606), for "earlier than" in SQL and Python alike."""
    return year * 100 + month


# --- policy ------------------------------------------------------------------------------------

def _latest_policy(session: Session, year: int) -> PolicyVersion | None:
    return session.scalar(select(PolicyVersion).where(PolicyVersion.year == year)
                          .order_by(PolicyVersion.version.desc()).limit(1))


def _parse_stored(row: PolicyVersion) -> TppPolicy:
    return policy.parse(row.year, row.version, defaults.complete(row.year, row.document))


def policy_to_show(session: Session, year: int) -> TppPolicy:
    """What ``GET /policies/{year}`` shows, without writing: the latest stored version, or for a
    year nobody configured the defaults as the version 1 they will be stored as when first used
    (a compute or a save, see current_policy)."""
    domain.check_period(year)
    row = _latest_policy(session, year)
    return _parse_stored(row) if row is not None else policy.parse(year, 1, defaults.document(year))


def current_policy(uow: UnitOfWork, year: int, actor: str) -> TppPolicy:
    """The year's latest policy; a year nobody configured starts from the defaults, stored as
    version 1 so that the runs computed with it can name it."""
    domain.check_period(year)
    row = _latest_policy(uow.session, year)
    if row is None:
        try:
            with uow.session.begin_nested():
                row = PolicyVersion(year=year, version=1, document=defaults.document(year), created_by=actor)
                uow.session.add(row)
                audit(uow, actor, "policy.defaulted", f"policy/{year}", {"version": 1}, after={"version": 1})
        except IntegrityError:
            # Another request stored the defaults first; the same document, so use theirs.
            row = _latest_policy(uow.session, year)
    return _parse_stored(row)


def policy_version(session: Session, year: int, version: int) -> TppPolicy:
    """A stored version, e.g. the one a locked month was computed with."""
    return _parse_stored(session.get(PolicyVersion, (year, version)))


def policy_versions(session: Session, year: int) -> list[PolicyVersion]:
    return list(session.scalars(select(PolicyVersion).where(PolicyVersion.year == year)
                                .order_by(PolicyVersion.version.desc())))


def replace_policy(uow: UnitOfWork, year: int, document: dict, actor: str, expected_version: int | None) -> TppPolicy:
    """Store a new version. Months already locked keep the version they were computed with (their
    corrections too); open months use the new one from their next compute."""
    domain.check_period(year)
    new = policy.parse(year, 0, document)
    current = current_policy(uow, year, actor)
    if expected_version is not None and expected_version != current.version:
        raise Conflict("stale_policy", STALE_POLICY)
    new = dataclasses.replace(new, version=current.version + 1)
    try:
        with uow.session.begin_nested():
            uow.session.add(PolicyVersion(year=year, version=new.version, document=new.document(), created_by=actor))
    except IntegrityError:  # two editors saved at once: the second must see the first's change
        raise Conflict("stale_policy", STALE_POLICY)
    # The documents themselves are the insert-only policy_versions rows these numbers name.
    audit(uow, actor, "policy.changed", f"policy/{year}", {"version": new.version, "previous_version": current.version},
          before={"version": current.version}, after={"version": new.version})
    if new.deductions_pct != current.deductions_pct:
        # The deduction table is priced by activity too (the month it shows the employee): one
        # table, announced whenever BPKAD changes it (ekinerja_common.discipline).
        uow.publish("tpp.deductions_updated", {"year": year, "deductions_pct": discipline.table_text(new.deductions_pct),
                                               "policy_version": new.version})
    return new


# --- salaries ----------------------------------------------------------------------------------

def _run_status(session: Session, year: int, month: int) -> str | None:
    return session.scalar(select(TppRun.status).where(TppRun.year == year, TppRun.month == month))


def _refuse_if_locked(session: Session, year: int, month: int) -> None:
    """Take the month's period lock (shared: a concurrent lock of the month waits for us, or we for
    it) and refuse when it is locked."""
    repository.lock_period(session, year, month, exclusive=False)
    if _run_status(session, year, month) == "locked":
        raise Conflict("period_locked", PERIOD_LOCKED)


def _store_salaries(uow: UnitOfWork, year: int, month: int, rows: list[tuple[str, int, int | None]],
                    actor: str) -> tuple[dict, dict]:
    """Upsert (employee_id, salary, bpjs_already) rows of the month. Returns what changed, before
    and after, per employee ({employee_id: {"salary", "bpjs_already"}}, for the audit)."""
    ids = {r[0] for r in rows}
    existing = {s.employee_id: s for s in uow.session.scalars(
        select(Salary).where(Salary.year == year, Salary.month == month, Salary.employee_id.in_(ids)))}
    now = utcnow()
    changed = []
    before: dict[str, dict | None] = {}
    after: dict[str, dict] = {}
    for employee_id, amount, already in rows:
        salary = existing.get(employee_id)
        if salary is None:
            salary = Salary(year=year, month=month, employee_id=employee_id)
            uow.session.add(salary)
            before[employee_id] = None
        elif (salary.salary, salary.bpjs_already) == (amount, already):
            continue
        else:
            before[employee_id] = {"salary": salary.salary, "bpjs_already": salary.bpjs_already}
        after[employee_id] = {"salary": amount, "bpjs_already": already}
        salary.salary, salary.bpjs_already = amount, already
        salary.updated_at, salary.updated_by = now, actor
        changed.append((employee_id, None, f"salaries/{year}-{month:02d}", "salary.changed"))
    # Shown as "pending changes" of a computed open month (a recompute would use them). A locked
    # month refuses salary changes, so these never become corrections.
    repository.note_changes(uow.session, year, month, changed)
    try:
        uow.session.flush()
    except IntegrityError:  # another upload added the same employee's salary meanwhile
        raise Conflict("salaries_changed", Text("Gaji bulan ini sedang diubah bersamaan; ulangi",
                                                "This month's salaries were changed meanwhile; try again"))
    return before, after


def set_salaries(uow: UnitOfWork, year: int, month: int, rows: list[dict], actor: str) -> int:
    """Record the month's salaries (and what the salary slip already deducted for BPJS).
    Employees not listed keep what they had; employees not known here yet are accepted, since
    their employee.registered event may still be on its way."""
    domain.check_period(year, month)
    errors, seen = FieldErrors(), set()
    for n, row in enumerate(rows):
        if row["employee_id"] in seen:
            errors.add(f"salaries.{n}.employee_id", "Pegawai tercantum dua kali", "Employee listed twice")
        seen.add(row["employee_id"])
    errors.raise_if_any()
    _refuse_if_locked(uow.session, year, month)
    before, after = _store_salaries(uow, year, month, [(r["employee_id"], r["salary"], r["bpjs_already"]) for r in rows],
                                    actor)
    audit(uow, actor, "salaries.set", f"salaries/{year}-{month:02d}", {"count": len(rows)}, before=before, after=after)
    return len(rows)


def import_salaries(uow: UnitOfWork, year: int, month: int, content: bytes, actor: str, partial: bool) -> dict:
    """Import a salary CSV (see ``salary_csv``). Every bad row is reported with its line number and
    why; nothing is stored unless the whole file is good, or, with ``partial``, the good rows are
    stored and the bad ones returned. Employees are found by NIP in the employee read model."""
    domain.check_period(year, month)
    _refuse_if_locked(uow.session, year, month)
    parsed = salary_csv.parse(content)
    by_nip: dict[str, list[str]] = defaultdict(list)
    nips = {r.nip for r in parsed.rows}
    for nip, employee_id in uow.session.execute(select(Employee.nip, Employee.employee_id).where(Employee.nip.in_(nips))):
        by_nip[nip].append(employee_id)
    good: list[tuple[str, int, int | None]] = []
    for row in parsed.rows:
        found = by_nip.get(row.nip, [])
        if not found:
            parsed.add(row.line, "nip", Text("NIP tidak dikenal (pegawai belum terdaftar di payroll)",
                                             "Unknown NIP (no such employee known to payroll)"))
        elif len(found) > 1:
            parsed.add(row.line, "nip", Text("NIP ini dimiliki lebih dari satu pegawai", "More than one employee has this NIP"))
        else:
            good.append((found[0], row.salary, row.bpjs_already))
    fields = parsed.error_fields()
    file_broken = 0 in parsed.errors
    if fields and (not partial or file_broken):
        raise ValidationFailed(fields, "invalid_rows")
    before: dict = {}
    after: dict = {}
    if good:
        before, after = _store_salaries(uow, year, month, good, actor)
    rejected = [{"line": line, "field": name, **text.as_json()}
                for line, items in sorted(parsed.errors.items()) for name, text in items.items()]
    audit(uow, actor, "salaries.imported", f"salaries/{year}-{month:02d}",
          {"imported": len(good), "rejected_lines": len(parsed.errors), "partial": partial}, before=before, after=after)
    return {"year": year, "month": month, "imported": len(good), "rejected": rejected}


# --- sanctions ---------------------------------------------------------------------------------

def _months(first: date, last: date) -> list[tuple[int, int]]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def record_sanction(uow: UnitOfWork, *, employee_id: str, start_date: date, end_date: date, cut_pct: Decimal,
                    reference: str, reason: str, actor: str) -> Sanction:
    """Record a disciplinary sanction (PP 94/2021). It cuts every month it overlaps, at the
    policy's rule for overlapping sanctions; for months already locked that is a correction."""
    errors = FieldErrors()
    if uow.session.get(Employee, employee_id) is None:
        errors.add("employee_id", "Pegawai tidak dikenal", "Unknown employee")
    for name, day in (("start_date", start_date), ("end_date", end_date)):
        if not domain.YEAR_MIN <= day.year <= domain.YEAR_MAX:
            errors.add(name, f"Tahun harus {domain.YEAR_MIN}–{domain.YEAR_MAX}",
                       f"Year must be {domain.YEAR_MIN}–{domain.YEAR_MAX}")
    if end_date < start_date:
        errors.add("end_date", "Tanggal selesai tidak boleh sebelum tanggal mulai", "The end date cannot precede the start date")
    elif len(_months(start_date, end_date)) > 60:
        errors.add("end_date", "Hukuman paling lama 5 tahun", "A sanction lasts at most 5 years")
    if not Decimal(0) < cut_pct <= Decimal(100) or cut_pct.as_tuple().exponent < -3:
        errors.add("cut_pct", "Potongan harus di atas 0 dan paling besar 100 persen (3 desimal)",
                   "The cut must be above 0 and at most 100 percent (3 decimals)")
    if not reference.strip():
        errors.add("reference", "Nomor keputusan hukuman wajib diisi", "The sanction decree number is required")
    errors.raise_if_any()
    sanction = Sanction(employee_id=employee_id, start_date=start_date, end_date=end_date, cut_pct=cut_pct,
                        reference=reference.strip(), reason=reason.strip(), created_by=actor)
    uow.session.add(sanction)
    uow.session.flush()
    for year, month in _months(start_date, end_date):
        repository.note_change(uow.session, employee_id, year, month, None, sanction.id, "sanction.recorded")
    audit(uow, actor, "sanction.recorded", f"sanction/{sanction.id}", sanction_json(sanction), after=sanction_json(sanction))
    return sanction


def revoke_sanction(uow: UnitOfWork, sanction_id: str, reason: str, actor: str) -> Sanction:
    """Revoke a sanction entered in error or annulled; its months are paid in full again (locked
    ones by correction). The record stays, marked revoked."""
    sanction = uow.session.get(Sanction, sanction_id, with_for_update=True)
    if sanction is None:
        raise NotFound(Text("Hukuman disiplin tidak ditemukan", "Sanction not found"))
    if sanction.revoked_at is not None:
        raise Conflict("already_revoked", Text("Hukuman ini sudah dicabut", "This sanction is already revoked"))
    if not reason.strip():
        raise ValidationFailed({"reason": Text("Alasan pencabutan wajib diisi", "A reason is required")})
    before = sanction_json(sanction)
    sanction.revoked_at, sanction.revoked_by, sanction.revoke_reason = utcnow(), actor, reason.strip()
    for year, month in _months(sanction.start_date, sanction.end_date):
        repository.note_change(uow.session, sanction.employee_id, year, month, None, sanction.id, "sanction.revoked")
    audit(uow, actor, "sanction.revoked", f"sanction/{sanction.id}", {"reason": sanction.revoke_reason},
          before=before, after=sanction_json(sanction))
    return sanction


def sanction_json(s: Sanction) -> dict:
    return {"id": s.id, "employee_id": s.employee_id, "start_date": s.start_date.isoformat(),
            "end_date": s.end_date.isoformat(), "cut_pct": str(domain.plain(Decimal(s.cut_pct))), "reference": s.reference, "reason": s.reason,
            "created_at": s.created_at.isoformat() if s.created_at else None, "created_by": s.created_by,
            "revoked_at": s.revoked_at.isoformat() if s.revoked_at else None, "revoked_by": s.revoked_by,
            "revoke_reason": s.revoke_reason}


def list_sanctions(session: Session, employee_id: str | None, year: int | None) -> list[Sanction]:
    q = select(Sanction).order_by(Sanction.start_date, Sanction.created_at)
    if employee_id:
        q = q.where(Sanction.employee_id == employee_id)
    if year:
        q = q.where(Sanction.start_date <= date(year, 12, 31), Sanction.end_date >= date(year, 1, 1))
    return list(session.scalars(q))


# --- computing a month -------------------------------------------------------------------------

def _locked_run_row(session: Session, year: int, month: int) -> TppRun | None:
    return session.scalar(select(TppRun).where(TppRun.year == year, TppRun.month == month)
                          .with_for_update().execution_options(populate_existing=True))


def _later_locked(session: Session, year: int, month: int) -> tuple[int, int] | None:
    """The latest locked month after this one, if any."""
    row = session.execute(select(TppRun.year, TppRun.month).where(
        TppRun.status == "locked", TppRun.year * 100 + TppRun.month > period_key(year, month))
        .order_by(TppRun.year.desc(), TppRun.month.desc()).limit(1)).first()
    return (row.year, row.month) if row else None


def _refuse_after_a_later_lock(session: Session, year: int, month: int) -> None:
    """A month before a locked month can no longer be computed or locked (issue 9 item 6): its
    people would be paid after a later month was closed, outside the order the corrections rely
    on (a change to a locked month is paid in the next open month, which must come after it).
    What such a month still needs to pay goes as a correction, once it has a locked run, or by
    a manual decision of BPKAD outside the system — never by reopening the order."""
    later = _later_locked(session, year, month)
    if later is not None:
        raise Conflict("later_month_locked", Text(
            f"Bulan {later[1]:02d}/{later[0]} sudah dikunci; bulan sebelumnya tidak dapat dihitung atau dikunci lagi",
            f"{later[0]}-{later[1]:02d} is already locked; an earlier month can no longer be computed or locked"))


def _open_run(uow: UnitOfWork, year: int, month: int, actor: str, policy_version: int) -> TppRun:
    """The month's run, row-locked so that two computes of one month follow each other."""
    run = _locked_run_row(uow.session, year, month)
    if run is None:
        try:
            with uow.session.begin_nested():
                uow.session.add(TppRun(year=year, month=month, status="open", policy_version=policy_version,
                                       computed_by=actor, skipped=[], warnings=[], version=0))
        except IntegrityError:
            pass  # created by a concurrent compute; lock theirs below
        run = _locked_run_row(uow.session, year, month)
    if run.status == "locked":
        raise Conflict("period_locked", PERIOD_LOCKED)
    return run


def _skip_reason(pol: TppPolicy, employee: Row | None, position: Row | None) -> str | None:
    """Why an employee placed in the month gets no line yet: data that has not arrived by event,
    or a kelas/golongan the policy has no figure for. The run lists them; a recompute after the
    data arrives includes them."""
    if employee is None:
        return "unknown_employee"
    if position is None:
        return "unknown_position"
    if pol.base_for(position.kelas_jabatan) is None:
        return "kelas_not_in_policy"
    if pol.pph_rate_pct(employee.employee_kind, employee.golongan) is None:
        return "golongan_not_in_policy"
    return None


@dataclasses.dataclass(frozen=True)
class MonthData:
    """An employee's data of one month that may change after the month is computed (and so become
    a correction once it is locked): minutes, attendance codes, sanctions."""

    approved_minutes: int
    code_days: dict[str, int]
    sanctions: list[Sanction]
    reported_deductions: Decimal | None

    def priced(self, pol: TppPolicy) -> tuple[Decimal, Decimal, dict[str, Any]]:
        """The deduction and sanction cut this month data costs under ``pol``, and what to show
        about it."""
        deductions, unpriced = pol.deduction_pct(self.code_days)
        cut = pol.sanction_cut_pct([domain.plain(s.cut_pct) for s in self.sanctions])
        shown = {
            "attendance_days_by_code": dict(sorted(self.code_days.items())),
            "unpriced_codes": unpriced,
            "deductions_pct_reported": None if self.reported_deductions is None else str(self.reported_deductions),
            "sanctions": [{"id": s.id, "cut_pct": str(domain.plain(s.cut_pct)), "start_date": s.start_date.isoformat(),
                           "end_date": s.end_date.isoformat(), "reference": s.reference} for s in self.sanctions],
        }
        return deductions.quantize(DEDUCTION_PLACES), cut, shown

    def priced_cached(self, pol: TppPolicy, cache: dict | None) -> tuple[Decimal, Decimal, dict[str, Any]]:
        """``priced``, kept in ``cache`` (one per run and policy) for the many employees whose month
        data is priced alike. The result is shared: nobody may change it."""
        if cache is None:
            return self.priced(pol)
        key = (tuple(self.code_days.items()), self.reported_deductions,
               tuple((s.id, s.cut_pct, s.start_date, s.end_date, s.reference) for s in self.sanctions))
        found = cache.get(key)
        if found is None:
            found = cache[key] = self.priced(pol)
        return found

    def apply(self, pol: TppPolicy, inputs: domain.TppInputs, cache: dict | None = None
              ) -> tuple[domain.TppInputs, dict[str, Any]]:
        """``inputs`` (e.g. a locked line's) with this month data instead of theirs."""
        deductions, cut, shown = self.priced_cached(pol, cache)
        return dataclasses.replace(inputs, approved_minutes=self.approved_minutes, deductions_pct=deductions,
                                   sanction_cut_pct=cut), shown


class MonthReader:
    """The month data of many employees, read with one grouped query per kind."""

    def __init__(self, session: Session, year: int, month: int, only=None):
        first, last = domain.month_bounds(year, month)
        self.minutes = repository.approved_minutes(session, first, last, only)
        self.codes = repository.attendance_code_days(session, first, last, only)
        self.reported = repository.reported_deductions(session, first, last, only)
        self.sanctions = repository.sanctions(session, first, last, only)

    def of(self, employee_id: str) -> MonthData:
        return MonthData(self.minutes.get(employee_id, 0), self.codes.get(employee_id, {}),
                         self.sanctions.get(employee_id, []), self.reported.get(employee_id))


def _inputs(pol: TppPolicy, employee: Row, position: Row, target: domain.MonthTarget, salary: Row | None,
            month: MonthData) -> tuple[domain.TppInputs, dict[str, Any]]:
    """One line's inputs and what to show about them, as objects (the estimate; a run makes its
    lines with ``LineMaker``, which must give the same)."""
    factor, source = pol.factor_for(position.code, position.factor)
    deductions, cut, shown = month.priced(pol)
    return domain.TppInputs(
        kelas_jabatan=position.kelas_jabatan, base=pol.base_for(position.kelas_jabatan), factor=factor,
        employee_kind=employee.employee_kind, golongan=employee.golongan, status=employee.status,
        approved_minutes=month.approved_minutes, working_days=target.working_days,
        minutes_per_day=target.minutes_per_day,
        deductions_pct=deductions, perf_weight_pct=pol.perf_weight_pct, disc_weight_pct=pol.disc_weight_pct,
        status_factor_pct=pol.status_factor_pct(employee.status),
        pph_rate_pct=pol.pph_rate_pct(employee.employee_kind, employee.golongan),
        bpjs_rate_pct=pol.bpjs_rate_pct, bpjs_cap=pol.bpjs_cap,
        salary=salary.salary if salary else None, bpjs_already=salary.bpjs_already if salary else None,
        sanction_cut_pct=cut, productivity_brackets=pol.brackets,
    ), {**shown, **target.shown(), "factor_source": source, "position_code": position.code,
        "policy_version": pol.version}


_encode = json.JSONEncoder(separators=(",", ":")).encode  # as repository.bulk_insert encodes a JSON column


def _members(d: dict) -> str:
    """A dict's members as they follow others inside an encoded object: ``,"key":value`` each."""
    return "".join(f",{_encode(k)}:{_encode(v)}" for k, v in d.items())


@dataclasses.dataclass(frozen=True)
class _Placed:
    """What lines of one position share."""

    base: int | None
    factor: Decimal
    head: str  # the encoded inputs up to the factor's value
    shown: str


@dataclasses.dataclass(frozen=True)
class _Kind:
    """What lines of employees of one kind, golongan and status share."""

    status_factor_pct: Decimal
    pph_rate: Fraction | None  # None: a golongan the policy has no rate for (the line is skipped)
    head: str  # the encoded employee_kind, golongan, status, up to approved_minutes' value
    status_factor: str
    pph_rate_pct: str


@dataclasses.dataclass(frozen=True)
class _Priced:
    """What lines with the same attendance codes, reported deductions and sanctions share."""

    cut_pct: Decimal
    discipline: Fraction
    unpriced: dict[str, int]
    deductions: str  # encoded deductions_pct, discipline, discipline_pct
    cut: str
    shown: str


# The columns of a line, in the order a run writes them.
LINE_COLUMNS = ["id", "run_id", "employee_id", "nip", "name", "position_id", "unit_id", "gross", "pph", "bpjs", "net",
                "bank_account", "inputs"]


# The columns of a correction, in the order a compute writes them.
CORRECTION_COLUMNS = ["id", "run_id", "employee_id", "for_year", "for_month", "nip", "name", "unit_id", "bank_account",
                      "gross", "pph", "bpjs", "net", "cause", "basis", "created_at"]


class LineMaker:
    """A run's lines without the objects of ``_inputs``/``domain.compute``/``TppLine.explain``: the
    same figures (``domain.figures``, the one formula) and the same inputs JSON, key for key and
    byte for byte (tests/unit/test_line_maker.py compares them), encoded from pieces that many
    lines share. For one policy and one month target; a 10,000-employee run made 10,000 of each
    object, most of its time (issue 13)."""

    def __init__(self, pol: TppPolicy, target: domain.MonthTarget):
        self.pol, self.target = pol, target
        self.target_minutes = target.working_days * target.minutes_per_day
        self.perf_weight, self.disc_weight = domain.pct(pol.perf_weight_pct), domain.pct(pol.disc_weight_pct)
        self.brackets = pol.brackets
        self.bpjs_rate = domain.pct(pol.bpjs_rate_pct)
        self._placed: dict[tuple, _Placed] = {}
        self._kinds: dict[tuple, _Kind] = {}
        self._priced: dict[tuple, _Priced] = {}
        brackets = None if self.brackets is None else [{"min_pct": str(m), "pay_pct": str(p)} for m, p in self.brackets]
        self._after_minutes = (f',"working_days":{_encode(target.working_days)}'
                               f',"minutes_per_day":{_encode(target.minutes_per_day)}'
                               f',"target_minutes":{_encode(self.target_minutes)},"productivity":')
        self._after_productivity = (f',"productivity_rule":{_encode("linear" if self.brackets is None else "bracket")}'
                                    f',"productivity_brackets":{_encode(brackets)},"productivity_paid":')
        self._weights = ',"weights_pct":' + _encode({"performance": str(pol.perf_weight_pct),
                                                      "discipline": str(pol.disc_weight_pct)})
        self._target_shown = _members(target.shown())
        self._bpjs = f',"bpjs_rate_pct":{_encode(str(pol.bpjs_rate_pct))},"bpjs_cap":{_encode(pol.bpjs_cap)},"bpjs_already":'

    def placed(self, position: Row) -> _Placed:
        key = (position.position_id, position.code, position.kelas_jabatan, position.factor)
        found = self._placed.get(key)
        if found is None:
            pol = self.pol
            factor, source = pol.factor_for(position.code, position.factor)
            base = pol.base_for(position.kelas_jabatan)
            head = (f'{{"kelas_jabatan":{_encode(position.kelas_jabatan)},"base":{_encode(base)}'
                    f',"factor":{_encode(str(factor))}')
            shown = (f'{self._target_shown},"factor_source":{_encode(source)},"position_code":{_encode(position.code)}'
                     f',"policy_version":{_encode(pol.version)}')
            found = self._placed[key] = _Placed(base, factor, head, shown)
        return found

    def kind(self, employee: Row) -> _Kind:
        key = (employee.employee_kind, employee.golongan, employee.status)
        found = self._kinds.get(key)
        if found is None:
            pol = self.pol
            status_factor = pol.status_factor_pct(employee.status)
            pph_rate = pol.pph_rate_pct(employee.employee_kind, employee.golongan)
            found = self._kinds[key] = _Kind(
                status_factor, None if pph_rate is None else domain.pct(pph_rate),
                f',"employee_kind":{_encode(employee.employee_kind)},"golongan":{_encode(employee.golongan)}'
                f',"status":{_encode(employee.status)},"approved_minutes":',
                f',"status_factor_pct":{_encode(str(status_factor))}', f',"pph_rate_pct":{_encode(str(pph_rate))}')
        return found

    def priced(self, code_days: dict[str, int] | None, sanctions: list[Sanction] | None,
               reported: Decimal | None) -> _Priced:
        key = (tuple(code_days.items()) if code_days else (), reported,
               tuple((s.id, s.cut_pct, s.start_date, s.end_date, s.reference) for s in sanctions) if sanctions else ())
        found = self._priced.get(key)
        if found is None:
            month = MonthData(0, code_days or {}, sanctions or [], reported)
            deductions, cut, shown = month.priced(self.pol)
            discipline = domain._discipline(deductions)
            found = self._priced[key] = _Priced(
                cut, discipline, shown["unpriced_codes"],
                f',"deductions_pct":{_encode(str(deductions))},"discipline":{_encode(domain._fraction(discipline))}'
                f',"discipline_pct":{_encode(domain._percent(discipline))}',
                f',"sanction_cut_pct":{_encode(str(cut))}', _members(shown))
        return found

    def skip_reason(self, employee: Row | None, position: Row | None) -> str | None:
        """``_skip_reason``, from the caches."""
        if employee is None:
            return "unknown_employee"
        if position is None:
            return "unknown_position"
        if self.placed(position).base is None:
            return "kelas_not_in_policy"
        if self.kind(employee).pph_rate is None:
            return "golongan_not_in_policy"
        return None

    def line(self, employee: Row, position: Row, salary: Row | None, minutes: int, code_days: dict[str, int] | None,
             sanctions: list[Sanction] | None, reported: Decimal | None) -> tuple[int, int, int, int, str, _Priced]:
        """Gross, PPh, BPJS, net, the inputs encoded, and the month data's price (unpriced codes),
        from the month data as MonthReader reads it: approved minutes, days per code, sanctions
        and reported deductions (None: none)."""
        pl, kd, pr = self.placed(position), self.kind(employee), self.priced(code_days, sanctions, reported)
        target = self.target_minutes
        if target <= 0:  # domain.compute's no_working_days
            month = MonthData(minutes, code_days or {}, sanctions or [], reported)
            domain.compute(_inputs(self.pol, employee, position, self.target, salary, month)[0])
        productivity = Fraction(min(minutes, target), target)
        paid = domain.paid_productivity(productivity, self.brackets)
        pay = salary.salary if salary else None
        gross, pph, already, due, bpjs, net = domain.figures(
            pl.base, domain._multiplier(pl.factor, kd.status_factor_pct, pr.cut_pct), self.perf_weight,
            self.disc_weight, paid, pr.discipline, kd.pph_rate, self.bpjs_rate, self.pol.bpjs_cap, pay,
            salary.bpjs_already if salary else None)
        # Whole numbers and the digits of a percent are written as json writes them (int's repr,
        # a string needing no escapes).
        text = (f'{pl.head}{kd.head}{int(minutes)}{self._after_minutes}'
                f'"{productivity.numerator}/{productivity.denominator}"'
                f',"productivity_pct":"{domain._percent(productivity)}"{self._after_productivity}'
                f'"{paid.numerator}/{paid.denominator}",'
                f'"productivity_paid_pct":"{domain._percent(paid)}"{pr.deductions}{self._weights}'
                f'{kd.status_factor}{pr.cut},"salary":{"null" if pay is None else int(pay)}{kd.pph_rate_pct}'
                f'{self._bpjs}{already}'
                f',"bpjs_due":{due},"gross":{gross},"pph":{pph},"bpjs":{bpjs},"net":{net}{pr.shown}{pl.shown}}}')
        return gross, pph, bpjs, net, repository.JsonText(text), pr


def locked_target_source(inputs: dict) -> dict[str, Any]:
    """Where a stored line's working days and minutes came from; lines computed before payroll
    consumed the calendar used the policy's (``policy``)."""
    return {"calendar_source": inputs.get("calendar_source", "policy"),
            "calendar_version": inputs.get("calendar_version"),
            "minutes_per_day_source": inputs.get("minutes_per_day_source", "policy")}


def calendar_status(session: Session, run: TppRun) -> dict[str, Any]:
    """The calendar the run was computed with and the one payroll holds now. ``changed`` on an open
    run: recompute before locking, or the month is paid on the old calendar for good (a calendar
    change never becomes a correction). On a locked run it is for information only."""
    latest = repository.work_calendar_version(session, run.year)
    return {"source": "bkd" if run.calendar_version is not None else "default", "version": run.calendar_version,
            "latest_version": latest, "changed": latest != run.calendar_version,
            # No BKD calendar of the year has reached payroll (yet): the default applies, as in
            # activity; BKD should store the year's calendar (moving holidays, cuti bersama).
            "is_default": latest is None}


def totals(lines: list) -> dict[str, int]:
    """Count and sums of lines or corrections (objects or dicts with gross, pph, bpjs, net)."""
    get = (lambda x, k: x[k]) if lines and isinstance(lines[0], dict) else getattr
    return {"employees": len(lines), **{k: sum(get(l, k) for l in lines) for k in ("gross", "pph", "bpjs", "net")}}


_gc_lock = threading.Lock()
_gc_pausers = 0  # runs now computing in this process
_gc_was_enabled = True  # whether the collector ran before the first of them paused it


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a run computes: the run's month data (several
    objects per employee, alive until it ends) made the collector walk them again and again, a
    fifth of the run's CPU at 10,000 employees (bench/payroll_month.py). Nothing the run makes
    needs the collector to be freed meanwhile (reference counting still frees as usual). Counted,
    so that two runs in two threads of a worker do not turn it back on under each other."""
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def compute_run(uow: UnitOfWork, year: int, month: int, actor: str) -> TppRun:
    """The month's run (:func:`_compute_run`) with the garbage collector paused (:func:`gc_paused`)."""
    with gc_paused():
        return _compute_run(uow, year, month, actor)


def _compute_run(uow: UnitOfWork, year: int, month: int, actor: str) -> TppRun:
    """Compute the month's line for every active employee with a definitive placement in it,
    replacing the lines (and corrections) of an earlier compute. Approved minutes are those of
    entries dated in the month whose latest decision is an approval (or a rejection an appeal
    overturned). Discipline is priced from the month's attendance codes with the policy's table;
    a month without attendance rows counts as full discipline (100 %): withholding the discipline
    share for data that has not arrived would underpay everyone."""
    domain.check_period(year, month)
    repository.lock_order(uow.session, exclusive=False)
    _refuse_after_a_later_lock(uow.session, year, month)
    pol = current_policy(uow, year, actor)
    s = uow.session
    # The locked months this compute may correct are locked first, exclusively and in month order
    # (the order every transaction takes period locks in): two computes of different open months
    # then never pay the same change twice, each seeing the other's corrections once committed.
    to_correct = _months_awaiting_corrections(s, year, month)
    for locked_year, locked_month in to_correct:
        repository.lock_period(s, locked_year, locked_month, exclusive=True)
    repository.lock_period(s, year, month, exclusive=True)
    run = _open_run(uow, year, month, actor, pol.version)
    # Holding the period exclusively, every change of this month committed so far is visible to
    # the reads below, and no other can commit until we do: the noted changes are all seen now.
    changes = DataChange.__table__
    s.execute(delete(changes).where(changes.c.year == year, changes.c.month == month))
    first, last = domain.month_bounds(year, month)
    # BKD's calendar of the year when one has arrived, else the default calendar activity uses too.
    # Read after the period lock like the month data; a calendar.updated committed later leaves the
    # run naming an older calendar version, which run_json shows as changed (recompute to use it).
    target = domain.month_target(year, month, *repository.work_calendar(s, year))
    chosen = {emp_id: (emp, pls[0] if len(pls) == 1 else domain.month_placement(pls, last))
              for emp_id, (emp, pls) in repository.placed_employees(s, first, last).items()}
    positions = repository.placed_positions(s, first, last)
    month_data = MonthReader(s, year, month)
    salaries = repository.salaries(s, year, month)
    skipped: list[dict] = []
    # Who gets a warning (few, usually) and the run's totals; the lines themselves are not kept:
    # 10,000 live dicts cost the garbage collector more than making them.
    no_salary: list[dict] = []
    no_minutes: list[dict] = []
    count = gross_sum = pph_sum = bpjs_sum = net_sum = 0
    unpriced: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    maker = LineMaker(pol, target)
    ids = iter(new_ids(len(chosen)))
    minutes, codes, reported, sanctions = (month_data.minutes, month_data.codes, month_data.reported,
                                           month_data.sanctions)
    lines_table = TppLineRow.__table__
    s.execute(delete(lines_table).where(lines_table.c.run_id == run.id))
    # Each line is written as soon as it is made (no query may run until the block ends).
    with repository.streamed_insert(s, lines_table, LINE_COLUMNS) as write:
        for emp_id in sorted(chosen):
            emp, placement = chosen[emp_id]
            position = positions.get(placement.position_id)
            reason = maker.skip_reason(emp, position)
            if reason:
                skipped.append({"employee_id": emp_id, "reason": reason, "position_id": placement.position_id})
                continue
            salary, approved = salaries.get(emp_id), minutes.get(emp_id, 0)
            gross, pph, bpjs, net, inputs, priced = maker.line(
                emp, position, salary, approved, codes.get(emp_id), sanctions.get(emp_id), reported.get(emp_id))
            for code, n in priced.unpriced.items():
                unpriced[code][0] += 1
                unpriced[code][1] += n
            write((next(ids), run.id, emp_id, emp.nip, emp.name, position.position_id, position.unit_id, gross, pph,
                   bpjs, net, emp.bank_account, inputs))  # in LINE_COLUMNS' order
            count += 1
            gross_sum, pph_sum, bpjs_sum, net_sum = gross_sum + gross, pph_sum + pph, bpjs_sum + bpjs, net_sum + net
            if salary is None or salary.salary is None:  # the line's inputs show "salary": null
                no_salary.append({"employee_id": emp_id, "nip": emp.nip, "name": emp.name})
            if not approved:
                no_minutes.append({"employee_id": emp_id, "nip": emp.nip, "name": emp.name})
    line_totals = {"employees": count, "gross": gross_sum, "pph": pph_sum, "bpjs": bpjs_sum, "net": net_sum}
    corrections, not_correctable = _corrections(uow, run, to_correct)
    run.version += 1
    run.policy_version, run.skipped = pol.version, skipped + not_correctable
    run.calendar_version = target.calendar_version
    unpriced_warnings = [{"code": "unpriced_attendance_code", "attendance_code": code, "employees": e, "days": d,
                     "blocking": True, "count": e, "who": [],
                     "message": f"Kode presensi {code} tidak ada dalam tabel potongan kebijakan ({e} pegawai, {d} hari)",
                     "message_en": f"Attendance code {code} is not priced by the policy ({e} employees, {d} days)"}
                    for code, (e, d) in sorted(unpriced.items())]
    # One new list: JSON columns track assignment, not changes made inside the list.
    run.warnings = unpriced_warnings + careless_payment_warnings(s, count, no_salary, no_minutes, first, last,
                                                                 target.calendar_version)
    run.computed_at, run.computed_by = utcnow(), actor
    audit(uow, actor, "run.computed", f"run/{year}-{month:02d}", {
        "run_version": run.version, "policy_version": pol.version, "working_days": target.working_days,
        "minutes_per_day": target.minutes_per_day, **target.shown(),
        "skipped": len(skipped), "totals": line_totals, "corrections": len(corrections),
        "correction_totals": totals(corrections)},
        before={"run_version": run.version - 1}, after={"run_version": run.version, "policy_version": pol.version})
    return run


# --- what must stop a careless payment ----------------------------------------------------------

WARNING_SAMPLE = 50  # people named per warning; the count is always whole


def _who(rows: list[dict]) -> list[dict]:
    return [{"employee_id": r["employee_id"], "nip": r["nip"], "name": r["name"]} for r in rows[:WARNING_SAMPLE]]


def _warning(code: str, rows: list[dict], id_text: str, en_text: str) -> dict:
    return {"code": code, "blocking": True, "count": len(rows), "who": _who(rows),
            "message": id_text.format(n=len(rows)), "message_en": en_text.format(n=len(rows))}


def careless_payment_warnings(session: Session, lines: int, no_salary: list[dict], no_minutes: list[dict],
                              first: date, last: date, calendar_version: int | None) -> list[dict]:
    """What BPKAD must look at before it pays the month as computed: people without a salary
    (their BPJS is computed on TPP alone), people without a single approved minute (paid the
    discipline share only: often entries still unvalidated, or never entered), a month with no
    attendance data at all (everyone gets full discipline), and a year whose calendar BKD has
    not stored (the target follows the default calendar). Each names how many and who. Whether the month
    is still running is judged when the run is read or locked (``month_in_progress``)."""
    out = []
    if no_salary:
        out.append(_warning("no_salary", no_salary, "{n} pegawai belum tercatat gaji pokoknya bulan ini",
                            "{n} employees have no salary recorded for the month"))
    if no_minutes:
        out.append(_warning("no_approved_minutes", no_minutes, "{n} pegawai tanpa satu menit kerja pun yang disetujui",
                            "{n} employees without a single approved minute"))
    if lines and session.scalar(select(func.count()).select_from(AttendanceDay).where(
            AttendanceDay.day.between(first, last))) == 0:
        out.append({"code": "no_attendance_data", "blocking": True, "count": lines, "who": [],
                    "message": "Belum ada data presensi bulan ini sama sekali: semua pegawai dihitung disiplin 100 %",
                    "message_en": "No attendance data at all for the month: everyone is counted 100 % discipline"})
    if calendar_version is None:
        out.append({"code": "calendar_not_stored", "blocking": True, "count": 0, "who": [],
                    "message": f"Kalender kerja {first.year} belum ditetapkan BKD: hari kerja dihitung dengan kalender "
                               "bawaan (Senin-Jumat tanpa libur nasional bertanggal tetap); libur nasional lain dan "
                               "cuti bersama belum dihitung",
                    "message_en": f"BKD has not stored the {first.year} work calendar: working days follow the default "
                                  "(Monday to Friday less the fixed-date national holidays); other holidays and "
                                  "collective leave are not counted"})
    return out


def month_in_progress(year: int, month: int, today: date) -> dict | None:
    """The month has not ended yet: minutes and attendance will still come."""
    _, last = domain.month_bounds(year, month)
    if today > last:
        return None
    return {"code": "month_in_progress", "blocking": True, "count": 0, "who": [],
            "message": f"Bulan ini belum selesai (sampai {last.day} {MONTHS_ID[month - 1]} {year}): "
                       "kegiatan dan presensi masih akan bertambah",
            "message_en": f"The month is not over (until {last.isoformat()}): entries and attendance will still come"}


def warnings_now(run: TppRun, today: date) -> list[dict]:
    """The run's warnings as they stand today: those of its compute, and the month still running."""
    running = month_in_progress(run.year, run.month, today) if run.status != "locked" else None
    return [*(run.warnings or []), *([running] if running else [])]


def _months_awaiting_corrections(session: Session, year: int, month: int) -> list[tuple[int, int]]:
    """Locked months before this one with unsettled changes, in order."""
    changes, runs = DataChange.__table__, TppRun.__table__
    rows = session.execute(
        select(changes.c.year, changes.c.month).distinct()
        .where(changes.c.settled_at.is_(None),
               exists().where(runs.c.year == changes.c.year, runs.c.month == changes.c.month,
                              runs.c.status == "locked"),
               changes.c.year * 100 + changes.c.month < period_key(year, month))
        .order_by(changes.c.year, changes.c.month)).all()
    return [(r.year, r.month) for r in rows]


def _corrections(uow: UnitOfWork, run: TppRun, months: list[tuple[int, int]]) -> tuple[list[dict], list[dict]]:
    """Replace this run's corrections: claim the unsettled changes of locked earlier months, and
    for each (employee, locked month) they touch, pay the difference between that month's line
    recomputed now and what has been paid for it (locked line + corrections made elsewhere).
    ``months`` are the locked months to look at, already locked exclusively by the caller.
    Returns the corrections and the (employee, month) pairs that cannot be corrected because the
    employee had no line in the locked month."""
    s = uow.session
    # A recompute starts over: this run's earlier claims and corrections are undone first.
    changes, corrections = DataChange.__table__, TppCorrection.__table__
    s.execute(update(changes).where(changes.c.claimed_run_id == run.id).values(claimed_run_id=None))
    s.execute(delete(corrections).where(corrections.c.run_id == run.id))
    if not months:
        return [], []
    # Claim before reading the data: a change committed after this statement is left for a later
    # compute (and may find nothing left to correct), so no change is ever missed. (Holding those
    # months' period locks, no change to them can commit meanwhile anyway.)
    claimed = s.execute(
        update(changes)
        .where(changes.c.claimed_run_id.is_(None), changes.c.settled_at.is_(None),
               or_(*(and_(changes.c.year == y, changes.c.month == m) for y, m in months)))
        .values(claimed_run_id=run.id)
        .returning(changes.c.year, changes.c.month, changes.c.employee_id, changes.c.cause_id,
                   changes.c.cause_type, changes.c.cause_ref, changes.c.day, changes.c.recorded_at, changes.c.detail)
    ).all()
    causes: dict[tuple[int, int], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for c in claimed:
        causes[(c.year, c.month)][c.employee_id].append(c)
    made: list[dict] = []
    not_correctable: list[dict] = []
    created_at = utcnow()  # of every correction this compute makes
    for (year, month), by_employee in sorted(causes.items()):
        locked_run = s.scalar(select(TppRun).where(TppRun.year == year, TppRun.month == month))
        pol = policy_version(s, year, locked_run.policy_version)
        only = (select(DataChange.employee_id)
                .where(DataChange.claimed_run_id == run.id, DataChange.year == year, DataChange.month == month))
        lt = TppLineRow.__table__.c
        locked = {l.employee_id: l for l in s.execute(
            select(lt.employee_id, lt.nip, lt.name, lt.unit_id, lt.bank_account, lt.gross, lt.pph, lt.bpjs, lt.net,
                   lt.inputs).where(lt.run_id == locked_run.id, lt.employee_id.in_(only)))}
        earlier = {row.employee_id: domain.Figures(int(row.g), int(row.p), int(row.b), int(row.n)) for row in s.execute(
            select(TppCorrection.employee_id, func.sum(TppCorrection.gross).label("g"),
                   func.sum(TppCorrection.pph).label("p"), func.sum(TppCorrection.bpjs).label("b"),
                   func.sum(TppCorrection.net).label("n"))
            .where(TppCorrection.for_year == year, TppCorrection.for_month == month,
                   TppCorrection.employee_id.in_(only), TppCorrection.run_id != run.id)
            .group_by(TppCorrection.employee_id))}
        data = MonthReader(s, year, month, only)
        cache: dict = {}
        ids = iter(new_ids(len(by_employee)))
        # Each correction is written as soon as it is made (no query may run until the block ends).
        with repository.streamed_insert(s, TppCorrection.__table__, CORRECTION_COLUMNS) as write:
            for emp_id in sorted(by_employee):
                line = locked.get(emp_id)
                if line is None:
                    not_correctable.append({"employee_id": emp_id, "reason": "no_line_in_locked_month",
                                            "for_year": year, "for_month": month})
                    continue
                # Working days and minutes per day are the locked line's (inputs_from_explained): a
                # calendar changed after the lock is no cause of correction. The basis names their source.
                inputs, shown = data.of(emp_id).apply(pol, domain.inputs_from_explained(line.inputs), cache)
                shown = {**shown, **locked_target_source(line.inputs)}
                now = domain.compute(inputs)
                paid = domain.Figures(line.gross, line.pph, line.bpjs, line.net)
                before = earlier.get(emp_id, domain.Figures())
                delta = domain.correction(domain.Figures.of(now), paid, before)
                if not delta:
                    continue  # nothing left to pay: unchanged, or corrected already
                cited = sorted(by_employee[emp_id], key=lambda c: (c.recorded_at, c.cause_id))
                latest = cited[-1]
                row = dict(
                    id=next(ids), run_id=run.id, employee_id=emp_id, for_year=year, for_month=month, nip=line.nip, name=line.name,
                    unit_id=line.unit_id, bank_account=line.bank_account,
                    gross=delta.gross, pph=delta.pph, bpjs=delta.bpjs, net=delta.net,
                    cause={"event_id": latest.cause_id, "event_type": latest.cause_type,
                           "for_year": year, "for_month": month,
                           "text": domain.cause_text((c.cause_type, c.day, c.cause_ref, c.detail) for c in cited),
                           "changes": [{"event_id": c.cause_id, "event_type": c.cause_type, "ref": c.cause_ref,
                                        "day": c.day.isoformat() if c.day else None,
                                        **({"detail": c.detail} if c.detail else {})} for c in cited]},
                    basis={"locked": paid.as_dict(), "earlier_corrections": before.as_dict(),
                           "recomputed": {**now.explain(), **shown}, "policy_version": pol.version},
                    created_at=created_at,
                )
                write(row)
                made.append(row)
    return made, not_correctable


# --- locking -----------------------------------------------------------------------------------

def lock_run(uow: UnitOfWork, year: int, month: int, actor: str, expected_version: int | None = None,
             acknowledged: list[str] | None = None, today: date | None = None) -> TppRun:
    """Lock the month as last computed: its lines and corrections never change again. Publishes
    ``tpp.period_locked`` and ``tpp.correction_issued`` for each correction (issued now, not when
    computed, because a recompute before the lock may still replace it). Months are locked in
    order and without gaps, and no month before a locked one is computed or locked again
    (README "Lock order"), so a correction always lands after every month it could affect."""
    domain.check_period(year, month)
    s = uow.session
    repository.lock_order(s, exclusive=True)
    repository.lock_period(s, year, month, exclusive=True)
    run = _locked_run_row(s, year, month)
    if run is not None and run.status == "locked":
        raise Conflict("period_locked", PERIOD_LOCKED)
    _refuse_after_a_later_lock(s, year, month)
    if run is None:
        raise NotFound(NO_RUN, "no_run")
    if expected_version is not None and expected_version != run.version:
        raise Conflict("stale_run", Text("Perhitungan bulan ini sudah diulang orang lain; periksa lalu kunci lagi",
                                         "This month was recomputed meanwhile; review it and lock again"))
    earlier = _earlier_unlocked(s, year, month)
    if earlier:
        raise Conflict("earlier_month_open", Text(
            f"Bulan {earlier[1]:02d}/{earlier[0]} belum dikunci; kunci bulan secara berurutan",
            f"{earlier[0]}-{earlier[1]:02d} is not locked yet; lock months in order"))
    # Warnings stop a careless payment: every blocking warning of the run as it stands must be
    # named in ``acknowledged`` (the operator saw it and decided to pay anyway), else 409. Codes
    # the client adds from other services (e.g. validations still pending) are recorded with them.
    standing = warnings_now(run, today or clock.today())
    missing = sorted({w["code"] for w in standing if w.get("blocking")} - set(acknowledged or []))
    if missing:
        raise Conflict("unacknowledged_warnings", Text(
            f"Periksa dan centang setiap peringatan sebelum mengunci ({', '.join(missing)})",
            f"Review and acknowledge every warning before locking ({', '.join(missing)})"),
            {f"acknowledged_warnings.{code}": Text("Belum dicentang", "Not acknowledged") for code in missing})
    now = utcnow()
    status_before = run.status
    run.status, run.locked_at, run.locked_by = "locked", now, actor
    s.execute(update(DataChange).where(DataChange.claimed_run_id == run.id).values(settled_at=now))
    # A locked line keeps the salary it was computed with, so a salary changed after the last
    # compute has nothing left to correct (the month's pending_changes showed it before locking).
    s.execute(update(DataChange).where(DataChange.year == year, DataChange.month == month,
                                       DataChange.cause_type == "salary.changed", DataChange.settled_at.is_(None))
              .values(settled_at=now))
    corrections = s.scalars(select(TppCorrection).where(TppCorrection.run_id == run.id)
                            .order_by(TppCorrection.nip, TppCorrection.for_year, TppCorrection.for_month)).all()
    for c in corrections:
        c.issued_at = now
        uow.publish("tpp.correction_issued", {
            "correction_id": c.id, "employee_id": c.employee_id, "year": year, "month": month,
            "for_year": c.for_year, "for_month": c.for_month, "amount": c.net,
            "gross": c.gross, "pph": c.pph, "bpjs": c.bpjs, "cause": c.cause})
    uow.publish("tpp.period_locked", PeriodLocked(year=year, month=month, locked_at=now, locked_by=actor,
                                                  run_version=run.version))
    lines = s.scalars(select(TppLineRow).where(TppLineRow.run_id == run.id)).all()
    audit(uow, actor, "run.locked", f"run/{year}-{month:02d}", {
        "run_version": run.version, "totals": totals(lines), "corrections": len(corrections),
        "acknowledged_warnings": sorted(set(acknowledged or [])),
        "warnings": [{"code": w["code"], "count": w.get("count")} for w in standing],
        "correction_totals": totals(corrections)},
        before={"status": status_before, "run_version": run.version}, after={"status": "locked", "run_version": run.version})
    return run


def _earlier_unlocked(session: Session, year: int, month: int) -> tuple[int, int] | None:
    """The first month before this one that must be locked first, if any: a month with an open
    run, or any month without a locked run between the first month ever locked and this one. So
    locked months are always one unbroken sequence, every one of them earlier than every open
    month (the first lock starts it: the months before the system went live are never asked for)."""
    key = period_key(year, month)
    runs = {(y, m): status for y, m, status in session.execute(
        select(TppRun.year, TppRun.month, TppRun.status).where(TppRun.year * 100 + TppRun.month < key))}
    open_runs = sorted(k for k, status in runs.items() if status == "open")
    locked = sorted(k for k, status in runs.items() if status == "locked")
    if locked:
        y, m = locked[0]
        while period_key(y, m) < key:
            if runs.get((y, m)) != "locked":
                return min([(y, m), *open_runs])
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return open_runs[0] if open_runs else None


def pending_changes(session: Session, year: int, month: int) -> int:
    """Changes to the month's data not reflected in its run yet: for an open run, a recompute
    would change it; for a locked one, they await a correction in a later month."""
    return session.scalar(select(func.count()).select_from(DataChange).where(
        DataChange.year == year, DataChange.month == month, DataChange.settled_at.is_(None))) or 0


# --- outputs -----------------------------------------------------------------------------------

def get_run(session: Session, year: int, month: int) -> TppRun:
    domain.check_period(year, month)
    run = session.scalar(select(TppRun).where(TppRun.year == year, TppRun.month == month))
    if run is None:
        raise NotFound(NO_RUN, "no_run")
    return run


def payments(session: Session, run: TppRun, employee_id: str | None = None) -> tuple[list[TppLineRow], list[TppCorrection], list[reports.Payment]]:
    """A run's lines and corrections (of one employee, or all), and both as payments."""
    lq = select(TppLineRow).where(TppLineRow.run_id == run.id).order_by(TppLineRow.nip, TppLineRow.employee_id)
    cq = (select(TppCorrection).where(TppCorrection.run_id == run.id)
          .order_by(TppCorrection.nip, TppCorrection.for_year, TppCorrection.for_month))
    if employee_id is not None:
        lq = lq.where(TppLineRow.employee_id == employee_id)
        cq = cq.where(TppCorrection.employee_id == employee_id)
    lines, corrections = session.scalars(lq).all(), session.scalars(cq).all()
    out = [reports.Payment(l.employee_id, l.nip, l.name, l.unit_id, l.bank_account, "line",
                           domain.Figures(l.gross, l.pph, l.bpjs, l.net)) for l in lines]
    out += [reports.Payment(c.employee_id, c.nip, c.name, c.unit_id, c.bank_account, "correction",
                            domain.Figures(c.gross, c.pph, c.bpjs, c.net), c.for_year, c.for_month) for c in corrections]
    return list(lines), list(corrections), out


def unit_names(session: Session, unit_ids: set[str]) -> dict[str, tuple[str, str]]:
    """Code and name of the units organization has told us about (unit.created/unit.updated),
    by unit id; a unit not heard of yet is left out (the recap then shows its id)."""
    if not unit_ids:
        return {}
    rows = session.execute(select(Unit.unit_id, Unit.code, Unit.name).where(Unit.unit_id.in_(sorted(unit_ids))))
    return {r.unit_id: (r.code, r.name) for r in rows}
