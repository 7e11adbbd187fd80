"""Rules of job data, free of any framework (DOMAIN.md "People and positions")."""
from __future__ import annotations

from decimal import Decimal
from typing import Callable

from ekinerja_common.errors import DomainError, FieldErrors, Text

POSITION_KINDS = ("jpt", "administrator", "pengawas", "pelaksana", "fungsional")
STRUCTURAL_KINDS = ("jpt", "administrator", "pengawas")
UNIT_KINDS = ("opd", "bidang", "subbidang")
KELAS_MIN, KELAS_MAX = 1, 17
# Perka BKN 19/2011: 300 effective minutes x 240 working days; policy data, this is the default.
DEFAULT_EFFECTIVE_MINUTES_PER_YEAR = 72_000


def check_position(kind: str, kelas_jabatan: int, eselon: str | None, factor: Decimal) -> None:
    errors = FieldErrors()
    if kind not in POSITION_KINDS:
        errors.add("kind", f"Jenis jabatan harus salah satu dari {', '.join(POSITION_KINDS)}",
                   f"Position kind must be one of {', '.join(POSITION_KINDS)}")
    if not KELAS_MIN <= kelas_jabatan <= KELAS_MAX:
        errors.add("kelas_jabatan", "Kelas jabatan harus 1–17", "Kelas jabatan must be 1–17")
    if eselon and kind not in STRUCTURAL_KINDS:
        errors.add("eselon", "Eselon hanya untuk jabatan struktural", "Only structural positions have an eselon")
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


def check_duty(norma_waktu: int, description: str, output_unit: str) -> None:
    errors = FieldErrors()
    if norma_waktu <= 0 or norma_waktu > 450:
        errors.add("norma_waktu", "Norma waktu harus 1–450 menit per satuan", "Norma waktu must be 1–450 minutes per unit")
    if not description.strip():
        errors.add("description", "Uraian tugas wajib diisi", "Description is required")
    if not output_unit.strip():
        errors.add("output_unit", "Satuan hasil wajib diisi", "Output unit is required")
    errors.raise_if_any()
