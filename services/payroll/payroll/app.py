"""HTTP entry point of the payroll service: parse, authorize, call the service layer, map results
to JSON or files. BPKAD (role ``bpkad``) sets the policy and salaries, computes and locks runs and
takes the outputs; BPKAD or BKD (``admin_bkd``) record sanctions; any logged-in user may read a
year's policy; an employee sees only their own TPP line, slip and sanctions."""
from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any
from flask import Blueprint, Response, current_app, g, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ekinerja_common.auth import TokenVerifier
from ekinerja_common.auth_store import verifier_for
from ekinerja_common.config import Settings
from ekinerja_common import idempotency
from ekinerja_common import preview
from ekinerja_common.errors import DomainError, Forbidden, NotFound, Text, ValidationFailed
from ekinerja_common.runtime import Runtime
from ekinerja_common.web import accepts, create_base_app, parse_body, principal, validation_error
from ekinerja_common import clock

from . import domain, estimate, exports, money, reports, services
from .domain import Figures
from .orm import Position, TppCorrection, TppLineRow, TppRun
from .policy import TppPolicy
from .runtime import build_runtime

bp = Blueprint("payroll", __name__)

FORMATS = ("csv", "xlsx", "pdf")
CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WeightsIn(Strict):
    performance: Decimal
    discipline: Decimal


class Pph21In(Strict):
    pns: dict[str, Decimal]
    pppk: dict[str, Decimal]


class BpjsIn(Strict):
    employee_rate_pct: Decimal
    cap: int


class BracketIn(Strict):
    min_pct: Decimal
    pay_pct: Decimal


# Values (rule names, percents, weights) are checked by ``policy.parse`` rather than here, so
# that one response lists every bad field of the document, shape and values alike.
class ProductivityIn(Strict):
    rule: str = Field(max_length=20)
    brackets: list[BracketIn] = Field(default_factory=list, max_length=50)


class SanctionRuleIn(Strict):
    combine: str = Field(max_length=20)
    max_cut_pct: Decimal


class PolicyIn(Strict):
    """The whole policy document, as ``GET /policies/{year}`` returns it. ``version`` is the one
    the editor started from: saving over a newer version is refused (409)."""

    year: int | None = None
    version: int | None = None
    base_amounts: dict[str, int]
    weights_pct: WeightsIn
    cpns_factor_pct: Decimal
    pph21_pct: Pph21In
    bpjs: BpjsIn
    productivity: ProductivityIn
    discipline_deductions_pct: dict[str, Decimal]
    sanctions: SanctionRuleIn
    position_factors: dict[str, Decimal] = Field(default_factory=dict)
    # No longer part of the policy (working days are BKD's calendar or the shared default, see
    # README "The month's target"); an editor built on an older GET may still send them: ignored.
    minutes_per_day: Any = None
    holidays: Any = None


class SalaryIn(Strict):
    employee_id: str = Field(min_length=1, max_length=36)
    salary: int = Field(ge=0, le=money.MAX_SALARY)
    # Omitted: the BPJS the salary slip deducted is taken as 1 % of min(salary, cap).
    bpjs_already: int | None = Field(default=None, ge=0, le=money.MAX_SALARY)


class SalariesIn(Strict):
    salaries: list[SalaryIn] = Field(min_length=1, max_length=100_000)


class LockIn(Strict):
    """Optional: the run version the operator reviewed; locking a newer one is refused (409).
    ``acknowledged_warnings``: the codes of the warnings the operator reviewed and chose to pay
    despite; every blocking warning of the run must be among them (409 unacknowledged_warnings)."""

    version: int | None = None
    acknowledged_warnings: list[str] = Field(default_factory=list, max_length=50)


class SanctionIn(Strict):
    employee_id: str = Field(min_length=1, max_length=36)
    start_date: date
    end_date: date
    cut_pct: Decimal
    # Emptiness is checked with the other fields by the service, so every problem is listed at once.
    reference: str = Field(max_length=100)
    reason: str = Field(default="", max_length=1000)


