"""Who supervises whom on a date, and changing a placement's end: rules without I/O."""
from datetime import date

import pytest

from ekinerja_common.errors import DomainError, ValidationFailed
from identity import domain
from identity.domain import Holding, Roster, Span

D = date.fromisoformat
DAY = D("2026-03-02")

# KADIS
# ├── KABID-A ── STAFF-A1, STAFF-A2
# └── KABID-B ── KASUBID-B ── STAFF-B1
PARENT = {"KADIS": None, "KABID-A": "KADIS", "KABID-B": "KADIS", "STAFF-A1": "KABID-A", "STAFF-A2": "KABID-A",
          "KASUBID-B": "KABID-B", "STAFF-B1": "KASUBID-B"}


def h(employee, position, kind="definitive", start="2026-01-01", end=None, pid=None):
    return Holding(pid or f"{employee}@{position}@{start}", employee, position, kind, D(start), D(end) if end else None)


BASE = [h("kadis", "KADIS"), h("rina", "KABID-A"), h("agus", "KABID-B"), h("dewi", "STAFF-A1"),
        h("yusuf", "STAFF-A2"), h("tono", "KASUBID-B"), h("sari", "STAFF-B1")]


def boss(employee, holdings, day=DAY):
    s = domain.supervisor_of(employee, day, Roster(holdings), PARENT)
    return (s.supervisor_id, s.position_id, s.acting) if s else None


def test_the_holder_of_the_parent_post_supervises():
    assert boss("dewi", BASE) == ("rina", "KABID-A", False)
    assert boss("sari", BASE) == ("tono", "KASUBID-B", False)
    assert boss("rina", BASE) == ("kadis", "KADIS", False)
    assert boss("kadis", BASE) is None  # nobody above
    assert domain.subordinates_of("rina", DAY, Roster(BASE), PARENT) == {"dewi", "yusuf"}
    assert domain.subordinates_of("kadis", DAY, Roster(BASE), PARENT) == {"rina", "agus"}
    assert domain.subordinates_of("dewi", DAY, Roster(BASE), PARENT) == set()


def test_a_vacant_posts_acting_holder_supervises_in_its_place():
    # Rina left KABID-A at the end of February; Agus (KABID-B) acts as Plt of KABID-A from March.
    holdings = [x for x in BASE if x.employee_id != "rina"] + [
        h("rina", "KABID-A", end="2026-02-28"), h("agus", "KABID-A", kind="plt", start="2026-03-01")]
    assert boss("dewi", holdings) == ("agus", "KABID-A", True)
    assert boss("dewi", holdings, D("2026-02-27")) == ("rina", "KABID-A", False)
    assert domain.subordinates_of("agus", DAY, Roster(holdings), PARENT) == {"dewi", "yusuf", "tono"}
    assert domain.subordinates_of("agus", D("2026-02-27"), Roster(holdings), PARENT) == {"tono"}


def test_a_plt_does_not_supervise_a_post_that_has_its_definitive_holder():
    holdings = BASE + [h("agus", "KABID-A", kind="plt", start="2026-03-01")]
    assert boss("dewi", holdings) == ("rina", "KABID-A", False)
    assert "dewi" not in domain.subordinates_of("agus", DAY, Roster(holdings), PARENT)


def test_a_vacant_post_without_a_plt_is_skipped_upwards():
    holdings = [x for x in BASE if x.employee_id != "tono"]
    assert boss("sari", holdings) == ("agus", "KABID-B", False)
    assert domain.subordinates_of("agus", DAY, Roster(holdings), PARENT) == {"sari"}


def test_nobody_supervises_themself():
    # Agus holds KABID-B and is also Plt of the vacant KADIS: his own supervisor post is skipped.
    holdings = [x for x in BASE if x.employee_id != "kadis"] + [h("agus", "KADIS", kind="plt")]
    assert boss("agus", holdings) is None
    assert boss("rina", holdings) == ("agus", "KADIS", True)
    assert domain.subordinates_of("agus", DAY, Roster(holdings), PARENT) == {"rina", "tono"}


def test_a_transfer_recorded_before_the_old_placement_ended_counts_from_its_start():
    holdings = BASE + [h("dewi", "STAFF-B1", start="2026-03-01")]
    assert boss("dewi", holdings) == ("tono", "KASUBID-B", False)
    assert boss("dewi", holdings, D("2026-02-27")) == ("rina", "KABID-A", False)


def test_a_damaged_cyclic_tree_does_not_loop():
    parents = {"A": "B", "B": "A"}
    holdings = [h("x", "A")]
    assert domain.supervisor_of("x", DAY, Roster(holdings), parents) is None
    assert domain.descendants(["A"], parents) == {"A", "B"}


def test_placement_end_rules():
    history = [Span("a", "P1", "definitive", D("2024-01-01"), D("2024-12-31")),
               Span("b", "P2", "definitive", D("2025-01-01"), None),
               Span("c", "P9", "plt", D("2025-02-01"), D("2025-04-30"))]
    domain.plan_end(history, "b", D("2025-06-30"))       # ending the open one
    domain.plan_end(history, "c", D("2025-07-31"))       # extending a Plt
    domain.plan_end(history, "a", D("2024-06-30"))       # shortening a closed one
    with pytest.raises(ValidationFailed) as exc:
        domain.plan_end(history, "b", D("2024-12-31"))
    assert set(exc.value.fields) == {"end_date"}
    with pytest.raises(DomainError) as exc:
        domain.plan_end(history, "a", None)              # reopening would overlap P2
    assert exc.value.code == "overlapping_placement" and set(exc.value.fields) == {"end_date"}
