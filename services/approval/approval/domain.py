"""Rules of supervisor validation, free of any framework (DOMAIN.md "People and positions",
"Supervisor validation and deadlines")."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping

from ekinerja_common.errors import Conflict, Forbidden, Text, ValidationFailed

DEFINITIVE, PLT = "definitive", "plt"

PENDING, WITHDRAWN = "pending", "withdrawn"
# decision (the URL verb) -> the item's status afterwards
DECISIONS = {"approve": "approved", "reject": "rejected", "return": "returned"}
REASON_REQUIRED = frozenset({"reject", "return"})


@dataclass(frozen=True)
class PlacementFact:
    """One effective-dated placement of an employee in a position."""

    employee_id: str
    position_id: str
    start_date: date
    end_date: date | None  # inclusive; None = still open
    kind: str  # definitive | plt
    placement_id: str = ""

    def active_on(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or on <= self.end_date)


class Roster:
    """Placements indexed by employee and by position, built once so that one roster answers a
    whole queue of resolutions."""

    def __init__(self, placements: Iterable[PlacementFact]):
        self._by_employee: dict[str, list[PlacementFact]] = defaultdict(list)
        self._by_position: dict[str, list[PlacementFact]] = defaultdict(list)
        for p in placements:
            self._by_employee[p.employee_id].append(p)
            self._by_position[p.position_id].append(p)

    def position_of(self, employee_id: str, on: date) -> str | None:
        """The employee's own (definitive) position on that date. When placements overlap (a
        transfer recorded before the old placement was ended) the latest start is the real one."""
        current = [p for p in self._by_employee.get(employee_id, ()) if p.kind == DEFINITIVE and p.active_on(on)]
        return _latest(current)[0].position_id if current else None

    def holders(self, position_id: str, on: date, kind: str) -> list[str]:
        """Who holds the position on that date in that capacity, latest start first."""
        current = [p for p in self._by_position.get(position_id, ()) if p.kind == kind and p.active_on(on)]
        return [p.employee_id for p in _latest(current)]


def _latest(placements: list[PlacementFact]) -> list[PlacementFact]:
    # placement_id breaks ties so that every process resolves the same data the same way.
    return sorted(placements, key=lambda p: (p.start_date, p.placement_id), reverse=True)


def resolve_supervisor(employee_id: str, on: date, roster: Roster, parent_of: Mapping[str, str | None]) -> str | None:
    """The atasan langsung of ``employee_id`` on ``on``: the holder of the nearest ancestor
    position that is held on that date — definitively, or by a Plt when it has no definitive
    holder. A post held only by the employee themself is skipped: nobody validates their own
    work. ``None`` when nobody above holds a post (or the employee has no position that day).

    A position missing from ``parent_of`` (its position event has not arrived yet) ends the
    walk after its own holders were asked."""
    start = roster.position_of(employee_id, on)
    if start is None:
        return None
    seen = {start}
    current = parent_of.get(start)
    while current is not None and current not in seen:  # `seen` survives a damaged (cyclic) tree
        seen.add(current)
        holder = _holder(roster, current, on, employee_id)
        if holder is not None:
            return holder
        current = parent_of.get(current)
    return None


def _holder(roster: Roster, position_id: str, on: date, employee_id: str) -> str | None:
    for kind in (DEFINITIVE, PLT):
        holders = roster.holders(position_id, on, kind)
        if holders:
            # A definitive holder means the post is not vacant, so a Plt is not asked even when
            # the definitive holder is the employee themself (then the next post up decides).
            others = [h for h in holders if h != employee_id]
            return others[0] if others else None
    return None


def check_reason(decision: str, reason: str | None) -> str | None:
    """Rejection and return need a written reason (DOMAIN.md); approval takes none."""
    cleaned = (reason or "").strip()
    if decision in REASON_REQUIRED and not cleaned:
        raise ValidationFailed({"reason": Text("Alasan wajib diisi untuk menolak atau mengembalikan kegiatan",
                                               "A reason is required to reject or return an entry")})
    return cleaned or None


def check_may_decide(employee_id: str, supervisor_id: str | None, caller_id: str | None) -> None:
    if caller_id is not None and caller_id == employee_id:
        raise Forbidden(Text("Anda tidak dapat memvalidasi kegiatan Anda sendiri", "You cannot decide your own entry"),
                        "own_entry")
    if caller_id is None or supervisor_id != caller_id:
        raise Forbidden(Text("Anda bukan atasan langsung pegawai ini pada tanggal kegiatan",
                             "You are not this employee's supervisor on the date of the entry"), "not_supervisor")


def check_decidable(status: str, period_locked: bool) -> None:
    if status == WITHDRAWN:
        raise Conflict("withdrawn", Text("Kegiatan ini sudah ditarik kembali oleh pegawai",
                                         "The employee has withdrawn this entry"))
    if status != PENDING:
        raise Conflict("already_decided", Text("Kegiatan ini sudah divalidasi", "This entry has already been decided"))
    if period_locked:
        raise Conflict("period_locked", Text("Periode TPP bulan ini sudah dikunci", "The TPP period of this month is locked"))
