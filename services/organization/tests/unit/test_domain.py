from decimal import Decimal

import pytest

from ekinerja_common.errors import DomainError, ValidationFailed
from organization import domain


def test_position_rules_list_every_bad_field():
    with pytest.raises(ValidationFailed) as exc:
        domain.check_position("raja", 18, "II.a", Decimal("0"))
    assert set(exc.value.fields) == {"kind", "kelas_jabatan", "eselon", "factor"}


@pytest.mark.parametrize("kelas", [1, 9, 17])
def test_kelas_jabatan_bounds_accepted(kelas):
    domain.check_position("pelaksana", kelas, None, Decimal("1"))


def test_eselon_only_for_structural():
    domain.check_position("pengawas", 9, "IV.a", Decimal("1"))
    with pytest.raises(ValidationFailed):
        domain.check_position("pelaksana", 7, "IV.a", Decimal("1"))


def test_no_cycle():
    parents = {"c": "b", "b": "a", "a": None}
    domain.check_no_cycle("d", "c", parents.get)  # fine: d under c
    with pytest.raises(DomainError) as exc:
        domain.check_no_cycle("a", "c", parents.get)  # a under its own grandchild
    assert exc.value.code == "cycle"
    with pytest.raises(DomainError):
        domain.check_no_cycle("a", "a", parents.get)


def test_duty_rules():
    domain.check_duty(30, "Menyusun laporan", "laporan")
    with pytest.raises(ValidationFailed) as exc:
        domain.check_duty(0, " ", "")
    assert set(exc.value.fields) == {"norma_waktu", "description", "output_unit"}


# -- unit tree ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, parent_kind, has_parent, ok", [
    ("opd", None, False, True), ("bidang", "opd", True, True), ("subbidang", "bidang", True, True),
    ("opd", "opd", True, False), ("bidang", None, False, False), ("bidang", "bidang", True, False),
    ("subbidang", "opd", True, False), ("subbidang", None, False, False),
])
def test_unit_kinds_nest_opd_bidang_subbidang(kind, parent_kind, has_parent, ok):
    if ok:
        domain.check_unit(kind, parent_kind, has_parent)
    else:
        with pytest.raises(ValidationFailed) as exc:
            domain.check_unit(kind, parent_kind, has_parent)
        assert set(exc.value.fields) == {"parent_id"}


def test_eselon_matches_the_kind_of_structural_position():
    assert domain.normalize_eselon(" ii/B ") == "II.b" and domain.normalize_eselon("") is None
    domain.check_position("jpt", 14, "II.b", Decimal("1"))
    domain.check_position("administrator", 11, "III.a", Decimal("1"))
    for kind, eselon in (("jpt", "III.a"), ("pengawas", "II.b"), ("administrator", None), ("pengawas", "IV.c")):
        with pytest.raises(ValidationFailed) as exc:
            domain.check_position(kind, 9, eselon, Decimal("1"))
        assert set(exc.value.fields) == {"eselon"}, (kind, eselon)


def test_guards_of_the_tree():
    domain.check_abolishable(0, 0)
    for holders, children, code in ((1, 0, "position_held"), (0, 2, "position_has_children")):
        with pytest.raises(DomainError) as exc:
            domain.check_abolishable(holders, children)
        assert exc.value.code == code and exc.value.status == 409
    domain.check_unit_removable(0, 0)
    for children, positions, code in ((1, 0, "unit_has_children"), (0, 3, "unit_has_positions")):
        with pytest.raises(DomainError) as exc:
            domain.check_unit_removable(children, positions)
        assert exc.value.code == code


def test_effective_dates_go_forward_and_never_into_the_future():
    from datetime import date

    today = date(2026, 11, 27)
    domain.check_valid_from(today, date(2026, 1, 1), today)
    domain.check_valid_from(date(2026, 1, 1), date(2026, 1, 1), today)  # a same-day correction
    domain.check_valid_from(date(2020, 1, 1), None, today)
    for day, current, code in ((date(2026, 11, 28), None, "future_change"),
                               (date(2025, 12, 31), date(2026, 1, 1), "before_current_version")):
        with pytest.raises(DomainError) as exc:
            domain.check_valid_from(day, current, today)
        assert exc.value.code == code and set(exc.value.fields) == {"valid_from"}


# -- ABK ------------------------------------------------------------------------------------------

def test_required_staff_is_the_workload_over_the_effective_minutes():
    # 1,200 letters x 10 min + 250 meetings x 60 min + 48 reports x 300 min = 41,400 minutes.
    w = domain.workload([(1200, 10), (250, 60), (48, 300)], 72_000)
    assert (w.minutes, w.required, w.required_rounded, w.duties, w.duties_without_volume) == (
        41_400, Decimal("0.58"), 1, 3, 0)
    assert domain.workload([(3600, 30)], 72_000).required == Decimal("1.50")
    assert domain.workload([(3600, 30)], 72_000).required_rounded == 2       # half up
    assert domain.workload([(3599, 30)], 72_000).required_rounded == 1
    assert domain.workload([(7200, 30), (None, 60)], 60_000) == domain.Workload(216_000, Decimal("3.60"), 4, 2, 1)
    assert domain.workload([], 72_000).required == Decimal("0.00")


def test_policy_and_volume_bounds():
    domain.check_effective_minutes(72_000)
    for minutes in (0, 600_000):
        with pytest.raises(DomainError):
            domain.check_effective_minutes(minutes)
    assert set(domain.duty_problems(30, "x", "y", -1)) == {"yearly_volume"}
    assert domain.duty_problems(30, "x", "y", 0) == {}
    assert domain.duty_key("  Menyusun   LAPORAN ") == domain.duty_key("menyusun laporan")
