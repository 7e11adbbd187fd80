"""The yearly TPP policy as a value: validation of its document and the lookups a run needs.

Plain Python, like ``domain``. The document is JSON (percents as decimal strings, amounts as
whole rupiah), the form it is stored and served in. Its discipline deduction table is the one
both services price attendance codes with (activity receives it as ``tpp.deductions_updated``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ekinerja_common import discipline
from ekinerja_common.errors import FieldErrors

from . import money

KELAS = range(1, 18)
# The discipline codes activity assigns (DOMAIN.md "Attendance and discipline"); the policy must
# price every one of them. Other codes (leave, official travel, ...) may be listed too.
REQUIRED_CODES = discipline.DISCIPLINE_CODES
CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,19}$")
PRODUCTIVITY_RULES = ("linear", "bracket")
SANCTION_COMBINES = ("max", "sum")
# Organization refuses position factors outside (0, 5]; an override may not go further.
MAX_FACTOR = Decimal(5)
PNS_GROUPS = ("I", "II", "III", "IV")
PPPK_GRADES = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV", "XVI",
               "XVII")


@dataclass(frozen=True)
class TppPolicy:
    year: int
    version: int
    base_amounts: dict[int, int]
    perf_weight_pct: Decimal
    disc_weight_pct: Decimal
    cpns_factor_pct: Decimal
    pph21_pns_pct: dict[str, Decimal]
    pph21_pppk_pct: dict[str, Decimal]
    bpjs_rate_pct: Decimal
    bpjs_cap: int
    # "linear": paid productivity = productivity; "bracket": the pay of the highest bracket whose
    # threshold the productivity reaches, 0 below the lowest. Brackets are (min_pct, pay_pct),
    # highest threshold first.
    productivity_rule: str = "linear"
    productivity_brackets: tuple[tuple[Decimal, Decimal], ...] = ()
    # Percent of the discipline share deducted per day carrying the code.
    deductions_pct: dict[str, Decimal] = field(default_factory=dict)
    # How overlapping sanctions of one month combine: the largest cut, or their sum; never more
    # than max_cut_pct.
    sanction_combine: str = "max"
    sanction_max_cut_pct: Decimal = Decimal(100)
    # BPKAD's own factor for a position code, winning over the factor organization publishes.
    position_factors: dict[str, Decimal] = field(default_factory=dict)

    def document(self) -> dict:
        return {
            "base_amounts": {str(k): v for k, v in sorted(self.base_amounts.items())},
            "weights_pct": {"performance": str(self.perf_weight_pct), "discipline": str(self.disc_weight_pct)},
            "cpns_factor_pct": str(self.cpns_factor_pct),
            "pph21_pct": {"pns": {k: str(v) for k, v in self.pph21_pns_pct.items()},
                          "pppk": {k: str(v) for k, v in self.pph21_pppk_pct.items()}},
            "bpjs": {"employee_rate_pct": str(self.bpjs_rate_pct), "cap": self.bpjs_cap},
            "productivity": {"rule": self.productivity_rule,
                             "brackets": [{"min_pct": str(m), "pay_pct": str(p)} for m, p in self.productivity_brackets]},
            "discipline_deductions_pct": {code: str(v) for code, v in self.deductions_pct.items()},
            "sanctions": {"combine": self.sanction_combine, "max_cut_pct": str(self.sanction_max_cut_pct)},
            "position_factors": {code: str(v) for code, v in sorted(self.position_factors.items())},
        }

    @property
    def brackets(self) -> tuple[tuple[Decimal, Decimal], ...] | None:
        """The bracket table a line is computed with, None under the linear rule."""
        return self.productivity_brackets if self.productivity_rule == "bracket" else None

    def factor_for(self, position_code: str, published: Decimal) -> tuple[Decimal, str]:
        """The factor a position is paid with and where it comes from ("policy" or "position")."""
        override = self.position_factors.get(position_code)
        return (override, "policy") if override is not None else (Decimal(published), "position")

    def deduction_pct(self, code_days: dict[str, int]) -> tuple[Decimal, dict[str, int]]:
        """The month's total deduction from the days per code, and the codes this policy does not
        price (they deduct nothing; the run lists them so that BPKAD can add them). The same
        pricing activity applies to show the month (``ekinerja_common.discipline.price``)."""
        return discipline.price(code_days, self.deductions_pct)

    def sanction_cut_pct(self, cuts: list[Decimal]) -> Decimal:
        if not cuts:
            return Decimal(0)
        combined = max(cuts) if self.sanction_combine == "max" else sum(cuts, Decimal(0))
        return min(combined, self.sanction_max_cut_pct)

    def base_for(self, kelas_jabatan: int) -> int | None:
        return self.base_amounts.get(kelas_jabatan)

    def status_factor_pct(self, status: str) -> Decimal:
        return self.cpns_factor_pct if status == "CPNS" else Decimal(100)

    def pph_rate_pct(self, employee_kind: str, golongan: str) -> Decimal | None:
        """The PPh 21 rate of a golongan: "III/b" of a PNS or CPNS by its group "III", a PPPK by
        its grade "IX". None when the golongan is not one the policy knows."""
        group = golongan.split("/", 1)[0].strip().upper()
        table = self.pph21_pppk_pct if employee_kind == "PPPK" else self.pph21_pns_pct
        return table.get(group)


def parse(year: int, version: int, doc: dict[str, Any]) -> TppPolicy:
    """Validate a policy document, listing every bad field at once, and return the policy."""
    errors = FieldErrors()
    bases = _base_amounts(errors, doc.get("base_amounts"))
    weights = doc.get("weights_pct") or {}
    perf = _pct(errors, "weights_pct.performance", weights.get("performance"))
    disc = _pct(errors, "weights_pct.discipline", weights.get("discipline"))
    if perf is not None and disc is not None and perf + disc != 100:
        errors.add("weights_pct", "Bobot kinerja dan disiplin harus berjumlah 100 %",
                   "The performance and discipline weights must add up to 100 %")
    # ``minutes_per_day`` and ``holidays`` were a second work calendar (the fallback target);
    # working days are BKD's calendar or the shared default now (ekinerja_common.workdays), so a
    # version stored with them reads back without them.
    cpns = _pct(errors, "cpns_factor_pct", doc.get("cpns_factor_pct"))
    pph = doc.get("pph21_pct") or {}
    pns_rates = _rate_table(errors, "pph21_pct.pns", pph.get("pns"), PNS_GROUPS)
    pppk_rates = _rate_table(errors, "pph21_pct.pppk", pph.get("pppk"), PPPK_GRADES)
    bpjs = doc.get("bpjs") or {}
    bpjs_rate = _pct(errors, "bpjs.employee_rate_pct", bpjs.get("employee_rate_pct"))
    cap = bpjs.get("cap")
    if not _whole(cap) or cap <= 0:
        errors.add("bpjs.cap", "Batas atas dasar BPJS harus rupiah bulat positif", "The BPJS cap must be positive whole rupiah")
    elif cap > money.MAX_BPJS_CAP:
        errors.add("bpjs.cap", f"Batas atas dasar BPJS paling banyak {money.rupiah(money.MAX_BPJS_CAP)}",
                   f"The BPJS cap is at most {money.rupiah(money.MAX_BPJS_CAP)}")
    rule, brackets = _productivity(errors, doc.get("productivity"))
    deductions = _deductions(errors, doc.get("discipline_deductions_pct"))
    sanctions = doc.get("sanctions") if isinstance(doc.get("sanctions"), dict) else {}
    combine = sanctions.get("combine")
    if combine not in SANCTION_COMBINES:
        errors.add("sanctions.combine", "Harus max atau sum", "Must be max or sum")
    max_cut = _pct(errors, "sanctions.max_cut_pct", sanctions.get("max_cut_pct"))
    factors = _factors(errors, doc.get("position_factors"))
    errors.raise_if_any()
    return TppPolicy(year=year, version=version, base_amounts=bases, perf_weight_pct=perf, disc_weight_pct=disc,
                  cpns_factor_pct=cpns, pph21_pns_pct=pns_rates,
                  pph21_pppk_pct=pppk_rates, bpjs_rate_pct=bpjs_rate, bpjs_cap=cap, productivity_rule=rule,
                  productivity_brackets=brackets, deductions_pct=deductions, sanction_combine=combine,
                  sanction_max_cut_pct=max_cut, position_factors=factors)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _pct(errors: FieldErrors, name: str, raw: Any) -> Decimal | None:
    try:
        value = Decimal(str(raw)) if raw is not None and not isinstance(raw, bool) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not 0 <= value <= 100:
        errors.add(name, "Harus persen 0–100", "Must be a percent 0–100")
        return None
    return value


def _base_amounts(errors: FieldErrors, raw: Any) -> dict[int, int]:
    raw = raw if isinstance(raw, dict) else {}
    for key in raw.keys() - {str(k) for k in KELAS}:
        errors.add(f"base_amounts.{key}", "Kelas jabatan hanya 1–17", "Kelas jabatan is 1–17")
    out = {}
    for kelas in KELAS:
        value = raw.get(str(kelas))
        if not _whole(value) or value <= 0:
            errors.add(f"base_amounts.{kelas}", f"Besaran TPP kelas {kelas} wajib diisi dengan rupiah bulat positif",
                       f"The base amount of kelas {kelas} must be positive whole rupiah")
        elif value > money.MAX_TPP_BASE:
            errors.add(f"base_amounts.{kelas}",
                       f"Besaran TPP kelas {kelas} paling banyak {money.rupiah(money.MAX_TPP_BASE)} sebulan",
                       f"The base amount of kelas {kelas} is at most {money.rupiah(money.MAX_TPP_BASE)} a month")
        else:
            out[kelas] = value
    return out


def _rate_table(errors: FieldErrors, name: str, raw: Any, keys: tuple[str, ...]) -> dict[str, Decimal]:
    raw = raw if isinstance(raw, dict) else {}
    for key in raw.keys() - set(keys):
        errors.add(f"{name}.{key}", "Golongan tidak dikenal", "Unknown golongan")
    rates = {key: _pct(errors, f"{name}.{key}", raw.get(key)) for key in keys}
    return {k: v for k, v in rates.items() if v is not None}


def _decimal(raw: Any) -> Decimal | None:
    try:
        value = Decimal(str(raw)) if raw is not None and not isinstance(raw, bool) else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def _productivity(errors: FieldErrors, raw: Any) -> tuple[str, tuple[tuple[Decimal, Decimal], ...]]:
    raw = raw if isinstance(raw, dict) else {}
    rule = raw.get("rule")
    if rule not in PRODUCTIVITY_RULES:
        errors.add("productivity.rule", "Aturan produktivitas harus linear atau bracket",
                   "The productivity rule must be linear or bracket")
    items = raw.get("brackets", [])
    if not isinstance(items, list) or len(items) > 50:
        errors.add("productivity.brackets", "Harus daftar berisi paling banyak 50 rentang",
                   "Must be a list of at most 50 brackets")
        return rule, ()
    brackets: list[tuple[Decimal, Decimal]] = []
    for n, item in enumerate(items):
        item = item if isinstance(item, dict) else {}
        low = _pct(errors, f"productivity.brackets.{n}.min_pct", item.get("min_pct"))
        pay = _pct(errors, f"productivity.brackets.{n}.pay_pct", item.get("pay_pct"))
        if low is not None and pay is not None:
            if any(low == b[0] for b in brackets):
                errors.add(f"productivity.brackets.{n}.min_pct", "Ambang batas tercantum dua kali",
                           "Threshold listed twice")
            brackets.append((low, pay))
    brackets.sort(reverse=True)
    if rule == "bracket" and not items:
        errors.add("productivity.brackets", "Aturan bracket memerlukan paling sedikit satu rentang",
                   "The bracket rule needs at least one bracket")
    # More approved work must never pay less: the pay may not fall as the threshold rises.
    for (high, high_pay), (_, low_pay) in zip(brackets, brackets[1:]):
        if high_pay < low_pay:
            errors.add("productivity.brackets", f"Pembayaran rentang ≥ {high} % lebih kecil dari rentang di bawahnya",
                       f"The bracket ≥ {high} % pays less than the bracket below it")
            break
    return rule, tuple(brackets)


def _deductions(errors: FieldErrors, raw: Any) -> dict[str, Decimal]:
    raw = raw if isinstance(raw, dict) else {}
    out = {}
    for code in REQUIRED_CODES:
        if code not in raw:
            errors.add(f"discipline_deductions_pct.{code}", f"Potongan untuk kode {code} wajib diisi",
                       f"The deduction of code {code} is required")
    for code, value in raw.items():
        name = f"discipline_deductions_pct.{code}"
        if not isinstance(code, str) or not CODE_PATTERN.match(code):
            errors.add(name, "Kode harus huruf besar/angka, diawali huruf, paling panjang 20",
                       "A code is capital letters/digits starting with a letter, at most 20 long")
            continue
        pct = _pct(errors, name, value)
        # Three decimals at most: a month's sum then stays exact in the NUMERIC(7,3) it is shown as.
        if pct is not None and pct.as_tuple().exponent < -3:
            errors.add(name, "Paling banyak 3 angka di belakang koma", "At most 3 decimal places")
        elif pct is not None:
            out[code] = pct
    return dict(sorted(out.items()))


def _factors(errors: FieldErrors, raw: Any) -> dict[str, Decimal]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        errors.add("position_factors", "Harus objek kode jabatan → faktor", "Must map position codes to factors")
        return {}
    out = {}
    for code, value in raw.items():
        name = f"position_factors.{code}"
        factor = _decimal(value)
        if not isinstance(code, str) or not 1 <= len(code.strip()) <= 50:
            errors.add(name, "Kode jabatan 1–50 karakter", "Position code of 1–50 characters")
        elif factor is None or not 0 < factor <= MAX_FACTOR or factor.as_tuple().exponent < -4:
            errors.add(name, f"Faktor harus di atas 0 dan paling besar {MAX_FACTOR}, paling banyak 4 desimal",
                       f"The factor must be above 0 and at most {MAX_FACTOR}, at most 4 decimals")
        else:
            out[code.strip()] = factor
    return out
