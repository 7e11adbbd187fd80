"""Deadline, policy, bulk and appeal rules on plain data."""
from dataclasses import dataclass
from datetime import date

import pytest

from ekinerja_common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from approval import domain
from ekinerja_common import evidence
from approval.domain import DEFAULT_POLICY, ValidationRules


def test_the_deadline_is_the_policy_day_of_the_following_month():
    assert domain.validation_deadline(date(2026, 11, 10), 5) == date(2026, 12, 5)
    assert domain.validation_deadline(date(2026, 12, 31), 5) == date(2027, 1, 5)
    assert domain.validation_deadline(date(2026, 1, 31), 28) == date(2026, 2, 28)


@pytest.mark.parametrize("today, day, cutoff", [
    (date(2026, 12, 5), 5, date(2026, 11, 1)),  # November's deadline is today: only October and older
    (date(2026, 12, 6), 5, date(2026, 12, 1)),  # past it: November too
    (date(2027, 1, 1), 5, date(2026, 12, 1)),
    (date(2027, 1, 6), 5, date(2027, 1, 1)),
    (date(2026, 3, 1), 28, date(2026, 2, 1)),
])
def test_entries_before_the_cutoff_are_late(today, day, cutoff):
    assert domain.late_before(today, day) == cutoff
    # Whatever is before the cutoff has a deadline before today; the cutoff's own month does not.
    late_month_end = date.fromordinal(cutoff.toordinal() - 1)
    assert domain.validation_deadline(late_month_end, day) < today
    assert domain.validation_deadline(cutoff, day) >= today


def test_policy_defaults_and_bounds():
    assert DEFAULT_POLICY == ValidationRules(5, 14, 10, 50, 10)
    assert domain.check_policy(DEFAULT_POLICY.as_json()) == DEFAULT_POLICY
    with pytest.raises(ValidationFailed) as exc:
        domain.check_policy({"validation_deadline_day": 29, "appeal_window_days": True, "first_level_days": "3",
                             "board_rejection_rate_pct": -1})
    assert set(exc.value.fields) == {"validation_deadline_day", "appeal_window_days", "first_level_days",
                                     "board_rejection_rate_pct", "board_min_decisions"}


def test_rejection_rate_is_more_than_the_percentage_of_at_least_the_minimum():
    p = DEFAULT_POLICY
    assert domain.rejection_rate_abnormal(6, 10, p)
    assert not domain.rejection_rate_abnormal(5, 10, p)  # exactly 50 %
    assert not domain.rejection_rate_abnormal(9, 9, p)  # too few decisions
    assert domain.rejection_rate_abnormal(51, 100, p) and not domain.rejection_rate_abnormal(50, 100, p)
    assert not domain.rejection_rate_abnormal(10, 10, ValidationRules(board_rejection_rate_pct=100))


def test_the_escalated_supervisor_may_decide_too_but_never_the_employee():
    assert domain.authority_problem("staff", "kasub", "kabid", escalated_to="kabid") is None
    assert domain.authority_problem("staff", "kasub", "kasub", escalated_to="kabid") is None
    assert domain.authority_problem("staff", "kasub", "peer", escalated_to="kabid").code == "not_supervisor"
    assert domain.authority_problem("staff", "kasub", "staff", escalated_to="staff").code == "own_entry"
    assert domain.authority_problem("staff", None, None, escalated_to=None).code == "not_supervisor"


def test_bulk_refusal_status_is_the_gravest_class():
    forbidden, missing, conflict = Forbidden(code="not_supervisor"), NotFound(domain.ENTRY_NOT_FOUND), Conflict(
        "already_decided", domain.ENTRY_NOT_FOUND)
    assert domain.BulkRefused([(0, "a", conflict), (1, "b", missing), (2, "c", forbidden)]).status == 403
    assert domain.BulkRefused([(0, "a", conflict), (1, "b", missing)]).status == 422
    assert domain.BulkRefused([(0, "a", conflict)]).status == 409
    body = domain.BulkRefused([(3, "x", conflict)]).as_json()["error"]
    assert body["entries"] == [{"index": 3, "entry_id": "x", "code": "already_decided"}] and set(body["fields"]) == {"entry_ids.3"}


def test_repeated_ids_are_named():
    domain.check_entry_ids(["a", "b"])
    with pytest.raises(ValidationFailed) as exc:
        domain.check_entry_ids(["a", "b", "a", "b", "a"])
    assert set(exc.value.fields) == {"entry_ids.2", "entry_ids.3", "entry_ids.4"}
    assert exc.value.fields["entry_ids.2"].en == "Duplicate of entry_ids.0"


@dataclass
class A:
    employee_id: str = "ani"
    original_decider_id: str = "kabid"
    first_level_decider_id: str | None = "kadis"
    level: str = domain.FIRST_LEVEL
    status: str = domain.OPEN
    outcome: str | None = None
    decided_on: date | None = None


def test_board_conflicts():
    a = A()
    assert all(domain.conflicted(p, a) for p in ("ani", "kabid", "kadis"))
    assert not domain.conflicted("insp", a)
    assert not domain.conflicted("kadis", A(first_level_decider_id=None))


def test_when_the_employee_may_escalate():
    today = date(2026, 12, 1)
    domain.check_may_escalate(A(), today, DEFAULT_POLICY)  # first level still silent
    domain.check_may_escalate(A(status=domain.CLOSED, outcome="upheld", decided_on=date(2026, 11, 17)), today, DEFAULT_POLICY)
    cases = [
        (A(status=domain.CLOSED, outcome="upheld", decided_on=date(2026, 11, 16)), "window_closed"),
        (A(status=domain.CLOSED, outcome="overturned", decided_on=today), "appeal_final"),
        (A(level=domain.BOARD), "already_at_board"),
        (A(level=domain.BOARD, status=domain.CLOSED, outcome="upheld", decided_on=today), "appeal_final"),
    ]
    for appeal, code in cases:
        with pytest.raises(Conflict) as exc:
            domain.check_may_escalate(appeal, today, DEFAULT_POLICY)
        assert exc.value.code == code


def test_evidence_is_judged_by_content():
    assert evidence.check_upload("a.pdf", b"%PDF-1.7 ...", 100) == "application/pdf"
    assert evidence.check_upload("A.JPG", b"\xff\xd8\xff\xe0....", 100) == "image/jpeg"
    for name, data, code in [("a.pdf", b"<html>", "evidence_type"), ("a.png", b"%PDF-1.7", "evidence_type"),
                             ("a.pdf", b"", "validation_failed"), ("a.pdf", b"%PDF-" + b"x" * 200, "evidence_too_large")]:
        with pytest.raises(Exception) as exc:
            evidence.check_upload(name, data, 100)
        assert exc.value.code == code
    assert evidence.display_name("../../etc/pass wd;rm.pdf") == "pass wd_rm.pdf"
