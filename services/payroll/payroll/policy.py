"""The yearly TPP policy as a value: validation of its document and the lookups a run needs.

Plain Python, like ``domain``. The document is JSON (percents as decimal strings, amounts as
whole rupiah, dates ``YYYY-MM-DD``), the form it is stored and served in.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ekinerja_common.errors import FieldErrors

KELAS = range(1, 18)
PNS_GROUPS = ("I", "II", "III", "IV")
PPPK_GRADES = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV", "XVI",
               "XVII")


@dataclass(frozen=True)
class Policy:
    year: int
    version: int
    base_amounts: dict[int, int]
    perf_weight_pct: Decimal
    disc_weight_pct: Decimal
    minutes_per_day: int
    holidays: tuple[date, ...]
    cpns_factor_pct: Decimal
    pph21_pns_pct: dict[str, Decimal]
    pph21_pppk_pct: dict[str, Decimal]
    bpjs_rate_pct: Decimal
    bpjs_cap: int

    def document(self) -> dict:
        return {
            "base_amounts": {str(k): v for k, v in sorted(self.base_amounts.items())},
            "weights_pct": {"performance": str(self.perf_weight_pct), "discipline": str(self.disc_weight_pct)},
            "minutes_per_day": self.minutes_per_day,
            "holidays": [d.isoformat() for d in self.holidays],
            "cpns_factor_pct": str(self.cpns_factor_pct),
            "pph21_pct": {"pns": {k: str(v) for k, v in self.pph21_pns_pct.items()},
                          "pppk": {k: str(v) for k, v in self.pph21_pppk_pct.items()}},
            "bpjs": {"employee_rate_pct": str(self.bpjs_rate_pct), "cap": self.bpjs_cap},
        }

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


def parse(year: int, version: int, doc: dict[str, Any]) -> Policy:
    """Validate a policy document, listing every bad field at once, and return the policy."""
    errors = FieldErrors()
    bases = _base_amounts(errors, doc.get("base_amounts"))
    weights = doc.get("weights_pct") or {}
    perf = _pct(errors, "weights_pct.performance", weights.get("performance"))
    disc = _pct(errors, "weights_pct.discipline", weights.get("discipline"))
    if perf is not None and disc is not None and perf + disc != 100:
        errors.add("weights_pct", "Bobot kinerja dan disiplin harus berjumlah 100 %",
                   "The performance and discipline weights must add up to 100 %")
    minutes = doc.get("minutes_per_day")
    if not _whole(minutes) or not 1 <= minutes <= 24 * 60:
        errors.add("minutes_per_day", "Menit kerja per hari harus bilangan bulat 1–1440",
                   "Minutes per working day must be a whole number 1–1440")
        minutes = 0
    holidays = _holidays(errors, year, doc.get("holidays"))
    cpns = _pct(errors, "cpns_factor_pct", doc.get("cpns_factor_pct"))
    pph = doc.get("pph21_pct") or {}
    pns_rates = _rate_table(errors, "pph21_pct.pns", pph.get("pns"), PNS_GROUPS)
    pppk_rates = _rate_table(errors, "pph21_pct.pppk", pph.get("pppk"), PPPK_GRADES)
    bpjs = doc.get("bpjs") or {}
    bpjs_rate = _pct(errors, "bpjs.employee_rate_pct", bpjs.get("employee_rate_pct"))
    cap = bpjs.get("cap")
    if not _whole(cap) or cap <= 0:
        errors.add("bpjs.cap", "Batas atas dasar BPJS harus rupiah bulat positif", "The BPJS cap must be positive whole rupiah")
    errors.raise_if_any()
    return Policy(year=year, version=version, base_amounts=bases, perf_weight_pct=perf, disc_weight_pct=disc,
                  minutes_per_day=minutes, holidays=holidays, cpns_factor_pct=cpns, pph21_pns_pct=pns_rates,
                  pph21_pppk_pct=pppk_rates, bpjs_rate_pct=bpjs_rate, bpjs_cap=cap)


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
        else:
            out[kelas] = value
    return out


def _rate_table(errors: FieldErrors, name: str, raw: Any, keys: tuple[str, ...]) -> dict[str, Decimal]:
    raw = raw if isinstance(raw, dict) else {}
    for key in raw.keys() - set(keys):
        errors.add(f"{name}.{key}", "Golongan tidak dikenal", "Unknown golongan")
    rates = {key: _pct(errors, f"{name}.{key}", raw.get(key)) for key in keys}
    return {k: v for k, v in rates.items() if v is not None}


def _holidays(errors: FieldErrors, year: int, raw: Any) -> tuple[date, ...]:
    if not isinstance(raw, list):
        errors.add("holidays", "Harus berupa daftar tanggal", "Must be a list of dates")
        return ()
    days = set()
    for n, item in enumerate(raw):
        try:
            day = date.fromisoformat(item) if isinstance(item, str) else item
        except ValueError:
            day = None
        if not isinstance(day, date) or day.year != year:
            errors.add(f"holidays.{n}", f"Harus tanggal di tahun {year} (YYYY-MM-DD)", f"Must be a date in {year} (YYYY-MM-DD)")
        else:
            days.add(day)
    return tuple(sorted(days))
