"""How large a rupiah amount typed into payroll may be: far above any real one, far below what a
BIGINT column (or a rounding in percent arithmetic) could mishandle. One place for the forms, the
salary file and the policy document alike.

A gaji pokok tops out near Rp 6.4 juta (golongan IV/e, PP 15/2019) and a provincial TPP base for
the highest kelas jabatan near Rp 100 juta a month; 10^15 or 2^63 is a typing or scripting
mistake, refused with the field named instead of stored or failing in the database.
"""
from __future__ import annotations

MAX_SALARY = 100_000_000       # Rp 100 juta a month: gaji pokok, BPJS already deducted
MAX_TPP_BASE = 500_000_000     # Rp 500 juta a month: a kelas jabatan's TPP base
MAX_BPJS_CAP = 100_000_000     # Rp 100 juta: the salary above which BPJS is not charged (Rp 12 juta today)


def rupiah(value: int) -> str:
    """Rp 100.000.000: how the limit reads in a message."""
    return "Rp " + f"{value:,}".replace(",", ".")
