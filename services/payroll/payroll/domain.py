"""TPP arithmetic and the month's target from the work calendar (DOMAIN.md "TPP (monthly)"), free of
any framework.

Amounts are whole rupiah (``int``). Rates, weights and deductions arrive as percents (``Decimal``,
as the policy and the attendance events carry them) and become exact ``Fraction``s, so no float
ever touches money. The gross is rounded once, at the end: rounding the parts would let the system
and BPKAD's hand computation disagree by a rupiah.

Rounding rule (also in the service README, "Rounding"):

1. ``gross = round(base × factor × (w_perf × paid productivity + w_disc × discipline)
   × status factor × (1 − sanction cut))`` — computed exactly, rounded **once**, half up (a half
   rupiah goes up: Rp 2,500,000.5 → Rp 2,500,001).
2. ``pph = round(gross × rate)``, half up.
3. ``bpjs = round(rate × min(salary + gross, cap)) − already`` where ``already`` is what the salary
   slip deducted (or ``round(rate × min(salary, cap))``), each rounded half up; never below 0 and
   never more than ``gross − pph``.
4. ``net = gross − pph − bpjs``: no rounding, it is made of whole rupiah.
5. A correction (rapel) is the difference of whole-rupiah figures (recomputed line − locked line −
   corrections already made), so it introduces no rounding of its own.
6. Totals (recap per unit, disbursement list, run totals) are plain sums of whole-rupiah lines and
   corrections, never re-derived from rates: they reconcile to the rupiah by construction.
"""
from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Iterable, Protocol, Sequence, TypeVar

from ekinerja_common.errors import DomainError, FieldErrors, Text
from ekinerja_common.workdays import WorkingDays

YEAR_MIN, YEAR_MAX = 2000, 2100


@functools.lru_cache(maxsize=4096)
def pct(value: Decimal) -> Fraction:
    """A percent as the policy stores it (``Decimal("60")``) as an exact fraction (3/5).
    Cached: a month has a handful of distinct rates and thousands of lines using them."""
    return Fraction(value) / 100


@functools.lru_cache(maxsize=4096)
def exact(value: Decimal) -> Fraction:
    return Fraction(value)


def plain(x: Decimal) -> Decimal:
    """A percent as people write it: ``25`` rather than the ``25.000`` a NUMERIC(6,3) returns
    (``normalize`` alone would make 100 ``1E+2``)."""
    return Decimal(format(x.normalize(), "f"))


def round_half_up(x: Fraction) -> int:
    """Whole rupiah, halves away from zero. Python's ``round`` rounds halves to even (2.5 -> 2),
    which is not how money is rounded here."""
    n, d = abs(x.numerator), x.denominator
    whole = (2 * n + d) // (2 * d)  # floor(|x| + 1/2), in integers
    return whole if x >= 0 else -whole


def times_half_up(amount: int, rate: Fraction) -> int:
    """``round_half_up(amount × rate)`` for a whole, non-negative amount and a non-negative rate,
    without building a Fraction (a run does this tens of thousands of times)."""
    n, d = amount * rate.numerator, rate.denominator
    return (2 * n + d) // (2 * d)


@functools.lru_cache(maxsize=4096)
def _discipline(deductions_pct: Decimal) -> Fraction:
    return max(Fraction(0), 1 - pct(deductions_pct))


@functools.lru_cache(maxsize=4096)
def _multiplier(factor: Decimal, status_factor_pct: Decimal, sanction_cut_pct: Decimal) -> Fraction:
    """factor × status factor × (1 − sanction cut)."""
    return exact(factor) * pct(status_factor_pct) * (1 - pct(sanction_cut_pct))


def check_period(year: int, month: int | None = None) -> None:
    errors = FieldErrors()
    if not YEAR_MIN <= year <= YEAR_MAX:
        errors.add("year", f"Tahun harus {YEAR_MIN}–{YEAR_MAX}", f"Year must be {YEAR_MIN}–{YEAR_MAX}")
    if month is not None and not 1 <= month <= 12:
        errors.add("month", "Bulan harus 1–12", "Month must be 1–12")
    errors.raise_if_any()


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class MonthTarget:
    """How a month's target is made: working days × minutes per working day, and where each came
    from (``bkd``: BKD's work calendar as payroll received it; ``default``: the calendar a year has
    before BKD stores one, shared with activity — ``ekinerja_common.workdays``). Lines computed
    before the shared default existed say ``policy`` (the policy's own holidays and minutes)."""

    working_days: int
    minutes_per_day: int
    calendar_source: str
    calendar_version: int | None
    minutes_per_day_source: str

    def shown(self) -> dict:
        return {"calendar_source": self.calendar_source, "calendar_version": self.calendar_version,
                "minutes_per_day_source": self.minutes_per_day_source}


