"""Who supervises whom on a date (atasan langsung), and who stands above them: the one rule that
identity (``GET /employees/{id}/supervisor``, who sees whose record), approval (who validates,
who hears escalations and first-level appeals) and activity (who sees evidence) apply.

It is a mechanism over two kinds of facts every one of those services already keeps as read
models: effective-dated placements (``employee.placed``: employee, position, kind definitive or
Plt, start and end inclusive) and parent links of positions (``position.*``). Nothing here knows
what a service does with the answer. Plain Python, no I/O: ``supervision_queries`` loads the facts.

The rule (DOMAIN.md "People and positions", "Supervisor validation and deadlines"):

1. An employee's **own post** on a date is their definitive placement on that date (of two that
   overlap — a transfer recorded before the old placement was ended — the later start). A Plt
   placement is never anyone's own post: it is a post they answer *from*.
2. The **supervisor** is found by walking up the parent positions from the own post. A post's
   definitive holder answers for it; a post without one is answered by its Plt; a post held by
   nobody is skipped. A post held (in the capacity that answers) only by the employee themself is
   skipped too: nobody supervises themself.
3. The **supervisor's supervisor** (escalations, the first level of an appeal) continues the same
   walk *from the post the supervisor answers from*, skipping the employee and the supervisor.
   For a Plt this is the line of the post they act in, not of their own definitive post: a head
   of division acting over a section of another division answers, for that section's staff, to
   that other division's head (who knows the section's work), not to their own boss. Decided with
   issue 12; before, approval used the Plt's own line and activity the post's line, and in 424 of
   12,546 random org charts they disagreed. Each further level continues the walk the same way.
4. Ties (two holders of the same kind of the same post) go to the latest start, then to the
   placement id, so that every process resolves the same facts the same way.
5. A position whose parent is unknown (its event has not arrived) ends the walk after its own
   holders were asked; a damaged (cyclic) tree ends it where it would revisit a post.

The shared table of cases every implementation must pass is ``supervision_cases``.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping

DEFINITIVE, PLT = "definitive", "plt"
KINDS = (DEFINITIVE, PLT)

ParentOf = Mapping[str, "str | None"]


@dataclass(frozen=True)
class Holding:
    """One placement as the rule sees it; ``end`` is inclusive, None while open."""

    placement_id: str
    employee_id: str
    position_id: str
    kind: str  # definitive | plt
    start: date
    end: date | None

    def on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Supervision:
    """One level above an employee: who, the post they answer from, and whether as Plt."""

    supervisor_id: str
    position_id: str
    acting: bool


def _latest(holdings: Iterable[Holding]) -> list[Holding]:
    return sorted(holdings, key=lambda h: (h.start, h.placement_id), reverse=True)


class Roster:
    """Placements indexed by employee and by position, so one roster answers many questions. It
    must hold at least the placements of the employee in question and of every post above their
    own (``supervision_queries`` loads exactly that)."""

    def __init__(self, holdings: Iterable[Holding]):
        self._by_employee: dict[str, list[Holding]] = defaultdict(list)
        self._by_position: dict[str, list[Holding]] = defaultdict(list)
        seen: set[str] = set()
        for h in holdings:
            if h.placement_id in seen:  # loaders may meet a placement twice (own and above)
                continue
            seen.add(h.placement_id)
            self._by_employee[h.employee_id].append(h)
            self._by_position[h.position_id].append(h)

    def position_of(self, employee_id: str, day: date) -> str | None:
        """The employee's own (definitive) post on that day (rule 1)."""
        current = _latest(h for h in self._by_employee.get(employee_id, ()) if h.kind == DEFINITIVE and h.on(day))
        return current[0].position_id if current else None

    def posts_of(self, employee_id: str, day: date) -> set[str]:
        """Every post the employee holds on that day, definitive or Plt."""
        return {h.position_id for h in self._by_employee.get(employee_id, ()) if h.on(day)}

    def holders(self, position_id: str, day: date, kind: str) -> list[str]:
        """Who holds the post on that day in that capacity, latest start first (rule 4)."""
        return [h.employee_id for h in _latest(h for h in self._by_position.get(position_id, ())
                                               if h.kind == kind and h.on(day))]


