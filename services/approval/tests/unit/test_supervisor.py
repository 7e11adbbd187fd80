"""Supervisor resolution and decision rules, on plain data."""
from datetime import date

import pytest

from ekinerja_common.errors import Conflict, Forbidden, ValidationFailed
from approval import domain
from approval.domain import DEFINITIVE, PLT, PlacementFact, Roster, resolve_supervisor

D = date(2026, 11, 10)

# KADIS <- KABID <- KASUBBID <- STAFF, plus a second bidang under KADIS
PARENTS = {"KADIS": None, "KABID": "KADIS", "KASUBBID": "KABID", "STAFF": "KASUBBID", "KABID2": "KADIS"}


def placed(emp, pos, start="2026-01-01", end=None, kind=DEFINITIVE, pid=None):
    return PlacementFact(emp, pos, date.fromisoformat(start), date.fromisoformat(end) if end else None, kind,
                         pid or f"{emp}@{pos}@{start}")


def supervisor(placements, emp="staff", on=D, parents=PARENTS):
    return resolve_supervisor(emp, on, Roster(placements), parents)


FULL = [placed("kadis", "KADIS"), placed("kabid", "KABID"), placed("kasub", "KASUBBID"), placed("staff", "STAFF")]


def test_definitive_holder_of_the_parent_position():
    assert supervisor(FULL) == "kasub"
    assert supervisor(FULL, "kasub") == "kabid"
    assert supervisor(FULL, "kabid") == "kadis"


def test_the_top_has_no_supervisor_and_nobody_unplaced_has_one():
    assert supervisor(FULL, "kadis") is None
    assert supervisor(FULL, "stranger") is None


def test_vacant_parent_with_plt_is_decided_by_the_plt():
    placements = [p for p in FULL if p.employee_id != "kasub"] + [placed("acting", "KASUBBID", kind=PLT)]
    assert supervisor(placements) == "acting"


def test_definitive_holder_wins_over_a_plt():
    assert supervisor(FULL + [placed("acting", "KASUBBID", kind=PLT)]) == "kasub"


def test_vacant_parent_without_anyone_goes_to_the_next_holder_up():
    placements = [p for p in FULL if p.employee_id != "kasub"]
    assert supervisor(placements) == "kabid"
    placements = [p for p in placements if p.employee_id != "kabid"]
    assert supervisor(placements) == "kadis"


def test_placement_dates_are_inclusive_at_both_edges():
    placements = [placed("kadis", "KADIS"), placed("staff", "STAFF"),
                  placed("kasub", "KASUBBID", start="2026-11-10", end="2026-11-20")]
    assert supervisor(placements, on=date(2026, 11, 10)) == "kasub"  # first day
    assert supervisor(placements, on=date(2026, 11, 20)) == "kasub"  # last day
    assert supervisor(placements, on=date(2026, 11, 9)) == "kadis"  # the day before: vacant
    assert supervisor(placements, on=date(2026, 11, 21)) == "kadis"  # the day after: vacant


def test_employee_placement_dates_decide_their_own_position():
    placements = FULL[:3] + [placed("staff", "STAFF", end="2026-06-30"), placed("staff", "KABID2", start="2026-07-01"),
                             placed("kabid2", "KADIS", kind=PLT)]
    assert supervisor(placements, on=date(2026, 6, 30)) == "kasub"
    # in KABID2 from July: its parent KADIS has a definitive holder, so the Plt is not asked
    assert supervisor(placements, on=date(2026, 7, 1)) == "kadis"
    assert supervisor(placements, on=date(2025, 12, 31)) is None  # not placed yet


def test_a_plt_placement_is_not_the_employees_own_position():
    assert supervisor([placed("kadis", "KADIS"), placed("staff", "KABID", kind=PLT)]) is None


def test_employee_who_holds_the_parent_themself_is_skipped():
    # The kasubbid is also Plt of the vacant KABID: KABID is skipped, KADIS decides.
    placements = [placed("kadis", "KADIS"), placed("kasub", "KASUBBID"), placed("kasub", "KABID", kind=PLT)]
    assert supervisor(placements, "kasub") == "kadis"
    # ... and is still the supervisor of the staff below.
    assert supervisor(placements + [placed("staff", "STAFF")]) == "kasub"


def test_definitive_self_holder_skips_the_level_rather_than_asking_a_plt():
    placements = [placed("kadis", "KADIS"), placed("kasub", "KASUBBID"), placed("kasub", "KABID", start="2025-06-01"),
                  placed("acting", "KABID", kind=PLT)]
    assert supervisor(placements, "kasub") == "kadis"


def test_overlapping_definitive_placements_latest_start_wins():
    placements = FULL + [placed("staff", "KASUBBID", start="2026-11-01", pid="z")]  # promoted, old post not ended
    assert supervisor(placements) == "kabid"


def test_damaged_cyclic_tree_terminates():
    parents = {"A": "B", "B": "A", "S": "A"}
    assert supervisor([placed("staff", "S")], parents=parents) is None


def test_a_position_not_yet_known_still_has_holders_but_ends_the_walk():
    # KASUBBID's position event has not arrived: its holder is found, nobody above it.
    assert supervisor(FULL, parents={"STAFF": "KASUBBID"}) == "kasub"
    vacant = [p for p in FULL if p.employee_id != "kasub"]
    assert supervisor(vacant, parents={"STAFF": "KASUBBID"}) is None


def test_reason_is_required_to_reject_or_return_but_not_to_approve():
    for decision in ("reject", "return"):
        for blank in (None, "", "   "):
            with pytest.raises(ValidationFailed) as exc:
                domain.check_reason(decision, blank)
            assert set(exc.value.fields) == {"reason"}
        assert domain.check_reason(decision, "  Volume tidak sesuai  ") == "Volume tidak sesuai"
    assert domain.check_reason("approve", None) is None


def test_who_may_decide():
    domain.check_may_decide("staff", "kasub", "kasub")
    with pytest.raises(Forbidden) as exc:
        domain.check_may_decide("staff", "kasub", "staff")
    assert exc.value.code == "own_entry"
    for caller in ("kabid", "peer", None):
        with pytest.raises(Forbidden) as exc:
            domain.check_may_decide("staff", "kasub", caller)
        assert exc.value.code == "not_supervisor"
    with pytest.raises(Forbidden):
        domain.check_may_decide("staff", None, "kasub")


@pytest.mark.parametrize("status, locked, code", [
    ("approved", False, "already_decided"), ("rejected", True, "already_decided"), ("returned", False, "already_decided"),
    ("withdrawn", False, "withdrawn"), ("pending", True, "period_locked"),
])
def test_only_pending_entries_of_open_months_are_decided(status, locked, code):
    with pytest.raises(Conflict) as exc:
        domain.check_decidable(status, locked)
    assert exc.value.code == code and exc.value.status == 409


def test_pending_entry_of_open_month_is_decidable():
    domain.check_decidable("pending", False)
