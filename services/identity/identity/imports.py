"""Bulk import of employees (with an optional first placement) and of placements of existing
employees, from CSV or XLSX (formats: services/identity/README.md, samples/).

Set-wise, because BKD loads a whole regency at once: every row is validated in memory with the
same rules as the single-record endpoints, duplicates are found within the file and against the
database with one query, positions are looked up by code with one query, and the rows, their
audit records and their events go in as one executemany INSERT per table — never one ORM flush
per row.

All or nothing by default: one bad row and nothing is stored, and the answer lists every problem
of every row with its line number. ``partial=True`` stores the good rows and reports the bad.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from sqlalchemy import String, any_, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import Conflict, DomainError, Text, ValidationFailed
from ekinerja_common.uow import UnitOfWork

from . import domain
from .orm import AuditRecord, Employee, Placement, PositionRef
from ekinerja_common.tabular import ImportRejected, RowError, RowProblems, date_cell, read_table, text_cell

EMPLOYEE_REQUIRED = ("nip", "name", "employee_kind", "status", "golongan")
EMPLOYEE_OPTIONAL = ("bank_account", "npwp", "position_code", "placement_kind", "start_date", "end_date")
PLACEMENT_REQUIRED = ("nip", "position_code", "start_date")
PLACEMENT_OPTIONAL = ("kind", "end_date")
# Core tables, not ORM classes, for the executemany INSERTs: the rows are plain dicts already, and
# the ORM's bulk path would only add per-row bookkeeping.
EMPLOYEES, PLACEMENTS, AUDIT = Employee.__table__, Placement.__table__, AuditRecord.__table__
# Values per IN (...) list: well under SQLite's and PostgreSQL's bind-parameter limits, and a
# 10,000-row file still needs a single query.
IN_CHUNK = 10_000


@dataclass
class ImportResult:
    rows: int
    employees: int = 0
    placements: int = 0
    ended: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"rows": self.rows, "employees": self.employees, "placements": self.placements,
                "placements_ended": self.ended, "rejected_lines": sorted({e.line for e in self.errors}),
                "errors": [e.as_json() for e in self.errors]}


@dataclass
class _PlacementRow:
    position_code: str | None
    kind: str
    start: date | None
    end: date | None
    position_id: str | None = None


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), IN_CHUNK):
        yield values[i:i + IN_CHUNK]


def _among(uow: UnitOfWork, column, values: list[str]):
    """``column IN values`` for one chunk. On PostgreSQL as ``= ANY(array)``: one bind parameter
    instead of thousands, which the driver would otherwise parse out of the statement one by one."""
    if uow.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(String)))
    return column.in_(values)


def _required(values: dict[str, Any], names: Iterable[str], problems: RowProblems) -> None:
    for name in names:
        if values.get(name) is None:
            problems.add(name, "Wajib diisi", "Required")


def _positions_by_code(uow: UnitOfWork, codes: set[str]) -> dict[str, tuple[str, bool]]:
    found: dict[str, tuple[str, bool]] = {}
    for chunk in _chunks(sorted(codes)):
        for pid, code, active in uow.session.execute(
                select(PositionRef.position_id, PositionRef.code, PositionRef.active).where(_among(uow, PositionRef.code, chunk))):
            found[code] = (pid, active)
    return found


def _placement_cells(values: dict[str, Any], kind_column: str, problems: RowProblems, optional: bool) -> _PlacementRow | None:
    code = text_cell(values.get("position_code"), "position_code", problems)
    raw_kind = text_cell(values.get(kind_column), kind_column, problems)
    start = date_cell(values.get("start_date"), "start_date", problems)
    end = date_cell(values.get("end_date"), "end_date", problems)
    if optional and code is None:
        # An employee row without a placement: the placement columns must then stay empty.
        for name in (kind_column, "start_date", "end_date"):
            if values.get(name) is not None:
                problems.add(name, "Diisi tanpa position_code", "Given without a position_code")
        return None
    kind = (raw_kind or "definitive").lower()
    if kind not in domain.PLACEMENT_KINDS:
        problems.add(kind_column, "Jenis penempatan harus definitive atau plt", "Placement kind must be definitive or plt")
    if code is not None and start is None and values.get("start_date") is None:
        problems.add("start_date", "Wajib diisi bersama position_code", "Required with a position_code")
    if start is not None and end is not None and end < start:
        problems.add("end_date", "Tanggal selesai tidak boleh sebelum tanggal mulai", "End date cannot be before the start date")
    return _PlacementRow(code, kind, start, end)


def _resolve_position(row: _PlacementRow, positions: dict[str, tuple[str, bool]], problems: RowProblems) -> None:
    if row.position_code is None:
        return
    found = positions.get(row.position_code)
    if found is None:
        problems.add("position_code", f"Kode jabatan '{row.position_code}' tidak dikenal",
                     f"Unknown position code '{row.position_code}'")
    elif not found[1]:
        problems.add("position_code", f"Jabatan '{row.position_code}' sudah dihapus", f"Position '{row.position_code}' is abolished")
    else:
        row.position_id = found[0]


def _finish(problems_by_line: list[RowProblems], rows: int, partial: bool) -> list[RowError]:
    errors = [e for p in problems_by_line for e in p.as_list()]
    if errors and not partial:
        raise ImportRejected(errors)
    if len({e.line for e in errors}) == rows:
        raise ImportRejected(errors, text=Text("Tidak ada baris yang valid; tidak ada yang diimpor",
                                               "No valid row; nothing imported"))
    return errors


def _audit_rows(uow: UnitOfWork, actor: str | None, action: str, object_type: str, items: list[dict], id_key: str,
                import_id: str) -> list[dict]:
    now = utcnow()
    return [{"id": str(uuid.uuid4()), "at": now, "actor_account_id": actor, "action": action, "object_type": object_type,
             "object_id": item[id_key], "details": {**item, "import_id": import_id}, "request_id": uow.correlation_id,
             "before": None, "after": item} for item in items]


def _summary(uow: UnitOfWork, actor: str | None, action: str, import_id: str, result: ImportResult, fmt: str) -> None:
    uow.session.execute(insert(AUDIT).values(
        id=str(uuid.uuid4()), at=utcnow(), actor_account_id=actor, action=action, object_type="import",
        object_id=import_id, request_id=uow.correlation_id, details={"format": fmt, "rows": result.rows, "employees": result.employees,
                                      "placements": result.placements, "placements_ended": result.ended,
                                      "rejected_lines": sorted({e.line for e in result.errors})}))


def _duplicate_race() -> Conflict:
    # The one-query duplicate check ran, then another request stored one of these NIPs.
    return Conflict("duplicate_nip", Text("NIP yang sama baru saja didaftarkan oleh permintaan lain; ulangi impor",
                                          "The same NIP was just registered by another request; repeat the import"))


# -- employees ------------------------------------------------------------------------------------

def import_employees(uow: UnitOfWork, actor: str | None, data: bytes, *, partial: bool, today: date) -> ImportResult:
    table = read_table(data, EMPLOYEE_REQUIRED, EMPLOYEE_OPTIONAL)
    checked: list[tuple[RowProblems, domain.Personnel | None, _PlacementRow | None]] = []
    first_line: dict[str, int] = {}
    for line, values in table.rows:
        problems = RowProblems(line)
        _required(values, EMPLOYEE_REQUIRED, problems)
        cells = {name: text_cell(values.get(name), name, problems, numbers)
                 for name, numbers in (("nip", "refuse"), ("name", "allow"), ("employee_kind", "allow"),
                                       ("status", "allow"), ("golongan", "allow"), ("bank_account", "refuse"),
                                       ("npwp", "refuse"))}
        facts = None
        try:
            facts = domain.check_personnel(nip=cells["nip"] or "", name=cells["name"] or "",
                                           employee_kind=(cells["employee_kind"] or "").upper(),
                                           status=(cells["status"] or "").upper(), golongan=cells["golongan"] or "",
                                           bank_account=cells["bank_account"], npwp=cells["npwp"], today=today)
        except ValidationFailed as exc:
            problems.extend(exc.fields)
        if facts is not None:
            earlier = first_line.setdefault(facts.nip, line)
            if earlier != line:
                problems.add("nip", f"NIP yang sama sudah ada di baris {earlier}", f"The same NIP is already on line {earlier}")
        placement = _placement_cells(values, "placement_kind", problems, optional=True)
        checked.append((problems, facts, placement))

    # One query each for the NIPs already registered and for the positions named.
    nips = sorted({f.nip for _, f, _ in checked if f is not None})
    registered: set[str] = set()
    for chunk in _chunks(nips):
        registered.update(uow.session.scalars(select(Employee.nip).where(_among(uow, Employee.nip, chunk))))
    positions = _positions_by_code(uow, {p.position_code for _, _, p in checked if p and p.position_code})
    for problems, facts, placement in checked:
        if facts is not None and facts.nip in registered:
            problems.add("nip", "NIP sudah terdaftar", "NIP already registered")
        if placement is not None:
            _resolve_position(placement, positions, problems)

    errors = _finish([p for p, _, _ in checked], len(table.rows), partial)
    employees: list[dict] = []
    placements: list[dict] = []
    for problems, facts, placement in checked:
        if problems.errors or facts is None:
            continue
        eid = str(uuid.uuid4())
        employees.append({"id": eid, "nip": facts.nip, "name": facts.name, "employee_kind": facts.employee_kind,
                          "status": facts.status, "golongan": facts.golongan, "bank_account": facts.bank_account,
                          "npwp": facts.npwp, "active": True, "version": 1})
        if placement is not None and placement.position_id is not None:
            placements.append({"id": str(uuid.uuid4()), "employee_id": eid, "position_id": placement.position_id,
                               "start_date": placement.start, "end_date": placement.end, "kind": placement.kind,
                               "version": 1})
    now = utcnow()
    try:
        uow.session.execute(insert(EMPLOYEES), [{**e, "created_at": now, "updated_at": now} for e in employees])
    except IntegrityError:
        raise _duplicate_race() from None
    if placements:
        uow.session.execute(insert(PLACEMENTS), [{**p, "created_at": now} for p in placements])
    result = ImportResult(len(table.rows), len(employees), len(placements), 0, errors)
    _publish(uow, actor, employees, placements, [], table.format, "employees.imported", result)
    return result


def _publish(uow: UnitOfWork, actor: str | None, employees: list[dict], new: list[dict], ended: list[dict], fmt: str,
             action: str, result: ImportResult) -> None:
    """Events through the outbox and audit records, each set in one executemany INSERT."""
    import_id = str(uuid.uuid4())
    registered = [_employee_event(e) for e in employees]
    placed_new = [_placement_event(p) for p in new]
    placed_ended = [_placement_event(p) for p in ended]
    uow.publish_many("employee.registered", registered)
    uow.publish_many("employee.placed", placed_ended + placed_new)
    audits = (_audit_rows(uow, actor, "employee.registered", "employee", registered, "employee_id", import_id)
              + _audit_rows(uow, actor, "placement.ended", "placement", placed_ended, "placement_id", import_id)
              + _audit_rows(uow, actor, "employee.placed", "placement", placed_new, "placement_id", import_id))
    if audits:
        uow.session.execute(insert(AUDIT), audits)
    _summary(uow, actor, action, import_id, result, fmt)


def _employee_event(e: dict) -> dict:
    # The same fields as services.employee_data, from the row dict (no ORM object per row).
    return {"employee_id": e["id"], "nip": e["nip"], "name": e["name"], "employee_kind": e["employee_kind"],
            "status": e["status"], "golongan": e["golongan"], "bank_account": e["bank_account"], "active": e["active"],
            "version": e["version"]}


def _placement_event(p: dict) -> dict:
    return {"placement_id": p["id"], "employee_id": p["employee_id"], "position_id": p["position_id"],
            "start_date": p["start_date"].isoformat(), "end_date": p["end_date"].isoformat() if p["end_date"] else None,
            "kind": p["kind"], "version": p["version"]}


# -- placements of existing employees -------------------------------------------------------------

def import_placements(uow: UnitOfWork, actor: str | None, data: bytes, *, partial: bool) -> ImportResult:
    """Placements (transfers, Plt assignments) of registered employees. Rows apply in file order
    with the rules of a single placement: a definitive placement ends the open one the day before
    it starts; overlaps are refused, also against rows earlier in the same file."""
    table = read_table(data, PLACEMENT_REQUIRED, PLACEMENT_OPTIONAL)
    parsed: list[tuple[RowProblems, str | None, _PlacementRow | None]] = []
    for line, values in table.rows:
        problems = RowProblems(line)
        _required(values, PLACEMENT_REQUIRED, problems)
        nip = text_cell(values.get("nip"), "nip", problems, "refuse")
        placement = _placement_cells(values, "kind", problems, optional=False)
        parsed.append((problems, domain.normalize_nip(nip) if nip else None, placement))

    nips = sorted({n for _, n, _ in parsed if n})
    employees: dict[str, tuple[str, bool]] = {}
    for chunk in _chunks(nips):
        # Locked like a single placement locks its employee: no concurrent change of the same
        # people's placements between the check below and the insert.
        for eid, nip, active in uow.session.execute(select(Employee.id, Employee.nip, Employee.active)
                                                    .where(_among(uow, Employee.nip, chunk)).with_for_update()):
            employees[nip] = (eid, active)
    positions = _positions_by_code(uow, {p.position_code for _, _, p in parsed if p and p.position_code})
    ids = [eid for eid, _ in employees.values()]
    history: dict[str, list[domain.Span]] = {eid: [] for eid in ids}
    stored: dict[str, Placement] = {}
    for chunk in _chunks(ids):
        for p in uow.session.scalars(select(Placement).where(_among(uow, Placement.employee_id, chunk))):
            history[p.employee_id].append(domain.Span(p.id, p.position_id, p.kind, p.start_date, p.end_date))
            stored[p.id] = p

    new: dict[str, dict] = {}
    changed_ends: dict[str, date] = {}
    for problems, nip, placement in parsed:
        employee_id = None
        if nip is not None:
            found = employees.get(nip)
            if found is None:
                problems.add("nip", "NIP tidak terdaftar", "NIP not registered")
            elif not found[1]:
                problems.add("nip", "Pegawai tidak aktif tidak dapat ditempatkan", "An inactive employee cannot be placed")
            else:
                employee_id = found[0]
        if placement is not None:
            _resolve_position(placement, positions, problems)
        if problems.errors or employee_id is None or placement is None or placement.position_id is None:
            continue
        assert placement.start is not None  # required, and no problem was reported
        spans = history[employee_id]
        try:
            ends = domain.plan_placement(spans, placement.position_id, placement.kind, placement.start, placement.end)
        except DomainError as exc:
            problems.extend(exc.fields or {"start_date": exc.text})
            continue
        for i, span in enumerate(spans):
            if span.id in ends:
                spans[i] = domain.Span(span.id, span.position_id, span.kind, span.start, ends[span.id])
                if span.id in new:
                    new[span.id]["end_date"] = ends[span.id]
                else:
                    changed_ends[span.id] = ends[span.id]
        pid = str(uuid.uuid4())
        spans.append(domain.Span(pid, placement.position_id, placement.kind, placement.start, placement.end))
        new[pid] = {"id": pid, "employee_id": employee_id, "position_id": placement.position_id,
                    "start_date": placement.start, "end_date": placement.end, "kind": placement.kind, "version": 1}

    errors = _finish([p for p, _, _ in parsed], len(table.rows), partial)
    ended = []
    for pid, end in changed_ends.items():
        p = stored[pid]
        ended.append({"id": p.id, "employee_id": p.employee_id, "position_id": p.position_id, "start_date": p.start_date,
                      "end_date": end, "kind": p.kind, "version": p.version + 1})
    if ended:
        uow.session.execute(update(Placement), [{"id": e["id"], "end_date": e["end_date"], "version": e["version"]}
                                                for e in ended])
    now = utcnow()
    if new:
        uow.session.execute(insert(PLACEMENTS), [{**p, "created_at": now} for p in new.values()])
    result = ImportResult(len(table.rows), 0, len(new), len(ended), errors)
    _publish(uow, actor, [], list(new.values()), ended, table.format, "placements.imported", result)
    return result
