"""The discipline codes and the one deduction table (issue 12: it lived in activity's calendar and
in payroll's policy, and the two could disagree).

Who owns what (decided with issue 12, DOMAIN.md "every number is policy data"):

- **activity** (BKD) classifies a day: which code applies (TL1–TL4, PSW1–PSW4, TK, or an excused
  leave/duty code of its calendar), from the schedule and the punches;
- **payroll** (BPKAD) prices the codes: the percent of the discipline share each code deducts is
  part of the yearly TPP policy (``discipline_deductions_pct``). Payroll announces every change of
  a year's table as ``tpp.deductions_updated``; activity keeps the latest of each year and prices
  with it (the day's ``deduction_pct`` it reports, the month's discipline % it shows).
- Until BPKAD edits a year, both use :func:`default_table` from here, so the answer is the same in
  both services whether or not the event has arrived.

Pricing is :func:`price` in both services: Σ days × rate over the month's codes; a code the table
does not price deducts nothing and is reported (payroll lists it in the run's warnings).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Mapping

LATE = ("TL1", "TL2", "TL3", "TL4")
EARLY = ("PSW1", "PSW2", "PSW3", "PSW4")
ABSENT = "TK"
DISCIPLINE_CODES = LATE + EARLY + (ABSENT,)

# The central tukin table (Permentan 68/2012) many regions adopt: percent per day with the code.
DEFAULT_DEDUCTIONS_PCT = {"TL1": "0.5", "TL2": "1", "TL3": "1.5", "TL4": "2",
                          "PSW1": "0.5", "PSW2": "1", "PSW3": "1.5", "PSW4": "2", "TK": "3"}
# The leave and duty codes a year's calendar starts with (BKD edits them in activity). They excuse
# the day; the default table prices them at 0, so that a code missing from the table stands out.
DEFAULT_EXCUSED = {"CUTI": "Cuti tahunan", "SAKIT": "Sakit", "DL": "Dinas luar", "TB": "Tugas belajar",
                   "CB": "Cuti besar", "CM": "Cuti melahirkan", "CAP": "Cuti karena alasan penting",
                   "DIKLAT": "Pendidikan dan pelatihan"}

Table = Mapping[str, Decimal]


def default_table() -> dict[str, Decimal]:
    """The table a year has until BPKAD edits it: the discipline codes' rates, excused codes at 0."""
    return {**{code: Decimal(v) for code, v in DEFAULT_DEDUCTIONS_PCT.items()},
            **{code: Decimal(0) for code in DEFAULT_EXCUSED}}


def price(code_days: Mapping[str, int], table: Table) -> tuple[Decimal, dict[str, int]]:
    """A month's total deduction (percent) from its days per code, and the codes the table does
    not price (days per code; they deduct nothing)."""
    total = Decimal(0)
    unpriced: dict[str, int] = {}
    for code, days in code_days.items():
        rate = table.get(code)
        if rate is None:
            unpriced[code] = days
        else:
            total += rate * days
    return total, unpriced


def day_deduction(codes: Iterable[str], table: Table) -> Decimal:
    """One day's deduction (percent): the sum of its codes' rates."""
    return price({c: 1 for c in codes}, table)[0]


def table_text(table: Table) -> dict[str, str]:
    """A table as events and JSON carry it: percents as decimal strings without float noise."""
    return {code: format(Decimal(v).normalize(), "f") for code, v in sorted(table.items())}