def month_target(year: int, month: int, calendar: WorkingDays | None, calendar_states_minutes: bool = True) -> MonthTarget:
    """The month's target inputs: from BKD's calendar of the year when payroll has received one,
    else from the shared default calendar — the same count activity shows the employee
    (``WorkingDays.count``). ``calendar_states_minutes`` False: the received calendar carried no
    daily target (an older event), so the default 300 minutes apply."""
    if calendar is None:
        default = WorkingDays.default(year)
        return MonthTarget(default.count(month), default.minutes_per_day, "default", None, "default")
    if calendar.year != year:
        raise ValueError(f"the calendar of {calendar.year} cannot decide a month of {year}")
    return MonthTarget(calendar.count(month), calendar.minutes_per_day, "bkd", calendar.version,
                       "bkd" if calendar_states_minutes else "default")


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
    # Disciplinary sanctions (PP 94/2021) overlapping the month, combined by the policy.
    sanction_cut_pct: Decimal = Decimal(0)
    # None = linear rule. Otherwise (min_pct, pay_pct) with the highest threshold first: the
    # productivity is paid at the pay of the first bracket it reaches, 0 below them all.
    productivity_brackets: tuple[tuple[Decimal, Decimal], ...] | None = None

    @property
    def target_minutes(self) -> int:
        return self.working_days * self.minutes_per_day


@dataclass(frozen=True)
class TppLine:
    """One employee's TPP for a month: the inputs, every intermediate and the figures."""

    inputs: TppInputs
    productivity: Fraction
    productivity_paid: Fraction
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
            "productivity_rule": "linear" if i.productivity_brackets is None else "bracket",
            "productivity_brackets": None if i.productivity_brackets is None else [
                {"min_pct": str(m), "pay_pct": str(p)} for m, p in i.productivity_brackets],
            "productivity_paid": _fraction(self.productivity_paid),
            "productivity_paid_pct": _percent(self.productivity_paid),
            "deductions_pct": str(i.deductions_pct),
            "discipline": _fraction(self.discipline), "discipline_pct": _percent(self.discipline),
            "weights_pct": {"performance": str(i.perf_weight_pct), "discipline": str(i.disc_weight_pct)},
            "status_factor_pct": str(i.status_factor_pct), "sanction_cut_pct": str(i.sanction_cut_pct),
            "salary": i.salary, "pph_rate_pct": str(i.pph_rate_pct),
            "bpjs_rate_pct": str(i.bpjs_rate_pct), "bpjs_cap": i.bpjs_cap,
            "bpjs_already": self.bpjs_already, "bpjs_due": self.bpjs_due,
            "gross": self.gross, "pph": self.pph, "bpjs": self.bpjs, "net": self.net,
        }


def inputs_from_explained(d: dict) -> TppInputs:
    """The inputs of a stored line (``TppLine.explain()``), so that a locked month's line can be
    recomputed with new month data and otherwise exactly what it was locked with. Lines stored
    before brackets existed are linear."""
    brackets = d.get("productivity_brackets")
    return TppInputs(
        kelas_jabatan=d["kelas_jabatan"], base=d["base"], factor=Decimal(d["factor"]),
        employee_kind=d["employee_kind"], golongan=d["golongan"], status=d["status"],
        approved_minutes=d["approved_minutes"], working_days=d["working_days"], minutes_per_day=d["minutes_per_day"],
        deductions_pct=Decimal(d["deductions_pct"]), perf_weight_pct=Decimal(d["weights_pct"]["performance"]),
        disc_weight_pct=Decimal(d["weights_pct"]["discipline"]), status_factor_pct=Decimal(d["status_factor_pct"]),
        pph_rate_pct=Decimal(d["pph_rate_pct"]), bpjs_rate_pct=Decimal(d["bpjs_rate_pct"]), bpjs_cap=d["bpjs_cap"],
        salary=d["salary"], bpjs_already=d["bpjs_already"], sanction_cut_pct=Decimal(d["sanction_cut_pct"]),
        productivity_brackets=None if brackets is None else tuple(
            (Decimal(b["min_pct"]), Decimal(b["pay_pct"])) for b in brackets),
    )