def chain(employee_id: str, day: date, roster: Roster, parent_of: ParentOf, levels: int = 2) -> list[Supervision]:
    """The employee's supervisor on ``day``, that supervisor's supervisor, … up to ``levels``
    (rules 1–5): one walk up the parent positions from the employee's own post, each level
    answering from a post above the previous one's. Shorter when the top is reached; empty when
    the employee has no own post that day."""
    start = roster.position_of(employee_id, day)
    found: list[Supervision] = []
    if start is None or levels <= 0:
        return found
    skip = {employee_id}
    seen = {start}
    current = parent_of.get(start)
    while current is not None and current not in seen and len(found) < levels:
        seen.add(current)
        for kind in KINDS:
            holders = roster.holders(current, day, kind)
            if holders:
                # A post with a definitive holder is not vacant: its Plt is not asked, even when
                # the definitive holder is someone skipped (then the next post up answers).
                others = [h for h in holders if h not in skip]
                if others:
                    found.append(Supervision(others[0], current, kind == PLT))
                    skip.add(others[0])
                break
        current = parent_of.get(current)
    return found


def supervisor_of(employee_id: str, day: date, roster: Roster, parent_of: ParentOf) -> Supervision | None:
    """The atasan langsung on ``day``, or None (no own post, or nobody above holds one)."""
    found = chain(employee_id, day, roster, parent_of, levels=1)
    return found[0] if found else None


def above_supervisor(employee_id: str, day: date, roster: Roster, parent_of: ParentOf) -> Supervision | None:
    """The supervisor's supervisor for this employee on ``day`` (rule 3): who hears escalations
    of the employee's entries and the first level of their appeals. None when nobody is there."""
    found = chain(employee_id, day, roster, parent_of, levels=2)
    return found[1] if len(found) == 2 else None


def level_above(employee_id: str, day: date, person_id: str, roster: Roster, parent_of: ParentOf,
                levels: int = 3) -> Supervision | None:
    """Who stands above ``person_id`` in the employee's line on ``day``: the supervisor's
    supervisor when ``person_id`` is the supervisor, the next one up when ``person_id`` is the
    supervisor's supervisor (a decision taken after an escalation). None when ``person_id`` is not
    among the first ``levels - 1`` levels of the line, or nobody stands above them."""
    found = chain(employee_id, day, roster, parent_of, levels=levels)
    for n, s in enumerate(found[:-1]):
        if s.supervisor_id == person_id:
            return found[n + 1]
    return None


def descendants(roots: Iterable[str], parent_of: ParentOf) -> set[str]:
    """The posts below ``roots`` (not the roots themselves); a cycle ends where it revisits."""
    children: dict[str, list[str]] = defaultdict(list)
    for pid, parent in parent_of.items():
        if parent is not None:
            children[parent].append(pid)
    below: set[str] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in below:
                below.add(child)
                todo.append(child)
    return below


def ancestors(roots: Iterable[str], parent_of: ParentOf) -> set[str]:
    """The posts above ``roots`` (not the roots themselves, unless a cycle leads back to one)."""
    above: set[str] = set()
    for root in roots:
        current = parent_of.get(root)
        while current is not None and current not in above:
            above.add(current)
            current = parent_of.get(current)
    return above


def subordinates_of(supervisor_id: str, day: date, roster: Roster, parent_of: ParentOf) -> set[str]:
    """Everyone whose atasan langsung on ``day`` is ``supervisor_id``. ``roster`` must hold the
    placements of everyone placed below the supervisor's posts on that day (all of their
    placements of that day) and of the supervisor's own posts (``supervision_queries.below``)."""
    below = descendants(roster.posts_of(supervisor_id, day), parent_of)
    candidates = {e for pid in below for e in roster.holders(pid, day, DEFINITIVE)} - {supervisor_id}
    found = set()
    for e in candidates:
        s = supervisor_of(e, day, roster, parent_of)
        if s is not None and s.supervisor_id == supervisor_id:
            found.add(e)
    return found
