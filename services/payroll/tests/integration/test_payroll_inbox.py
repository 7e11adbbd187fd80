"""Read models fed by events: exactly once, and never rolled back by a late older version."""
import uuid
from datetime import date

from sqlalchemy import select

from payroll.orm import ActivityDecision, AttendanceDay, Employee, Placement, Position, Unit


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


def test_an_overturning_appeal_may_arrive_before_the_rejection(events, runtime):
    """One event says an appeal overturned a rejection (issue 12): numbered above the rejection,
    so a late rejection cannot undo it, whichever arrives first."""
    emp = str(uuid.uuid4())
    events.appeal_decided("ap-1", emp, [("entry-9", "2026-06-03", 120)], "overturned", entry_version=3)
    assert one(runtime, ActivityDecision, "entry-9").status == "overturned"
    events.decision("rejected", "entry-9", emp, "2026-06-03", 120, version=2)  # late
    row = one(runtime, ActivityDecision, "entry-9")
    assert (row.status, row.version, row.credited_minutes) == ("overturned", 3, 120)
    # An upheld appeal changes nothing: the rejection stands.
    events.decision("rejected", "entry-10", emp, "2026-06-04", 60, version=2)
    events.appeal_decided("ap-2", emp, [("entry-10", "2026-06-04", 60)], "upheld", entry_version=2)
    assert one(runtime, ActivityDecision, "entry-10").status == "rejected"


def test_attendance_codes_are_kept_per_day_for_counting(events, runtime):
    from payroll.orm import AttendanceCode

    emp = str(uuid.uuid4())
    events.attendance(emp, "2026-06-02", "1", ["tl1", "PSW1"])
    events.attendance(emp, "2026-06-02", "3", ["TK"], version=2)
    with runtime.session_factory() as s:
        assert s.scalars(select(AttendanceCode.code).where(AttendanceCode.employee_id == emp)).all() == ["TK"]
        assert s.get(AttendanceDay, {"employee_id": emp, "day": date(2026, 6, 2)}).codes == ["TK"]


def test_bank_account_is_taken_when_identity_sends_it(events, runtime):
    emp = str(uuid.uuid4())
    events.employee(emp, golongan="III/a", bank_account="0123456789")
    events.employee(emp, golongan="III/b", version=2)  # an event without the field keeps it
    row = one(runtime, Employee, emp)
    assert (row.bank_account, row.golongan) == ("0123456789", "III/b")


def test_units_keep_their_latest_version_once(events, runtime):
    unit, message = str(uuid.uuid4()), str(uuid.uuid4())
    assert events.unit(unit, code="APTIKA", name="Bidang Aptika", kind="bidang", parent_id="opd-1", id=message) == "handled"
    row = one(runtime, Unit, unit)
    assert (row.code, row.name, row.kind, row.parent_id, row.active, row.version) == (
        "APTIKA", "Bidang Aptika", "bidang", "opd-1", True, 1)
    # The same message again (a redelivery) changes nothing, even if it were to say something else.
    assert events.unit(unit, code="APTIKA", name="Lain", kind="bidang", version=5, id=message) == "duplicate"
    assert (one(runtime, Unit, unit).name, one(runtime, Unit, unit).version) == ("Bidang Aptika", 1)
    assert events.unit(unit, code="APTIKA", name="Bidang Aplikasi Informatika", kind="bidang", parent_id="opd-1",
                       version=3) == "handled"
    # A late older version is taken in (exactly once) but changes nothing.
    assert events.unit(unit, code="APTIKA", name="Nama Lama", kind="bidang", parent_id="opd-1", version=2) == "handled"
    row = one(runtime, Unit, unit)
    assert (row.name, row.version, row.active) == ("Bidang Aplikasi Informatika", 3, True)
    events.unit(unit, code="APTIKA", name="Bidang Aplikasi Informatika", kind="bidang", parent_id="opd-1",
                active=False, version=4)
    assert (one(runtime, Unit, unit).active, one(runtime, Unit, unit).version) == (False, 4)


def test_bank_account_null_from_identity_clears_it(events, runtime):
    emp = str(uuid.uuid4())
    events.employee(emp, golongan="III/a", bank_account="0123456789")
    events.employee(emp, golongan="III/a", bank_account=None, version=2)
    assert one(runtime, Employee, emp).bank_account is None


def test_changes_to_a_month_not_computed_are_not_noted(events, runtime):
    from sqlalchemy import func

    from payroll.orm import DataChange

    events.decision("approved", "entry-1", "emp", "2026-06-03", 120)
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(DataChange)) == 0