def paid_productivity(productivity: Fraction, brackets: tuple[tuple[Decimal, Decimal], ...] | None) -> Fraction:
    """The productivity the performance share is paid at: itself (linear), or the pay of the
    highest bracket whose threshold it reaches (89.99 % does not reach 90 %)."""
    if brackets is None:
        return productivity
    for low, pay in sorted(brackets, reverse=True):
        if productivity >= pct(low):
            return pct(pay)
    return Fraction(0)


@dataclass(frozen=True)
class Figures:
    """The four amounts of a line or a correction, whole rupiah."""

    gross: int = 0
    pph: int = 0
    bpjs: int = 0
    net: int = 0

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(self.gross + other.gross, self.pph + other.pph, self.bpjs + other.bpjs, self.net + other.net)

    def __sub__(self, other: "Figures") -> "Figures":
        return Figures(self.gross - other.gross, self.pph - other.pph, self.bpjs - other.bpjs, self.net - other.net)

    def __bool__(self) -> bool:
        return any((self.gross, self.pph, self.bpjs, self.net))

    def as_dict(self) -> dict[str, int]:
        """``dataclasses.asdict`` without its deep copy (a run makes thousands)."""
        return {"gross": self.gross, "pph": self.pph, "bpjs": self.bpjs, "net": self.net}

    @classmethod
    def of(cls, line: "TppLine") -> "Figures":
        return cls(line.gross, line.pph, line.bpjs, line.net)


def correction(recomputed: Figures, locked: Figures, earlier: Figures) -> Figures:
    """What is still owed for a locked month: what its line would be now, less what was paid in
    it and in the corrections already made for it. Zero when nothing changed or when it has been
    corrected already; that is what keeps a correction from being paid twice."""
    return recomputed - locked - earlier


def _fraction(x: Fraction) -> str:
    return f"{x.numerator}/{x.denominator}"


def _percent(x: Fraction) -> str:
    """For people reading the line; the exact value is the fraction beside it."""
    return _percent_of(x.numerator, x.denominator)


