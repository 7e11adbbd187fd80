"""The one supervisor rule (ekinerja_common.supervision), on plain data: the shared table of cases,
the people a supervisor has, and properties over random org charts."""
from datetime import date

import pytest
from ekinerja_common import supervision as domain
from ekinerja_common.supervision import Holding, Roster

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



# -- the shared table of cases ---------------------------------------------------------------------

from ekinerja_common.supervision_cases import CASES  # noqa: E402


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_shared_table_of_cases(case):
    roster = Roster(case.placements)
    for employee, day, line in case.expect:
        found = domain.chain(employee, day, roster, case.parents, levels=3)
        assert tuple(s.supervisor_id for s in found) == line, (employee, day)
        first = domain.supervisor_of(employee, day, roster, case.parents)
        assert (first.supervisor_id if first else None) == (line[0] if line else None)
        above = domain.above_supervisor(employee, day, roster, case.parents)
        assert (above.supervisor_id if above else None) == (line[1] if len(line) > 1 else None)
        for n, person in enumerate(line):
            nxt = domain.level_above(employee, day, person, roster, case.parents, levels=4)
            assert (nxt.supervisor_id if nxt else None) == (line[n + 1] if n + 1 < len(line) else None)


def test_the_plt_case_of_issue_12_answers_from_the_post_acted_in():
    case = next(c for c in CASES if c.name.startswith("Plt over a section of another division"))
    roster = Roster(case.placements)
    first = domain.supervisor_of("staf", case.expect[0][1], roster, case.parents)
    above = domain.above_supervisor("staf", case.expect[0][1], roster, case.parents)
    assert (first.supervisor_id, first.position_id, first.acting) == ("kabid_a", "SEKSI_B1", True)
    assert (above.supervisor_id, above.position_id, above.acting) == ("kabid_b", "BIDANG_B", False)


# -- properties over random org charts (the pure rule against itself) -------------------------------

from hypothesis import given, settings  # noqa: E402

from ekinerja_common.supervision_cases import random_chart  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(random_chart())
def test_subordinates_are_exactly_those_whose_supervisor_one_is(chart):
    roster = Roster(chart.placements)
    for day in chart.days:
        expected: dict[str, set[str]] = {}
        for e in chart.employees:
            s = domain.supervisor_of(e, day, roster, chart.parents)
            if s is not None:
                expected.setdefault(s.supervisor_id, set()).add(e)
        for person in chart.employees:
            assert domain.subordinates_of(person, day, roster, chart.parents) == expected.get(person, set())


@settings(max_examples=300, deadline=None)
@given(random_chart())
def test_a_line_never_names_the_employee_or_anyone_twice(chart):
    roster = Roster(chart.placements)
    for day in chart.days:
        for e in chart.employees:
            line = [s.supervisor_id for s in domain.chain(e, day, roster, chart.parents, levels=5)]
            assert e not in line and len(set(line)) == len(line)
            # The first level is the atasan langsung; each later level comes from a post higher up.
            posts = [s.position_id for s in domain.chain(e, day, roster, chart.parents, levels=5)]
            assert len(set(posts)) == len(posts)
