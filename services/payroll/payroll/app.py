"""HTTP entry point of the payroll service: parse, authorize, call the service layer, map results
to JSON. BPKAD (role ``bpkad``) sets the policy and salaries and computes runs; any logged-in user
may read a year's policy; an employee sees only their own TPP line."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, current_app, g
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ekinerja_common.auth import JwksKeySource, TokenVerifier
from ekinerja_common.config import Settings
from ekinerja_common.errors import Forbidden, NotFound, Text, ValidationFailed
from ekinerja_common.runtime import Runtime
from ekinerja_common.web import accepts, create_base_app, principal

from . import services
from .orm import TppLineRow, TppRun
from .policy import Policy
from .runtime import build_runtime

bp = Blueprint("payroll", __name__)

NO_RUN = Text("Perhitungan TPP bulan ini belum ada", "No TPP run for this month")


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


class PolicyIn(Strict):
    """The whole policy document, as ``GET /policies/{year}`` returns it. ``version`` is the one
    the editor started from: saving over a newer version is refused (409)."""

    year: int | None = None
    version: int | None = None
    base_amounts: dict[str, int]
    weights_pct: WeightsIn
    minutes_per_day: int
    holidays: list[date]
    cpns_factor_pct: Decimal
    pph21_pct: Pph21In
    bpjs: BpjsIn


class SalaryIn(Strict):
    employee_id: str = Field(min_length=1, max_length=36)
    salary: int = Field(ge=0)
    # Omitted: the BPJS the salary slip deducted is taken as 1 % of min(salary, cap).
    bpjs_already: int | None = Field(default=None, ge=0)


class SalariesIn(Strict):
    salaries: list[SalaryIn] = Field(min_length=1, max_length=100_000)


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def policy_json(p: Policy) -> dict:
    return {"year": p.year, "version": p.version, **p.document()}


def line_json(line: TppLineRow) -> dict:
    return {"employee_id": line.employee_id, "nip": line.nip, "name": line.name, "position_id": line.position_id,
            "unit_id": line.unit_id, "gross": line.gross, "pph": line.pph, "bpjs": line.bpjs, "net": line.net,
            "inputs": line.inputs}


def run_json(session: Session, run: TppRun) -> dict:
    lines = session.scalars(select(TppLineRow).where(TppLineRow.run_id == run.id).order_by(TppLineRow.nip)).all()
    return {"year": run.year, "month": run.month, "status": run.status, "version": run.version,
            "policy_version": run.policy_version, "computed_at": run.computed_at.isoformat(),
            "computed_by": run.computed_by, "totals": services.totals(lines), "skipped": run.skipped,
            "lines": [line_json(line) for line in lines]}


@bp.get("/policies/<int:year>")
def get_policy(year: int):
    """The year's TPP policy (logged in); a year never configured starts from the defaults."""
    who = principal()
    with runtime().uow(g.request_id) as uow:
        p = services.current_policy(uow, year, who.account_id)
        uow.commit()
    return policy_json(p)


@bp.put("/policies/<int:year>")
@accepts(PolicyIn)
def put_policy(year: int, body: PolicyIn):
    """Store a new version of the year's TPP policy (role bpkad); every field is validated."""
    who = principal()
    who.require("bpkad")
    if body.year is not None and body.year != year:
        raise ValidationFailed({"year": Text("Tahun berbeda dengan tahun di alamat", "Year differs from the one in the URL")})
    document = body.model_dump(mode="json", exclude={"year", "version"})
    with runtime().uow(g.request_id) as uow:
        p = services.replace_policy(uow, year, document, who.account_id, body.version)
        uow.commit()
    return policy_json(p)


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


@bp.post("/runs/<int:year>/<int:month>/compute")
def compute_run(year: int, month: int):
    """Compute every employee's TPP line for the month (role bpkad); replaces an open run's lines."""
    who = principal()
    who.require("bpkad")
    with runtime().uow(g.request_id) as uow:
        run = services.compute_run(uow, year, month, who.account_id)
        uow.commit()
        return run_json(uow.session, run)


@bp.get("/runs/<int:year>/<int:month>")
def get_run(year: int, month: int):
    """The month's run with every line and the totals (role bpkad)."""
    principal().require("bpkad")
    with runtime().session_factory() as s:
        run = s.scalar(select(TppRun).where(TppRun.year == year, TppRun.month == month))
        if run is None:
            raise NotFound(NO_RUN)
        return run_json(s, run)


@bp.get("/runs/<int:year>/<int:month>/me")
def my_line(year: int, month: int):
    """The caller's own TPP line for the month with its inputs (role pegawai)."""
    who = principal()
    who.require("pegawai")
    if not who.employee_id:
        raise Forbidden(Text("Akun ini tidak terhubung dengan data pegawai", "This account is not linked to an employee"))
    with runtime().session_factory() as s:
        found = s.execute(
            select(TppLineRow, TppRun).join(TppRun, TppRun.id == TppLineRow.run_id)
            .where(TppRun.year == year, TppRun.month == month, TppLineRow.employee_id == who.employee_id)
        ).first()
    if found is None:
        raise NotFound(Text("Belum ada TPP Anda untuk bulan ini", "No TPP line of yours for this month"))
    line, run = found
    return {"year": run.year, "month": run.month, "status": run.status, "run_version": run.version, **line_json(line)}


def create_app(settings: Settings | None = None, verifier: TokenVerifier | None = None):
    rt = build_runtime(settings)
    verifier = verifier or TokenVerifier(JwksKeySource(rt.settings.jwks_url), rt.settings.jwt_issuer, rt.settings.jwt_audience)
    app = create_base_app("payroll", verifier, rt.check_ready, "E-Kinerja payroll (BPKAD)",
                          "The yearly TPP policy and the monthly TPP runs: gross, PPh 21, BPJS and net per employee.")
    app.extensions["runtime"] = rt
    app.register_blueprint(bp)
    return app