class RevokeIn(Strict):
    reason: str = Field(min_length=1, max_length=1000)


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def policy_json(p: TppPolicy) -> dict:
    return {"year": p.year, "version": p.version, **p.document()}


def line_json(line: TppLineRow) -> dict:
    return {"employee_id": line.employee_id, "nip": line.nip, "name": line.name, "position_id": line.position_id,
            "unit_id": line.unit_id, "gross": line.gross, "pph": line.pph, "bpjs": line.bpjs, "net": line.net,
            "inputs": line.inputs}


def correction_cause(c: TppCorrection) -> str:
    """The cause in words (corrections made before the words were stored get them from the type)."""
    return c.cause.get("text") or domain.cause_text([(c.cause.get("event_type", ""), None, None)])


def correction_json(c: TppCorrection) -> dict:
    return {"id": c.id, "employee_id": c.employee_id, "nip": c.nip, "name": c.name, "unit_id": c.unit_id,
            "for_year": c.for_year, "for_month": c.for_month, "gross": c.gross, "pph": c.pph, "bpjs": c.bpjs,
            "net": c.net, "cause": c.cause, "cause_text": correction_cause(c), "basis": c.basis,
            "issued_at": c.issued_at.isoformat() if c.issued_at else None}


def run_json(session: Session, run: TppRun) -> dict:
    lines, corrections, pays = services.payments(session, run)
    line_totals, correction_totals = services.totals(lines), services.totals(corrections)
    return {"year": run.year, "month": run.month, "status": run.status, "version": run.version,
            "policy_version": run.policy_version, "computed_at": run.computed_at.isoformat(),
            "computed_by": run.computed_by,
            "locked_at": run.locked_at.isoformat() if run.locked_at else None, "locked_by": run.locked_by,
            "totals": line_totals, "correction_totals": correction_totals,
            "payable": {"employees": len({p.employee_id for p in pays}),
                        "net": line_totals["net"] + correction_totals["net"]},
            "pending_changes": services.pending_changes(session, run.year, run.month),
            "calendar": services.calendar_status(session, run),
            "skipped": run.skipped, "warnings": services.warnings_now(run, clock.today()),
            "lines": [line_json(line) for line in lines],
            "corrections": [correction_json(c) for c in corrections]}


def optional_body(model: type[BaseModel]) -> BaseModel:
    """A body that may be left out entirely; when given it must be valid."""
    if not request.get_data():
        return model()
    return parse_body(model, request.get_json(silent=True))


