"""Decision rules, on plain data. (Who supervises whom is the shared rule,
``ekinerja_common.supervision``, held to the shared table of cases in libs/tests/unit and, with
approval's own loader and queue SQL, in tests/rules/test_supervision_everywhere.py.)"""
import pytest

from ekinerja_common.errors import Conflict, Forbidden, ValidationFailed
from approval import domain


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
