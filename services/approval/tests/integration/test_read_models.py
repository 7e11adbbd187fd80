"""Read models fed by events, through the consumer's idempotent path, on real PostgreSQL:
duplicates change nothing, older versions never overwrite newer ones, order does not matter."""
from datetime import date

from sqlalchemy import func, select

from ekinerja_common.outbox import PROCESSED
from approval.orm import Employee, LockedPeriod, Placement, Position, ValidationItem


def get(runtime, model, key):
    with runtime.session_factory() as s:
        return s.get(model, key)


def test_the_same_envelope_twice_changes_nothing(feed, runtime):
    feed.employee("ani", "Ani", version=1)
    update = feed.envelope("employee.updated", "identity", {
        "employee_id": feed.id("ani"), "nip": "198609262015052001", "name": "Ani Lestari", "employee_kind": "PNS",
        "status": "PNS", "golongan": "III/b", "active": True, "version": 2})
    assert feed.apply(update) == "handled"
    # Someone edits the read model meanwhile; a redelivery of the same id must not re-apply.
    with runtime.session_factory() as s, s.begin():
        s.get(Employee, feed.id("ani")).name = "marker"
    assert feed.apply(update) == "duplicate"
    assert get(runtime, Employee, feed.id("ani")).name == "marker"
    submitted = feed.submit("1", "ani")
    assert feed.apply(submitted) == "duplicate"
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(ValidationItem)) == 1
        processed = runtime.metadata.tables[PROCESSED]
        assert s.scalar(select(func.count()).select_from(processed)) == 3


def test_an_older_version_after_a_newer_one_changes_nothing(feed, runtime):
    feed.employee("ani", "Ani Baru", version=2, event="employee.updated")
    feed.employee("ani", "Ani Lama", version=1)
    assert get(runtime, Employee, feed.id("ani")).name == "Ani Baru"

    feed.position("KADIS")
    feed.position("KABID", parent="KADIS", version=2, event="position.updated")
    feed.position("KABID", parent=None, version=1)
    assert get(runtime, Position, feed.id("P:KABID")).parent_id == feed.id("P:KADIS")

    feed.place("ani", "KABID", end="2026-06-30", version=2)
    feed.place("ani", "KABID", end=None, version=1)
    assert get(runtime, Placement, feed.id("PL:ani:KABID:definitive")).end_date == date(2026, 6, 30)

    feed.submit("1", "ani", start="10:00", end="11:00", version=3, description="Revisi")
    feed.submit("1", "ani", start="08:00", end="09:00", version=1, description="Awal")
    item = get(runtime, ValidationItem, feed.id("E:1"))
    assert (item.description, item.version, item.start_time.isoformat(), item.status) == ("Revisi", 3, "10:00:00", "pending")


def test_a_withdrawal_arriving_before_its_submission_keeps_the_entry_out(feed, runtime):
    feed.withdraw("1", "ani", version=2)
    feed.submit("1", "ani", version=1)  # the late, older submission
    item = get(runtime, ValidationItem, feed.id("E:1"))
    assert (item.status, item.version) == ("withdrawn", 2)
    feed.submit("1", "ani", version=3)  # a real resubmission afterwards
    assert get(runtime, ValidationItem, feed.id("E:1")).status == "pending"


def test_a_period_lock_is_recorded_once(feed, runtime):
    feed.lock(2026, 11)
    feed.lock(2026, 11)  # another lock event (new id) for the same month
    with runtime.session_factory() as s:
        assert s.scalars(select(LockedPeriod)).all() == [s.get(LockedPeriod, (2026, 11))]


def _confirmations(runtime) -> list[dict]:
    import json

    from ekinerja_common.outbox import OUTBOX

    table = runtime.metadata.tables[OUTBOX]
    with runtime.engine.connect() as conn:
        bodies = [json.loads(b) for b in conn.execute(select(table.c.body).order_by(table.c.seq)).scalars()]
    return [b["data"] for b in bodies if b["type"] == "activity.change_accepted"]


def test_a_change_taken_over_a_pending_version_is_confirmed(feed, runtime):
    feed.submit("1", "ani", version=1)
    assert _confirmations(runtime) == []  # a first submission replaces nothing
    feed.submit("1", "ani", version=3, end="09:00")  # an edit while pending
    feed.withdraw("1", "ani", version=5)
    assert [(c["version"], c["status"]) for c in _confirmations(runtime)] == [(3, "pending"), (5, "withdrawn")]
    assert get(runtime, ValidationItem, feed.id("E:1")).status == "withdrawn"


def test_a_withdrawal_that_overtook_its_submission_is_confirmed_too(feed, runtime):
    feed.withdraw("1", "ani", version=3)
    assert [(c["version"], c["status"]) for c in _confirmations(runtime)] == [(3, "withdrawn")]


def test_a_decision_stands_against_a_change_that_crossed_it(api, org, runtime):
    """Issue 9: the edit and the withdrawal that crossed an approval must not reopen it (payroll
    already counts it); a rejection must not be undone without an appeal either."""
    feed = org
    for key, verb in (("1", "approve"), ("2", "reject")):
        feed.submit(key, "ani", version=1, start="08:00" if key == "1" else "10:00", end="09:00" if key == "1" else "11:00")
        body = {"reason": "Tidak sesuai"} if verb == "reject" else None
        assert api.post(f"/entries/{api.entry(key)}/{verb}", "kabid", json=body).status_code == 200
        feed.submit(key, "ani", version=3, end="09:30" if key == "1" else "11:30")  # the crossing edit
        feed.withdraw(key, "ani", version=5)  # and the crossing withdrawal
        item = get(runtime, ValidationItem, feed.id(f"E:{key}"))
        assert (item.status, item.version) == ({"approve": "approved", "reject": "rejected"}[verb], 2)
    assert _confirmations(runtime) == []  # nothing taken, so nothing confirmed
    with runtime.session_factory() as s:
        from approval.orm import MonthlyMinutes
        assert s.get(MonthlyMinutes, (feed.id("ani"), 2026, 11)).approved_minutes == 60