def file_response(data: bytes, fmt: str, filename: str) -> Response:
    return Response(data, content_type=exports.CONTENT_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{filename}.{fmt}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise NotFound(Text("Format harus csv, xlsx atau pdf", "The format must be csv, xlsx or pdf"), "unknown_format")


# --- policy ------------------------------------------------------------------------------------

@bp.get("/policies/<int:year>")
def get_policy(year: int):
    """The year's TPP policy (logged in); a year never configured shows the defaults (a read,
    so nothing is stored: they are stored as version 1 when first used)."""
    principal()
    with runtime().session_factory() as s:
        return policy_json(services.policy_to_show(s, year))


@bp.put("/policies/<int:year>")
@accepts(PolicyIn)
def put_policy(year: int, body: PolicyIn):
    """Store a new version of the year's TPP policy (role bpkad); every field is validated, every
    problem listed at once. ``?dry_run=true`` checks it all and stores nothing (the editor's
    "Periksa" before saving)."""
    who = principal()
    who.require("bpkad")
    if body.year is not None and body.year != year:
        raise ValidationFailed({"year": Text("Tahun berbeda dengan tahun di alamat", "Year differs from the one in the URL")})
    dry_run = preview.dry_run_requested(request.args)
    document = body.model_dump(mode="json", exclude={"year", "version", "minutes_per_day", "holidays"})
    with runtime().uow(g.request_id) as uow:
        p = services.replace_policy(uow, year, document, who.account_id, body.version)
        preview.finish(uow, dry_run)
    return {**policy_json(p), **({"dry_run": True} if dry_run else {})}


@bp.get("/policies/<int:year>/versions")
def policy_versions(year: int):
    """Every stored version of the year's TPP policy, newest first, with who stored it and when
    and the whole document (role bpkad): the editor shows what each change changed."""
    principal().require("bpkad")
    with runtime().session_factory() as s:
        rows = services.policy_versions(s, year)
        return {"year": year, "versions": [{"version": r.version, "created_at": r.created_at.isoformat(),
                                            "created_by": r.created_by, "document": r.document} for r in rows]}


# --- salaries ----------------------------------------------------------------------------------

@bp.put("/salaries/<int:year>/<int:month>")
@accepts(SalariesIn)
def put_salaries(year: int, month: int, body: SalariesIn):
    """Record the month's salaries and the BPJS already deducted from them (role bpkad)."""
    who = principal()
    who.require("bpkad")
    with runtime().uow(g.request_id) as uow:
        saved = services.set_salaries(uow, year, month, [s.model_dump() for s in body.salaries], who.account_id)
        uow.commit()
    return {"year": year, "month": month, "saved": saved}


@bp.post("/salaries/<int:year>/<int:month>/import")
def import_salaries(year: int, month: int):
    """Import the month's salaries from a CSV (role bpkad): body text/csv, or multipart with field
    ``file``. Columns nip, gaji_pokok, bpjs_dipotong (optional). Every bad row is listed as
    ``rows.<line>.<field>``; nothing is stored unless the whole file is valid, or ``?partial=true``
    (the good rows are stored and the bad ones returned). ``?dry_run=true``: the preview, nothing
    stored."""
    who = principal()
    who.require("bpkad")
    flag = request.args.get("partial", "false").strip().lower()
    if flag not in ("true", "false", "1", "0", "yes", "no"):
        raise ValidationFailed({"partial": Text("Harus true atau false", "Must be true or false")})
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed({"file": Text("Lampirkan berkas CSV pada kolom file", "Attach the CSV file as field file")})
        content = upload.read()
    elif request.mimetype in CSV_TYPES:
        content = request.get_data()
    else:
        raise DomainError("unsupported_media_type", Text("Kirim berkas CSV (text/csv atau multipart/form-data)",
                                                         "Send a CSV file (text/csv or multipart/form-data)"), status=415)
    dry_run = preview.dry_run_requested(request.args)
    with runtime().uow(g.request_id) as uow:
        result = services.import_salaries(uow, year, month, content, who.account_id, flag in ("true", "1", "yes"))
        preview.finish(uow, dry_run)
    return {**result, **({"dry_run": True} if dry_run else {})}


# --- sanctions ---------------------------------------------------------------------------------

@bp.post("/sanctions")
@accepts(SanctionIn)
def post_sanction(body: SanctionIn):
    """Record a disciplinary sanction (roles bpkad, admin_bkd): a percentage cut of the TPP of
    every month from start_date to end_date overlaps; locked months get a correction."""
    who = principal()
    who.require("bpkad", "admin_bkd")
    with runtime().uow(g.request_id) as uow:
        s = services.record_sanction(uow, **body.model_dump(), actor=who.account_id)
        uow.commit()
        return services.sanction_json(s), 201


@bp.get("/sanctions")
def get_sanctions():
    """Sanctions (bpkad, admin_bkd: anyone's, filter ?employee_id=&year=; an employee: their own)."""
    who = principal()
    employee_id = request.args.get("employee_id") or None
    year = request.args.get("year")
    if year is not None and not (year.isdigit() and 2000 <= int(year) <= 2100):
        raise ValidationFailed({"year": Text("Tahun harus 2000–2100", "Year must be 2000–2100")})
    if not who.has("bpkad", "admin_bkd"):
        if not who.employee_id:
            raise Forbidden()
        if employee_id not in (None, who.employee_id):
            raise Forbidden()
        employee_id = who.employee_id
    with runtime().session_factory() as s:
        return {"sanctions": [services.sanction_json(x) for x in services.list_sanctions(s, employee_id, int(year) if year else None)]}


@bp.post("/sanctions/<sanction_id>/revoke")
@accepts(RevokeIn)
def revoke_sanction(sanction_id: str, body: RevokeIn):
    """Revoke a sanction (roles bpkad, admin_bkd), with a reason; the record stays."""
    who = principal()
    who.require("bpkad", "admin_bkd")
    with runtime().uow(g.request_id) as uow:
        s = services.revoke_sanction(uow, sanction_id, body.reason, who.account_id)
        uow.commit()
        return services.sanction_json(s)


# --- runs --------------------------------------------------------------------------------------

@bp.post("/runs/<int:year>/<int:month>/compute")
@idempotency.idempotent
def compute_run(year: int, month: int):
    """Compute every employee's TPP line for the month and the corrections of locked earlier months
    (role bpkad); replaces an open run's lines and corrections. 409 period_locked once locked."""
    who = principal()
    who.require("bpkad")
    with runtime().uow(g.request_id) as uow:
        run = services.compute_run(uow, year, month, who.account_id)
        uow.commit()
        return run_json(uow.session, run)


@bp.post("/runs/<int:year>/<int:month>/lock")
def lock_run(year: int, month: int):
    """Lock the month as last computed (role bpkad); optional body {version}. Publishes
    tpp.period_locked and tpp.correction_issued; months lock in order."""
    who = principal()
    who.require("bpkad")
    body = optional_body(LockIn)
    with runtime().uow(g.request_id) as uow:
        run = services.lock_run(uow, year, month, who.account_id, body.version, body.acknowledged_warnings)
        uow.commit()
        return run_json(uow.session, run)


@bp.get("/runs/<int:year>/<int:month>")
def get_run(year: int, month: int):
    """The month's run with every line, correction and the totals (role bpkad)."""
    principal().require("bpkad")
    with runtime().session_factory() as s:
        return run_json(s, services.get_run(s, year, month))


def own_employee() -> str:
    who = principal()
    who.require("pegawai")
    if not who.employee_id:
        raise Forbidden(Text("Akun ini tidak terhubung dengan data pegawai", "This account is not linked to an employee"))
    return who.employee_id


@bp.get("/runs/<int:year>/<int:month>/me")
def my_line(year: int, month: int):
    """The caller's own TPP line for the month with its inputs and corrections (role pegawai)."""
    employee_id = own_employee()
    with runtime().session_factory() as s:
        run = s.scalar(select(TppRun).where(TppRun.year == year, TppRun.month == month))
        lines, corrections, pays = services.payments(s, run, employee_id) if run else ([], [], [])
    if not pays:
        raise NotFound(Text("Belum ada TPP Anda untuk bulan ini", "No TPP line of yours for this month"))
    line = line_json(lines[0]) if lines else {"employee_id": employee_id, "gross": None, "pph": None, "bpjs": None,
                                               "net": None, "inputs": None}
    return {"year": run.year, "month": run.month, "status": run.status, "run_version": run.version, **line,
            "corrections": [correction_json(c) for c in corrections], "payable": sum(p.figures.net for p in pays)}


class EstimateQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Minutes waiting for the supervisor (from the employee's month): "if they are approved".
    pending_minutes: int = Field(default=0, ge=0, le=100_000)


@bp.get("/estimates/<int:year>/<int:month>/me")
def my_estimate(year: int, month: int):
    """The caller's TPP estimate for a month not locked yet: computed like the run (the year's
    policy, position, status, the approved minutes and attendance received so far, sanctions,
    the salary) for them alone, with each cut in rupiah. ``pending_minutes`` adds what the
    entries still waiting would give once approved (``with_pending``). Nothing is stored."""
    employee_id = own_employee()
    try:
        q = EstimateQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise validation_error(exc)
    with runtime().uow(g.request_id) as uow:
        body = estimate.estimate(uow, employee_id, year, month, q.pending_minutes)
        uow.commit()  # the year's default policy, if this was its first reading
    return body


@bp.get("/runs/<int:year>/<int:month>/slips/<employee_id>.pdf")
def slip(year: int, month: int, employee_id: str):
    """An employee's TPP slip as PDF (the employee themself, or role bpkad)."""
    who = principal()
    if not (who.has("bpkad") or (who.employee_id == employee_id and who.has("pegawai"))):
        raise Forbidden()
    with runtime().session_factory() as s:
        run = services.get_run(s, year, month)
        lines, corrections, _ = services.payments(s, run, employee_id)
        if not lines and not corrections:
            raise NotFound(Text("Tidak ada TPP pegawai ini untuk bulan ini", "No TPP of this employee for this month"))
        main = lines[0] if lines else corrections[0]
        # Names, not ids or codes: the unit and position as organization last announced them.
        unit = services.unit_names(s, {main.unit_id}).get(main.unit_id)
        position = s.get(Position, lines[0].position_id) if lines else None
    data = exports.slip_pdf(
        year=year, month=month, status=run.status, nip=main.nip, name=main.name,
        unit=" - ".join(unit) if unit else "(nama unit belum tercatat di BPKAD)",
        position=position.name if position else None, inputs=lines[0].inputs if lines else None,
        line=Figures(lines[0].gross, lines[0].pph, lines[0].bpjs, lines[0].net) if lines else None,
        corrections=[exports.SlipCorrection(c.for_year, c.for_month, Figures(c.gross, c.pph, c.bpjs, c.net),
                                            correction_cause(c)) for c in corrections])
    return file_response(data, "pdf", f"slip-tpp-{year}-{month:02d}-{main.nip}")


def _render(sheet: exports.Sheet, fmt: str) -> bytes:
    return {"csv": exports.to_csv, "xlsx": exports.to_xlsx, "pdf": exports.to_pdf}[fmt](sheet)


def unit_recap_json(u: reports.UnitRecap) -> dict:
    return {"unit_id": u.unit_id, "code": u.code, "name": u.name, "label": u.label, "employees": u.employees,
            "lines": dataclasses.asdict(u.lines), "corrections": dataclasses.asdict(u.corrections),
            "payable": u.payable}


@bp.get("/runs/<int:year>/<int:month>/recap.<fmt>")
def recap(year: int, month: int, fmt: str):
    """The month's recap per unit as json, csv, xlsx or pdf (role bpkad); totals equal the run's.
    A unit shows its code and name once organization has published it (unit.created/updated),
    else its id."""
    principal().require("bpkad")
    if fmt != "json":
        check_format(fmt)
    with runtime().session_factory() as s:
        run = services.get_run(s, year, month)
        _, _, pays = services.payments(s, run)
        r = reports.recap(pays, services.unit_names(s, {p.unit_id for p in pays}))
    if fmt == "json":
        total = unit_recap_json(r.total)
        return {"year": year, "month": month, "status": run.status, "run_version": run.version,
                "units": [unit_recap_json(u) for u in r.units],
                "total": {k: total[k] for k in ("employees", "lines", "corrections", "payable")}}
    sheet = exports.recap_sheet(year, month, run.status, r)
    return file_response(_render(sheet, fmt), fmt, f"rekap-tpp-{year}-{month:02d}")


@bp.get("/runs/<int:year>/<int:month>/disbursement.<fmt>")
def disbursement(year: int, month: int, fmt: str):
    """The bank disbursement list (NIP, name, account, amount) as csv, xlsx or pdf (role bpkad)."""
    principal().require("bpkad")
    check_format(fmt)
    with runtime().session_factory() as s:
        run = services.get_run(s, year, month)
        _, _, pays = services.payments(s, run)
    sheet = exports.disbursement_sheet(year, month, run.status, reports.disbursement(pays))
    return file_response(_render(sheet, fmt), fmt, f"pembayaran-tpp-{year}-{month:02d}")


def create_app(settings: Settings | None = None, verifier: TokenVerifier | None = None):
    rt = build_runtime(settings)
    verifier = verifier or verifier_for(rt)
    app = create_base_app("payroll", verifier, rt.check_ready, "E-Kinerja payroll (BPKAD)",
                          "The yearly TPP policy, monthly TPP runs (gross, PPh 21, BPJS, net), the period lock, "
                          "corrections (rapel), sanctions, salary import and the slip, recap and disbursement files.")
    app.extensions["runtime"] = rt
    app.register_blueprint(bp)
    return app
