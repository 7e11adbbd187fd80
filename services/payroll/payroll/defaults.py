"""The TPP policy a year starts with until BPKAD edits it: the one place default numbers live.

Each regency sets these by Perbup and changes them yearly (DOMAIN.md), so they are only a starting
document, stored per year and edited through ``PUT /policies/{year}``; the code reads them from
there, never from here. Percents are decimal strings, amounts whole rupiah.
"""
from __future__ import annotations

from ekinerja_common import discipline

from .policy import PPPK_GRADES

# Base TPP per kelas jabatan. An illustrative increasing table, not any regency's Perbup: kelas 9
# is Rp 5,000,000 as in DOMAIN.md's worked example; real tables (East Java 2023: Rp 3,185,000 for
# kelas 1 to Rp 43,125,000 for kelas 16) are entered by BPKAD.
BASE_AMOUNTS = {
    1: 1_750_000, 2: 1_900_000, 3: 2_100_000, 4: 2_350_000, 5: 2_650_000, 6: 3_000_000,
    7: 3_500_000, 8: 4_200_000, 9: 5_000_000, 10: 6_000_000, 11: 7_250_000, 12: 8_750_000,
    13: 10_500_000, 14: 13_000_000, 15: 16_500_000, 16: 21_000_000, 17: 27_500_000,
}

# Kota Manado's split between performance (approved minutes) and discipline (attendance).
WEIGHTS_PCT = {"performance": "60", "discipline": "40"}

# Working days and the daily minutes target are not TPP policy: they are BKD's work calendar
# (``calendar.updated``) or, for a year BKD has not stored yet, the default both services share
# (``ekinerja_common.workdays``: Monday to Friday less the fixed-date national holidays, 300 min).

# A CPNS receives 80 % of the TPP of their position (candidate status).
CPNS_FACTOR_PCT = "80"

# PPh 21 final rate on TPP by golongan group of a PNS/CPNS (PP 80/2010).
PPH21_PNS_PCT = {"I": "0", "II": "0", "III": "5", "IV": "15"}

# PPPK grades have no rule of their own; our default follows the grade a PPPK is appointed at with
# the same education as a PNS group: IX (S1, like III/a) to XII taxed like group III (5 %),
# XIII (like IV/a) and above like group IV (15 %), below IX like groups I–II (0 %).
PPH21_PPPK_PCT = {g: "15" if n >= 13 else "5" if n >= 9 else "0" for n, g in enumerate(PPPK_GRADES, start=1)}

# BPJS Kesehatan, employee share of (salary + TPP) up to the cap (Perpres 64/2020).
BPJS_EMPLOYEE_RATE_PCT = "1"
BPJS_CAP = 12_000_000

# Productivity is paid linearly by default (DOMAIN.md). The brackets are an example some regencies
# use, stored so that switching the rule to "bracket" starts from a sensible table.
PRODUCTIVITY = {"rule": "linear", "brackets": [
    {"min_pct": "90", "pay_pct": "100"}, {"min_pct": "75", "pay_pct": "85"},
    {"min_pct": "60", "pay_pct": "70"}, {"min_pct": "0", "pay_pct": "50"},
]}

# Percent of the discipline share per day with the code: the one default table activity uses
# too (``ekinerja_common.discipline``, the central tukin table of Permentan 68/2012; the excused
# codes of activity's default calendar at 0, so that a code missing here stands out in a run).
DISCIPLINE_DEDUCTIONS_PCT = discipline.table_text(discipline.default_table())

# PP 94/2021: a medium sanction cuts the allowance by 25 % for 6, 9 or 12 months; two sanctions
# running at once do not add up by default (the larger one applies).
SANCTIONS = {"combine": "max", "max_cut_pct": "100"}


def document(year: int) -> dict:
    """The default policy document for ``year`` (the shape ``PUT /policies/{year}`` accepts)."""
    return {
        "base_amounts": {str(k): v for k, v in BASE_AMOUNTS.items()},
        "weights_pct": dict(WEIGHTS_PCT),
        "cpns_factor_pct": CPNS_FACTOR_PCT,
        "pph21_pct": {"pns": dict(PPH21_PNS_PCT), "pppk": dict(PPH21_PPPK_PCT)},
        "bpjs": {"employee_rate_pct": BPJS_EMPLOYEE_RATE_PCT, "cap": BPJS_CAP},
        "productivity": {"rule": PRODUCTIVITY["rule"], "brackets": [dict(b) for b in PRODUCTIVITY["brackets"]]},
        "discipline_deductions_pct": dict(DISCIPLINE_DEDUCTIONS_PCT),
        "sanctions": dict(SANCTIONS),
        "position_factors": {},
    }


# Sections the policy document gained after its first release (migration 0002). A version stored
# before has none of them; it is read with these defaults, which reproduce what it meant then
# (linear productivity, the central deduction table, no overrides).
LATER_SECTIONS = ("productivity", "discipline_deductions_pct", "sanctions", "position_factors")


def complete(year: int, stored: dict) -> dict:
    """A stored policy document with the sections it predates filled from the defaults."""
    missing = [k for k in LATER_SECTIONS if k not in stored]
    if not missing:
        return stored
    base = document(year)
    return {**stored, **{k: base[k] for k in missing}}
