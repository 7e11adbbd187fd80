"""Read models fed by events: exactly once, and never rolled back by a late older version."""
import uuid
from datetime import date

from sqlalchemy import select

from payroll.orm import ActivityDecision, AttendanceDay, Employee, Placement, Position


def one(runtime, model, key):
    with runtime.session_factory() as s:
        return s.get(model, key)


def test_the_same_message_twice_changes_nothing(events, runtime):
    emp, message = str(uuid.uuid4()), str(uuid.uuid4())
    assert events.decision("approved", "entry-1", emp, "2026-06-03", 120, id=message) == "handled"
    assert events.decision("rejected", "entry-1", emp, "2026-06-03", 120, version=2, id=message) == "duplicate"
    assert one(runtime, ActivityDecision, "entry-1").status == "approved"


def test_approved_then_rejected_entry_no_longer_counts(events, runtime):
    emp = str(uuid.uuid4())
    events.decision("approved", "entry-1", emp, "2026-06-03", 120, version=2)
    events.decision("rejected", "entry-1", emp, "2026-06-03", 120, version=3)
    row = one(runtime, ActivityDecision, "entry-1")
    assert (row.status, row.version) == ("rejected", 3)


def test_a_late_older_decision_cannot_override_a_newer_one(events, runtime):
    emp = str(uuid.uuid4())
    events.decision("returned", "entry-1", emp, "2026-06-03", 90, version=2)
    assert events.decision("approved", "entry-1", emp, "2026-06-03", 90, version=1) == "handled"
    assert one(runtime, ActivityDecision, "entry-1").status == "returned"


def test_an_older_employee_version_after_a_newer_one_changes_nothing(events, runtime):
    emp = str(uuid.uuid4())
    events.employee(emp, golongan="III/c", version=3, name="Nama Baru")
    events.employee(emp, golongan="III/a", version=2, name="Nama Lama")
    events.employee(emp, golongan="II/d", version=1, name="Nama Awal")
    row = one(runtime, Employee, emp)
    assert (row.golongan, row.name, row.version) == ("III/c", "Nama Baru", 3)
    events.employee(emp, golongan="IV/a", version=4, active=False)
    row = one(runtime, Employee, emp)
    assert (row.golongan, row.active, row.version) == ("IV/a", False, 4)


def test_positions_placements_and_attendance_keep_their_latest_version(events, runtime):
    pos, emp = str(uuid.uuid4()), str(uuid.uuid4())
    events.position(pos, kelas=8, factor="1.25", version=2)
    events.position(pos, kelas=7, version=1)
    assert (one(runtime, Position, pos).kelas_jabatan, str(one(runtime, Position, pos).factor)) == (8, "1.2500")
    events.placement("pl-1", emp, pos, "2026-01-01", "2026-06-15", version=2)
    events.placement("pl-1", emp, pos, "2026-01-01", None, version=1)
    assert str(one(runtime, Placement, "pl-1").end_date) == "2026-06-15"
    events.attendance(emp, "2026-06-02", "0.5", ["TL1"], version=2)
    events.attendance(emp, "2026-06-02", "3", ["TK"], version=1)
    day = one(runtime, AttendanceDay, {"employee_id": emp, "day": date(2026, 6, 2)})
    assert (day.codes, str(day.deduction_pct)) == (["TL1"], "0.500")


def test_events_of_different_aggregates_in_any_order(events, runtime):
    emp, pos = str(uuid.uuid4()), str(uuid.uuid4())
    # The placement and an approval arrive before the employee and the position exist here.
    assert events.placement("pl-1", emp, pos, "2026-01-01") == "handled"
    assert events.decision("approved", "entry-1", emp, "2026-06-03", 60) == "handled"
    assert events.employee(emp, golongan="III/a") == "handled"
    assert events.position(pos, kelas=9) == "handled"
    # Events payroll does not need are recorded and ignored.
    assert events.send("duty.retired", {"duty_id": "d1", "position_id": pos, "version": 2}) == "ignored"
    with runtime.session_factory() as s:
        assert s.scalar(select(Placement.position_id).where(Placement.employee_id == emp)) == pos
