"""TPP arithmetic and the work calendar (DOMAIN.md "TPP (monthly)"), free of any framework.

Amounts are whole rupiah (``int``). Rates, weights and deductions arrive as percents (``Decimal``,
as the policy and the attendance events carry them) and become exact ``Fraction``s, so no float
ever touches money. The gross is rounded once, at the end: rounding the parts would let the system
and BPKAD's hand computation disagree by a rupiah.
"""
from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Iterable, Protocol, Sequence, TypeVar

from ekinerja_common.errors import DomainError, FieldErrors, Text

YEAR_MIN, YEAR_MAX = 2000, 2100


def pct(value: Decimal) -> Fraction:
    """A percent as the policy stores it (``Decimal("60")``) as an exact fraction (3/5)."""
    return Fraction(value) / 100


def round_half_up(x: Fraction) -> int:
    """Whole rupiah, halves away from zero. Python's ``round`` rounds halves to even (2.5 -> 2),
    which is not how money is rounded here."""
    whole = math.floor(abs(x) + Fraction(1, 2))
    return whole if x >= 0 else -whole


def check_period(year: int, month: int | None = None) -> None:
    errors = FieldErrors()
    if not YEAR_MIN <= year <= YEAR_MAX:
        errors.add("year", f"Tahun harus {YEAR_MIN}–{YEAR_MAX}", f"Year must be {YEAR_MIN}–{YEAR_MAX}")
    if month is not None and not 1 <= month <= 12:
        errors.add("month", "Bulan harus 1–12", "Month must be 1–12")
    errors.raise_if_any()


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def working_days(year: int, month: int, holidays: Iterable[date]) -> int:
    """Monday to Friday of the month, less the holidays that fall on one of them."""
    first, last = month_bounds(year, month)
    off = set(holidays)
    days = (first + timedelta(n) for n in range((last - first).days + 1))
    return sum(1 for d in days if d.weekday() < 5 and d not in off)


class Dated(Protocol):
    start_date: date
    end_date: date | None


P = TypeVar("P", bound=Dated)


def month_placement(placements: Sequence[P], last_day: date) -> P:
    """The placement that decides the month's position, among those overlapping the month: the one
    still running on its last day, else the one that ran latest (a move mid-month pays the new
    position for the whole month, as the payroll does for salary)."""
    def rank(p: P) -> tuple[bool, date, date]:
        end = p.end_date or last_day
        return (end >= last_day, min(end, last_day), p.start_date)

    return max(placements, key=rank)


@dataclass(frozen=True)
class TppInputs:
    """Everything one employee's monthly TPP depends on, already resolved from the policy."""

    kelas_jabatan: int
    base: int
    factor: Decimal
    employee_kind: str
    golongan: str
    status: str
    approved_minutes: int
    working_days: int
    minutes_per_day: int
    deductions_pct: Decimal
    perf_weight_pct: Decimal
    disc_weight_pct: Decimal
    status_factor_pct: Decimal
    pph_rate_pct: Decimal
    bpjs_rate_pct: Decimal
    bpjs_cap: int
    # None = no salary recorded for the month: BPJS is then due on the TPP alone (nothing was
    # deducted from a salary we know of), and the line shows the salary as missing.
    salary: int | None
    # What the salary slip already deducted for BPJS; None = derive it as rate x min(salary, cap),
    # which is what the salary payroll deducts when it follows the same Perpres.
    bpjs_already: int | None = None
    # Disciplinary sanctions (PP 94/2021) are not recorded yet; the cut is kept as an input so
    # that adding them changes no formula.
    sanction_cut_pct: Decimal = Decimal(0)

    @property
    def target_minutes(self) -> int:
        return self.working_days * self.minutes_per_day


@dataclass(frozen=True)
class TppLine:
    """One employee's TPP for a month: the inputs, every intermediate and the figures."""

    inputs: TppInputs
    productivity: Fraction
    discipline: Fraction
    bpjs_already: int
    bpjs_due: int
    gross: int
    pph: int
    bpjs: int
    net: int

    def explain(self) -> dict:
        """The line as JSON-ready data: why each figure is what it is."""
        i = self.inputs
        return {
            "kelas_jabatan": i.kelas_jabatan, "base": i.base, "factor": str(i.factor),
            "employee_kind": i.employee_kind, "golongan": i.golongan, "status": i.status,
            "approved_minutes": i.approved_minutes, "working_days": i.working_days,
            "minutes_per_day": i.minutes_per_day, "target_minutes": i.target_minutes,
            "productivity": _fraction(self.productivity), "productivity_pct": _percent(self.productivity),
            "deductions_pct": str(i.deductions_pct),
            "discipline": _fraction(self.discipline), "discipline_pct": _percent(self.discipline),
            "weights_pct": {"performance": str(i.perf_weight_pct), "discipline": str(i.disc_weight_pct)},
            "status_factor_pct": str(i.status_factor_pct), "sanction_cut_pct": str(i.sanction_cut_pct),
            "salary": i.salary, "pph_rate_pct": str(i.pph_rate_pct),
            "bpjs_rate_pct": str(i.bpjs_rate_pct), "bpjs_cap": i.bpjs_cap,
            "bpjs_already": self.bpjs_already, "bpjs_due": self.bpjs_due,
            "gross": self.gross, "pph": self.pph, "bpjs": self.bpjs, "net": self.net,
        }


def _fraction(x: Fraction) -> str:
    return f"{x.numerator}/{x.denominator}"


def _percent(x: Fraction) -> str:
    """For people reading the line; the exact value is the fraction beside it."""
    return str((Decimal(x.numerator) * 100 / Decimal(x.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def compute(i: TppInputs) -> TppLine:
    target = i.target_minutes
    if target <= 0:
        raise DomainError("no_working_days", Text("Bulan ini tidak memiliki hari kerja menurut kebijakan",
                                                  "The policy leaves this month without working days"))
    productivity = Fraction(min(i.approved_minutes, target), target)
    discipline = max(Fraction(0), 100 - Fraction(i.deductions_pct)) / 100
    score = pct(i.perf_weight_pct) * productivity + pct(i.disc_weight_pct) * discipline
    gross = round_half_up(i.base * Fraction(i.factor) * score * pct(i.status_factor_pct) * (1 - pct(i.sanction_cut_pct)))
    pph = round_half_up(gross * pct(i.pph_rate_pct))
    rate = pct(i.bpjs_rate_pct)
    salary = i.salary or 0
    already = i.bpjs_already if i.bpjs_already is not None else round_half_up(rate * min(salary, i.bpjs_cap))
    due = max(0, round_half_up(rate * min(salary + gross, i.bpjs_cap)) - already)
    # A transfer cannot be negative: when the salary slip deducted too little (bpjs_already given
    # low) the TPP pays at most what is left of it, and bpjs_due keeps the shortfall visible.
    bpjs = min(due, gross - pph)
    return TppLine(inputs=i, productivity=productivity, discipline=discipline, bpjs_already=already,
                   bpjs_due=due, gross=gross, pph=pph, bpjs=bpjs, net=gross - pph - bpjs)