@functools.lru_cache(maxsize=65536)
def _percent_of(numerator: int, denominator: int) -> str:
    # Cached: productivities are minutes over a month's target (a few thousand values), the
    # discipline a handful, so a run mostly repeats them.
    return str((Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def compute(i: TppInputs) -> TppLine:
    target = i.target_minutes
    if target <= 0:
        raise DomainError("no_working_days", Text("Bulan ini tidak memiliki hari kerja menurut kalender kerja atau kebijakan",
                                                  "The work calendar (or the policy) leaves this month without working days"))
    productivity = Fraction(min(i.approved_minutes, target), target)
    paid = paid_productivity(productivity, i.productivity_brackets)
    discipline = _discipline(i.deductions_pct)
    gross, pph, already, due, bpjs, net = figures(
        i.base, _multiplier(i.factor, i.status_factor_pct, i.sanction_cut_pct), pct(i.perf_weight_pct),
        pct(i.disc_weight_pct), paid, discipline, pct(i.pph_rate_pct), pct(i.bpjs_rate_pct), i.bpjs_cap, i.salary,
        i.bpjs_already)
    return TppLine(inputs=i, productivity=productivity, productivity_paid=paid, discipline=discipline, bpjs_already=already,
                   bpjs_due=due, gross=gross, pph=pph, bpjs=bpjs, net=net)


def figures(base: int, multiplier: Fraction, perf_weight: Fraction, disc_weight: Fraction, paid: Fraction,
            discipline: Fraction, pph_rate: Fraction, bpjs_rate: Fraction, bpjs_cap: int, salary: int | None,
            bpjs_already: int | None) -> tuple[int, int, int, int, int, int]:
    """Gross, PPh, BPJS already deducted, BPJS due, BPJS and net of a line (the module docstring's
    rule), ``multiplier`` being factor × status factor × (1 − sanction cut). The one formula of
    ``compute`` and of a run's fast path (``services.LineMaker``)."""
    # base × multiplier × (w_perf × paid + w_disc × discipline) as one integer numerator over one
    # integer denominator: Fraction arithmetic reduces by a gcd at every step, which was the
    # largest cost of a 10,000-line run. Not reducing changes nothing: floor(k·a / k·b) = floor(a / b).
    num = base * multiplier.numerator * (perf_weight.numerator * paid.numerator * disc_weight.denominator
                                         * discipline.denominator
                                         + disc_weight.numerator * discipline.numerator * perf_weight.denominator
                                         * paid.denominator)
    den = multiplier.denominator * perf_weight.denominator * paid.denominator * disc_weight.denominator * discipline.denominator
    gross = (2 * num + den) // (2 * den)  # half up, as times_half_up
    pph = times_half_up(gross, pph_rate)
    salary = salary or 0
    already = bpjs_already if bpjs_already is not None else times_half_up(min(salary, bpjs_cap), bpjs_rate)
    due = max(0, times_half_up(min(salary + gross, bpjs_cap), bpjs_rate) - already)
    # A transfer cannot be negative: when the salary slip deducted too little (bpjs_already given
    # low) the TPP pays at most what is left of it, and bpjs_due keeps the shortfall visible.
    bpjs = min(due, gross - pph)
    return gross, pph, already, due, bpjs, gross - pph - bpjs


# -- the words of a correction's cause ---------------------------------------------------------

# What changed a locked month, as BPKAD reads it on the recap and the employee on the slip.
CAUSE_WORDS = {
    "appeal.decided": "banding dikabulkan",
    "activity.approved": "kegiatan disetujui setelah bulan dikunci",
    "activity.rejected": "kegiatan ditolak setelah bulan dikunci",
    "activity.returned": "kegiatan dikembalikan setelah bulan dikunci",
    "attendance.recorded": "presensi dikoreksi",
    "sanction.recorded": "hukuman disiplin dicatat",
    "sanction.revoked": "hukuman disiplin dicabut",
    "salary.changed": "gaji pokok berubah",
}


def _codes(codes: Sequence[str] | None) -> str:
    return ", ".join(codes) if codes else "tepat waktu"  # a day without discipline codes


def cause_text(changes: Iterable[tuple[str, date | None, str | None] | tuple[str, date | None, str | None, dict | None]]) -> str:
    """``(cause_type, day, ref[, detail])`` of each change, in the order they happened, as one
    phrase per distinct cause: "banding dikabulkan (keberatan 1a2b3c4d); presensi dikoreksi
    05/10/2026 (TL2 → tepat waktu)"."""
    phrases: list[str] = []
    for cause_type, day, ref, *rest in changes:
        detail = rest[0] if rest else None
        words = CAUSE_WORDS.get(cause_type, cause_type)
        if cause_type == "appeal.decided" and ref:
            words += f" (keberatan {ref[:8]})"
        elif cause_type == "attendance.recorded" and day is not None:
            words += f" {day:%d/%m/%Y}"
            if detail and detail.get("previous_codes") is not None:
                words += f" ({_codes(detail['previous_codes'])} → {_codes(detail.get('codes'))})"
        if words not in phrases:
            phrases.append(words)
    return "; ".join(phrases)


# -- the estimate of a month still open (GET /estimates/{y}/{m}/me) -----------------------------

@dataclass(frozen=True)
class Cuts:
    """Why a gross is below the most the position pays, in rupiah, step by step: ``full`` is the
    gross at full productivity and discipline without a sanction; each cut is the difference one
    factor makes after the ones before it, so ``full − productivity − discipline − sanction`` is
    the gross exactly (each step is rounded like a real line, the steps telescope)."""

    full: int
    productivity: int
    discipline: int
    sanction: int


def cuts(i: TppInputs) -> Cuts:
    from dataclasses import replace

    clean = replace(i, deductions_pct=Decimal(0), sanction_cut_pct=Decimal(0))
    full = compute(replace(clean, approved_minutes=max(i.approved_minutes, i.target_minutes))).gross
    a = compute(clean).gross
    b = compute(replace(i, sanction_cut_pct=Decimal(0))).gross
    g = compute(i).gross
    return Cuts(full=full, productivity=full - a, discipline=a - b, sanction=b - g)


def discipline_day_cost(i: TppInputs, deduction_pct: Decimal) -> int:
    """What one day with a code of this deduction costs the gross, before any sanction: base ×
    factor × status factor × discipline weight × deduction (whole rupiah). The month's discipline
    cut is the sum of its days' while the discipline share has not run out."""
    return times_half_up(i.base, exact(i.factor) * pct(i.status_factor_pct) * pct(i.disc_weight_pct) * pct(deduction_pct))
