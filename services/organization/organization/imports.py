"""Bulk import of duties (uraian tugas) from CSV or XLSX (format: services/organization/README.md,
samples/duties.csv). Set-wise like identity's employee import: rows validated in memory with the
rules of a single duty, positions looked up by code in one query, duplicates found within the file
and against the published duties in one query, rows and events written with one executemany
INSERT per table. All or nothing unless ``partial``; every problem of every row is reported with
its line."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import insert, select

from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import Text
from ekinerja_common.uow import UnitOfWork

from . import domain
from .orm import AuditRecord, Duty, Position
from ekinerja_common.tabular import ImportRejected, RowError, RowProblems, int_cell, read_table, text_cell

REQUIRED = ("position_code", "description", "output_unit", "norma_waktu")
OPTIONAL = ("yearly_volume",)
IN_CHUNK = 10_000


@dataclass
class DutyImport:
    rows: int
    duties: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"rows": self.rows, "duties": self.duties, "rejected_lines": sorted({e.line for e in self.errors}),
                "errors": [e.as_json() for e in self.errors]}


def import_duties(uow: UnitOfWork, actor: str | None, data: bytes, *, partial: bool) -> DutyImport:
    table = read_table(data, REQUIRED, OPTIONAL)
    parsed = []
    for line, values in table.rows:
        problems = RowProblems(line)
        for name in REQUIRED:
            if values.get(name) is None:
                problems.add(name, "Wajib diisi", "Required")
        code = text_cell(values.get("position_code"), "position_code", problems)
        description = text_cell(values.get("description"), "description", problems) or ""
        output_unit = text_cell(values.get("output_unit"), "output_unit", problems) or ""
        norma = int_cell(values.get("norma_waktu"), "norma_waktu", problems)
        volume = int_cell(values.get("yearly_volume"), "yearly_volume", problems)
        problems.extend(domain.duty_problems(norma, description, output_unit, volume))
        parsed.append((problems, code, " ".join(description.split()), " ".join(output_unit.split()), norma, volume))

    codes = sorted({code for _, code, *_ in parsed if code})
    positions: dict[str, tuple[str, bool]] = {}
    for i in range(0, len(codes), IN_CHUNK):
        for pid, code, active in uow.session.execute(select(Position.id, Position.code, Position.active)
                                                     .where(Position.code.in_(codes[i:i + IN_CHUNK]))):
            positions[code] = (pid, active)
    ids = sorted({pid for pid, _ in positions.values()})
    published: set[tuple[str, str]] = set()
    for i in range(0, len(ids), IN_CHUNK):
        for pid, description in uow.session.execute(select(Duty.position_id, Duty.description).where(
                Duty.position_id.in_(ids[i:i + IN_CHUNK]), Duty.status == "published")):
            published.add((pid, domain.duty_key(description)))

    first_line: dict[tuple[str, str], int] = {}
    rows = []
    for problems, code, description, output_unit, norma, volume in parsed:
        found = positions.get(code) if code else None
        if code and found is None:
            problems.add("position_code", f"Kode jabatan '{code}' tidak dikenal", f"Unknown position code '{code}'")
        elif found is not None and not found[1]:
            problems.add("position_code", f"Jabatan '{code}' sudah dihapus", f"Position '{code}' is abolished")
        elif found is not None and description:
            key = (found[0], domain.duty_key(description))
            if key in published:
                problems.add("description", "Uraian tugas yang sama sudah ada pada jabatan ini",
                             "The same duty already exists for this position")
            earlier = first_line.setdefault(key, problems.line)
            if earlier != problems.line:
                problems.add("description", f"Uraian tugas yang sama untuk jabatan ini sudah ada di baris {earlier}",
                             f"The same duty for this position is already on line {earlier}")
        if not problems.errors and found is not None:
            rows.append({"id": str(uuid.uuid4()), "position_id": found[0], "description": description,
                         "output_unit": output_unit, "norma_waktu": norma, "status": "published", "version": 1,
                         "yearly_volume": volume})

    errors = [e for p, *_ in parsed for e in p.as_list()]
    if errors and not partial:
        raise ImportRejected(errors)
    if not rows:
        raise ImportRejected(errors, text=Text("Tidak ada baris yang valid; tidak ada yang diimpor",
                                               "No valid row; nothing imported"))
    uow.session.execute(insert(Duty), rows)
    events = [{"duty_id": r["id"], "position_id": r["position_id"], "description": r["description"],
               "output_unit": r["output_unit"], "norma_waktu": r["norma_waktu"], "version": 1,
               "yearly_volume": r["yearly_volume"]} for r in rows]
    uow.publish_many("duty.published", events)
    import_id = str(uuid.uuid4())
    now = utcnow()
    result = DutyImport(len(table.rows), len(rows), errors)
    uow.session.execute(insert(AuditRecord), [
        {"id": str(uuid.uuid4()), "at": now, "actor_account_id": actor, "action": "duty.published", "object_type": "duty",
         "object_id": e["duty_id"], "details": {**e, "import_id": import_id}, "request_id": uow.correlation_id,
         "before": None, "after": e} for e in events] + [
        {"id": import_id, "at": now, "actor_account_id": actor, "action": "duties.imported", "object_type": "import",
         "object_id": import_id, "request_id": uow.correlation_id, "before": None, "after": None, "details": {"format": table.format, "rows": result.rows, "duties": result.duties,
                                             "rejected_lines": sorted({e.line for e in errors})}}])
    return result
