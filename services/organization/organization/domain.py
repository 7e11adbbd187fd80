"""Rules of job data, free of any framework (DOMAIN.md "People and positions")."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Iterable

from ekinerja_common.errors import Conflict, DomainError, FieldErrors, Text

POSITION_KINDS = ("jpt", "administrator", "pengawas", "pelaksana", "fungsional")
STRUCTURAL_KINDS = ("jpt", "administrator", "pengawas")
UNIT_KINDS = ("opd", "bidang", "subbidang")
# An OPD stands at the top; a bidang sits in an OPD, a subbidang in a bidang.
UNIT_PARENT_KIND: dict[str, str | None] = {"opd": None, "bidang": "opd", "subbidang": "bidang"}
KELAS_MIN, KELAS_MAX = 1, 17
# Eselon by kind of structural position: JPT pratama/madya are II/I, administrator III,
# pengawas IV (PermenPANRB 17/2021 equalisation kept the old eselon on the record).
ESELON_BY_KIND = {"jpt": ("I.a", "I.b", "II.a", "II.b"), "administrator": ("III.a", "III.b"),
                  "pengawas": ("IV.a", "IV.b")}
# Perka BKN 19/2011: 300 effective minutes x 240 working days; policy data, this is the default.
DEFAULT_EFFECTIVE_MINUTES_PER_YEAR = 72_000
MINUTES_PER_YEAR = 366 * 24 * 60
MAX_YEARLY_VOLUME = 10_000_000


def normalize_eselon(raw: str | None) -> str | None:
    """``ii/B`` or ``II.b`` -> ``II.b``: Roman numeral upper case, grade letter lower case."""
    if raw is None or not raw.strip():
        return None
    head, _, grade = raw.strip().replace("/", ".").partition(".")
    return f"{head.strip().upper()}.{grade.strip().lower()}" if grade else head.strip().upper()


def check_unit(kind: str, parent_kind: str | None, has_parent: bool) -> None:
    """Kinds nest in one order: OPD → bidang → subbidang."""
    errors = FieldErrors()
    if kind not in UNIT_KINDS:
        errors.add("kind", "Jenis unit harus opd, bidang atau subbidang", "Unit kind must be opd, bidang or subbidang")
    else:
        wanted = UNIT_PARENT_KIND[kind]
        if wanted is None and has_parent:
            errors.add("parent_id", "OPD adalah unit teratas dan tidak memiliki induk", "An OPD is a top unit and has no parent")
        elif wanted is not None and not has_parent:
            errors.add("parent_id", f"Unit {kind} harus berada di bawah unit {wanted}", f"A {kind} unit must sit under a {wanted} unit")
        elif wanted is not None and parent_kind is not None and parent_kind != wanted:
            errors.add("parent_id", f"Unit {kind} harus berada di bawah unit {wanted}, bukan {parent_kind}",
                       f"A {kind} unit must sit under a {wanted} unit, not a {parent_kind}")
    errors.raise_if_any()


def check_position(kind: str, kelas_jabatan: int, eselon: str | None, factor: Decimal) -> None:
    errors = FieldErrors()
    if kind not in POSITION_KINDS:
        errors.add("kind", f"Jenis jabatan harus salah satu dari {', '.join(POSITION_KINDS)}",
                   f"Position kind must be one of {', '.join(POSITION_KINDS)}")
    if not KELAS_MIN <= kelas_jabatan <= KELAS_MAX:
        errors.add("kelas_jabatan", "Kelas jabatan harus 1–17", "Kelas jabatan must be 1–17")
    if eselon and kind not in STRUCTURAL_KINDS:
        errors.add("eselon", "Eselon hanya untuk jabatan struktural", "Only structural positions have an eselon")
    elif kind in ESELON_BY_KIND and not eselon:
        errors.add("eselon", f"Jabatan {kind} wajib memiliki eselon ({', '.join(ESELON_BY_KIND[kind])})",
                   f"A {kind} position needs an eselon ({', '.join(ESELON_BY_KIND[kind])})")
    elif kind in ESELON_BY_KIND and eselon not in ESELON_BY_KIND[kind]:
        errors.add("eselon", f"Eselon jabatan {kind} harus {', '.join(ESELON_BY_KIND[kind])}",
                   f"The eselon of a {kind} position must be {', '.join(ESELON_BY_KIND[kind])}")
    if factor <= 0 or factor > 5:
        errors.add("factor", "Faktor jabatan harus di atas 0 dan paling besar 5", "Position factor must be above 0 and at most 5")
    errors.raise_if_any()


def check_no_cycle(node_id: str, new_parent_id: str | None, parent_of: Callable[[str], str | None]) -> None:
    """Refuse a parent that would make ``node_id`` its own ancestor (tree of positions or units)."""
    seen = set()
    current = new_parent_id
    while current is not None:
        if current == node_id:
            raise DomainError("cycle", Text("Induk ini membuat struktur melingkar", "This parent would create a cycle"),
                              {"parent_id": Text("Jabatan tidak boleh menjadi atasan dirinya sendiri",
                                                 "A position cannot be its own ancestor")})
        if current in seen:  # pre-existing damage; stop rather than loop forever
            break
        seen.add(current)
        current = parent_of(current)


def duty_problems(norma_waktu: int | None, description: str, output_unit: str,
                  yearly_volume: int | None = None) -> dict[str, Text]:
    errors = FieldErrors()
    if norma_waktu is not None and (norma_waktu <= 0 or norma_waktu > 450):
        errors.add("norma_waktu", "Norma waktu harus 1–450 menit per satuan", "Norma waktu must be 1–450 minutes per unit")
    if not description.strip():
        errors.add("description", "Uraian tugas wajib diisi", "Description is required")
    if not output_unit.strip():
        errors.add("output_unit", "Satuan hasil wajib diisi", "Output unit is required")
    if yearly_volume is not None and not 0 <= yearly_volume <= MAX_YEARLY_VOLUME:
        errors.add("yearly_volume", f"Volume per tahun harus 0–{MAX_YEARLY_VOLUME:,}".replace(",", "."),
                   f"Yearly volume must be 0–{MAX_YEARLY_VOLUME:,}")
    return errors.errors


def check_duty(norma_waktu: int, description: str, output_unit: str, yearly_volume: int | None = None) -> None:
    FieldErrors(duty_problems(norma_waktu, description, output_unit, yearly_volume)).raise_if_any()


def duty_key(description: str) -> str:
    """Two duties of one position with the same description, give or take case and spacing,
    are the same duty."""
    return " ".join(description.lower().split())


# -- effective dating ---------------------------------------------------------------------------------

def check_valid_from(valid_from: date, current_from: date | None, today: date) -> None:
    """A new version of a position takes effect on ``valid_from``. Back-dating is allowed (the
    decree is often signed after the day it takes effect), but not before the version in force,
    so the history stays one ordered line; a future date is refused because the other services
    keep only the newest state of a position and would apply it at once."""
    if valid_from > today:
        raise DomainError("future_change", Text("Tanggal berlaku tidak boleh di masa depan; catat perubahan pada hari berlakunya",
                                                "The effective date cannot be in the future; record the change when it takes effect"),
                          {"valid_from": Text("Tidak boleh di masa depan", "Cannot be in the future")})
    if current_from is not None and valid_from < current_from:
        raise DomainError("before_current_version",
                          Text(f"Tanggal berlaku tidak boleh sebelum versi yang berlaku ({current_from.isoformat()})",
                               f"The effective date cannot precede the version in force ({current_from.isoformat()})"),
                          {"valid_from": Text(f"Paling awal {current_from.isoformat()}", f"{current_from.isoformat()} at the earliest")})


# -- the tree's guards ----------------------------------------------------------------------------

def check_abolishable(holders: int, active_children: int) -> None:
    """A position can be abolished only when nobody holds it from today on and no active
    position hangs below it (their holders would lose their supervisor's post)."""
    if holders:
        raise Conflict("position_held", Text("Jabatan masih diduduki (hari ini atau sesudahnya); akhiri penempatannya dulu",
                                             "The position is held (today or later); end the placements first"))
    if active_children:
        raise Conflict("position_has_children", Text(f"Masih ada {active_children} jabatan di bawah jabatan ini; pindahkan dulu",
                                                     f"{active_children} positions still sit below this one; move them first"))


def check_unit_removable(active_children: int, active_positions: int) -> None:
    if active_children:
        raise Conflict("unit_has_children", Text(f"Unit masih memiliki {active_children} unit di bawahnya",
                                                 f"The unit still has {active_children} child units"))
    if active_positions:
        raise Conflict("unit_has_positions", Text(f"Unit masih memiliki {active_positions} jabatan",
                                                  f"The unit still has {active_positions} positions"))


# -- workload analysis (ABK) --------------------------------------------------------------------

def check_effective_minutes(minutes: int) -> None:
    if not 1 <= minutes <= MINUTES_PER_YEAR:
        raise DomainError("invalid_policy", Text("Menit kerja efektif per tahun harus 1–527.040",
                                                 "Effective minutes per year must be 1–527,040"),
                          {"effective_minutes_per_year": Text("Di luar rentang", "Out of range")})


@dataclass(frozen=True)
class Workload:
    minutes: int            # Σ yearly volume × norma waktu
    required: Decimal       # minutes ÷ effective minutes per year, exact to 2 places
    required_rounded: int   # whole people: half up
    duties: int
    duties_without_volume: int


def workload(duties: Iterable[tuple[int | None, int]], effective_minutes_per_year: int) -> Workload:
    """ABK of one position (DOMAIN.md): required staff = Σ(yearly volume × norma waktu) ÷ effective
    working minutes per year. A duty without a yearly volume contributes nothing and is counted
    so the report can say the analysis is incomplete."""
    minutes = count = missing = 0
    for volume, norma in duties:
        count += 1
        if volume is None:
            missing += 1
        else:
            minutes += volume * norma
    required = (Decimal(minutes) / Decimal(effective_minutes_per_year)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    rounded = int((Decimal(minutes) / Decimal(effective_minutes_per_year)).quantize(Decimal(1), ROUND_HALF_UP))
    return Workload(minutes, required, rounded, count, missing)
