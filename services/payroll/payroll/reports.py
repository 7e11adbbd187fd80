"""What a month pays, as the outputs show it: the unit recap, the bank disbursement list and the
safety rule for spreadsheet cells. Plain Python, no I/O; ``exports`` renders these as files.

Every figure here is a sum of whole-rupiah lines and corrections, never re-derived from rates, so
the run's totals, the recap's total and the disbursement total are equal by construction:

    Σ line.net + Σ correction.net  =  Σ unit payable  =  Σ transfer amounts (signed)

A person is paid in one transfer: their line's net plus their corrections (which may be negative,
an overpayment recovered). When that sum is negative nothing can be transferred; the row says
``recover`` and the amount stays in the signed total, so the totals still reconcile and BPKAD sees
what is to be recovered (``transfer_total − recover_total = total``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .domain import Figures

# A spreadsheet treats a cell starting with one of these as a formula (CSV/formula injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Text for a CSV/XLSX cell that a spreadsheet shows as text, never runs: a leading ``'``
    before a formula character. Amounts are written as numbers and do not pass through here, so a
    negative correction stays a number."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def format_nip(nip: str) -> str:
    """``198609262015051001`` → ``19860926 201505 1 001``, as the NIP is printed."""
    return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}" if len(nip) == 18 and nip.isdigit() else nip


def rupiah(amount: int) -> str:
    """Indonesian grouping: ``4.640.000``, ``-25.000``."""
    return ("-" if amount < 0 else "") + f"{abs(amount):,}".replace(",", ".")


@dataclass(frozen=True)
class Payment:
    """One line (kind ``line``) or correction (kind ``correction``, for an earlier month) of a run."""

    employee_id: str
    nip: str
    name: str
    unit_id: str
    bank_account: str | None
    kind: str
    figures: Figures
    for_year: int | None = None
    for_month: int | None = None


@dataclass(frozen=True)
class UnitRecap:
    unit_id: str
    employees: int
    lines: Figures
    corrections: Figures
    code: str | None = None
    name: str | None = None

    @property
    def payable(self) -> int:
        return self.lines.net + self.corrections.net

    @property
    def label(self) -> str:
        """``CODE - Name`` when organization has told us the unit, else its id."""
        return f"{self.code} - {self.name}" if self.code and self.name else self.unit_id


@dataclass(frozen=True)
class Recap:
    units: list[UnitRecap]
    total: UnitRecap


def recap(payments: list[Payment], units: Mapping[str, tuple[str, str]] | None = None) -> Recap:
    """Per unit (the unit of the position paid; a correction counts in the unit of the month it
    corrects), ordered by label (code and name where ``units`` knows the unit id, else the id),
    and the total."""
    units_known = units or {}
    by_unit: dict[str, tuple[set[str], Figures, Figures]] = {}
    for p in payments:
        people, lines, corrections = by_unit.get(p.unit_id, (set(), Figures(), Figures()))
        people = people | {p.employee_id}
        if p.kind == "line":
            lines = lines + p.figures
        else:
            corrections = corrections + p.figures
        by_unit[p.unit_id] = (people, lines, corrections)
    units = sorted((UnitRecap(unit, len(people), lines, corrections, *units_known.get(unit, (None, None)))
                    for unit, (people, lines, corrections) in by_unit.items()), key=lambda u: (u.label, u.unit_id))
    everyone = {p.employee_id for p in payments}
    total = UnitRecap("", len(everyone), sum((u.lines for u in units), Figures()),
                      sum((u.corrections for u in units), Figures()))
    return Recap(units, total)


@dataclass(frozen=True)
class Transfer:
    employee_id: str
    nip: str
    name: str
    bank_account: str | None
    amount: int

    @property
    def status(self) -> str:
        """``transfer`` (to pay), ``nil`` (nothing to pay) or ``recover`` (the person owes it)."""
        return "transfer" if self.amount > 0 else "nil" if self.amount == 0 else "recover"


@dataclass(frozen=True)
class Disbursement:
    rows: list[Transfer]

    @property
    def total(self) -> int:
        return sum(t.amount for t in self.rows)

    @property
    def transfer_total(self) -> int:
        return sum(t.amount for t in self.rows if t.amount > 0)

    @property
    def recover_total(self) -> int:
        return -sum(t.amount for t in self.rows if t.amount < 0)

    @property
    def missing_accounts(self) -> int:
        return sum(1 for t in self.rows if t.amount > 0 and not t.bank_account)


def disbursement(payments: list[Payment]) -> Disbursement:
    """One row per person, ordered by NIP: their line's net plus their corrections' net. Name and
    account come from their line when they have one (the month being paid), else from their
    latest correction."""
    people: dict[str, list[Payment]] = {}
    for p in payments:
        people.setdefault(p.employee_id, []).append(p)
    rows = []
    for employee_id, items in people.items():
        main = next((p for p in items if p.kind == "line"), items[-1])
        rows.append(Transfer(employee_id, main.nip, main.name, main.bank_account, sum(p.figures.net for p in items)))
    rows.sort(key=lambda t: (t.nip, t.employee_id))
    return Disbursement(rows)
