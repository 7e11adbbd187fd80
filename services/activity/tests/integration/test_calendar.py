"""The work calendar as policy data: read by all, set by BKD, audited, announced to payroll, and
applied again to the days already recorded on a date that changed."""
from datetime import date

from sqlalchemy import select

from activity.orm import AttendanceDay, CalendarAudit


def bkd(keys):
    return keys.headers("bkd-1", "admin_bkd", account_id="acct-bkd-1")


def document(**kw):
    doc = {
        "schedule": {"1": {"start": "07:30", "end": "16:00"}, "2": {"start": "07:30", "end": "16:00"},
                     "3": {"start": "07:30", "end": "16:00"}, "4": {"start": "07:30", "end": "16:00"},
                     "5": {"start": "07:30", "end": "16:30"}},
        "holidays": [{"date": "2026-08-17", "name": "Hari Kemerdekaan"}, {"date": "2026-12-25", "name": "Natal"}],
        "collective_leave": [{"date": "2026-12-24", "name": "Cuti bersama Natal"}],
    }
    return {**doc, **kw}


def test_defaults_until_bkd_sets_the_year(client, keys, world):
    r = client.get("/calendar/2027", headers=keys.headers(world.employee_id, "pegawai"))
    assert r.status_code == 200
    cal = r.get_json()
    assert cal["version"] == 0 and cal["updated_by"] is None and cal["is_default"] is True
    # The default: Monday to Friday less the fixed-date national holidays (ekinerja_common.workdays),
    # the calendar payroll counts with too until BKD stores the year.
    assert [h["date"] for h in cal["holidays"]] == ["2027-01-01", "2027-05-01", "2027-06-01", "2027-08-17", "2027-12-25"]
    assert cal["working_weekdays"] == [1, 2, 3, 4, 5] and cal["target_minutes_per_day"] == 300
    assert cal["schedule"]["5"] == {"start": "07:30", "end": "16:30"}
    assert cal["deductions"]["TK"] == "3" and cal["deductions_source"] == "default"
    assert cal["working_days"]["02"] == 20 and cal["working_days"]["06"] == 21 and "CUTI" in cal["excused_codes"]
    assert client.get("/calendar/2027").status_code == 401
    assert client.get("/calendar/1999", headers=bkd(keys)).status_code == 422


def test_bkd_sets_a_year_audited_and_announced(client, keys, runtime, outbox, month, world):
    r = client.put("/calendar/2026", json=document(), headers=bkd(keys))
    assert r.status_code == 200, r.get_json()
    cal = r.get_json()
    assert (cal["version"], cal["changed"], cal["updated_by"], cal["is_default"]) == (1, True, "acct-bkd-1", False)
    assert cal["working_days"]["12"] == 23 - 2
    [event] = outbox()
    assert event["type"] == "calendar.updated" and event["source"] == "activity"
    assert event["data"] == {"year": 2026, "holidays": ["2026-08-17", "2026-12-25"], "collective_leave": ["2026-12-24"],
                             "working_weekdays": [1, 2, 3, 4, 5], "target_minutes_per_day": 300, "version": 1}
    assert month(world.employee_id, "2026-12")["target_minutes"] == 21 * 300
    # What GET gives can be PUT back: an unchanged document is no new version and no event.
    again = client.put("/calendar/2026", json=client.get("/calendar/2026", headers=bkd(keys)).get_json(), headers=bkd(keys))
    assert again.status_code == 200 and (again.get_json()["version"], again.get_json()["changed"]) == (1, False)
    assert len(outbox()) == 1
    second = client.put("/calendar/2026", json=document(target_minutes_per_day=330, version=1), headers=bkd(keys))
    assert second.get_json()["version"] == 2
    history = client.get("/calendar/2026/history", headers=bkd(keys)).get_json()["versions"]
    assert [(v["version"], v["changed_by"], v["document"]["target_minutes_per_day"]) for v in history] == [
        (1, "acct-bkd-1", 300), (2, "acct-bkd-1", 330)]
    assert month(world.employee_id, "2026-12")["target_minutes"] == 21 * 330
    with runtime.session_factory() as s:
        assert len(s.scalars(select(CalendarAudit)).all()) == 2


def test_a_stale_version_is_refused(client, keys, outbox):
    client.put("/calendar/2026", json=document(), headers=bkd(keys))
    r = client.put("/calendar/2026", json=document(holidays=[], version=0), headers=bkd(keys))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "stale_version"
    assert len(outbox()) == 1


def test_every_mistake_is_listed_and_nothing_stored(client, keys, runtime, outbox):
    bad = document(schedule={"1": {"start": "16:00", "end": "07:00"}, "2": {"start": "7:30", "end": "16:00"}},
                   holidays=[{"date": "2025-12-31", "name": "x"}, {"date": "2026-12-24", "name": "Natal"}],
                   late_bands=[30, 20, 90], year=2026)
    r = client.put("/calendar/2026", json=bad, headers=bkd(keys))
    assert r.status_code == 422
    fields = r.get_json()["error"]["fields"]
    assert "schedule.2.start" in fields  # the shape check (HH:MM) comes first, field by field
    r = client.put("/calendar/2026", json={**bad, "schedule": {"1": {"start": "16:00", "end": "07:00"}}}, headers=bkd(keys))
    fields = r.get_json()["error"]["fields"]
    assert {"schedule.1.end", "holidays.0.date", "collective_leave.0.date", "late_bands"} <= set(fields)
    assert client.put("/calendar/2026", json=document(year=2025), headers=bkd(keys)).status_code == 422
    assert client.put("/calendar/2026", json=document(), headers=keys.headers("e-1", "pegawai")).status_code == 403
    assert outbox() == []
    with runtime.session_factory() as s:
        assert s.scalars(select(CalendarAudit)).all() == []


def test_a_date_declared_a_holiday_afterwards_clears_its_absences(client, keys, feed, world, runtime, outbox, month, consistent):
    """The regent declares 7 October a holiday after the day was closed: the TK marks go (a new
    version each, announced); a day in a locked month stays as it was."""
    emp = feed.employee(name="Sari").data["employee_id"]
    feed.placement(emp, world.position_id, date(2026, 1, 1))
    for day in ("2026-10-07", "2026-09-30"):
        assert client.post("/attendance/close-day", json={"date": day}, headers=bkd(keys)).status_code == 200
    assert month(emp, "2026-10")["discipline_pct"] == "97.00"
    feed.lock(2026, 9)
    r = client.put("/calendar/2026", json=document(holidays=[{"date": "2026-10-07", "name": "Libur pilkada"},
                                                             {"date": "2026-09-30", "name": "Libur lain"}]),
                   headers=bkd(keys))
    assert r.status_code == 200 and (r.get_json()["recomputed_days"], r.get_json()["skipped_locked_days"]) == (1, 1)
    with runtime.session_factory() as s:
        oct7 = s.get(AttendanceDay, (emp, date(2026, 10, 7)))
        sep30 = s.get(AttendanceDay, (emp, date(2026, 9, 30)))
    assert (oct7.codes, oct7.version) == ("", 2) and (sep30.codes, sep30.version) == ("TK", 1)
    last = [e for e in outbox() if e["type"] == "attendance.recorded"][-1]
    assert last["data"] == {"employee_id": emp, "date": "2026-10-07", "codes": [], "deduction_pct": "0", "version": 2}
    assert month(emp, "2026-10")["discipline_pct"] == "100.00"
    assert month(emp, "2026-10")["working_days"] == 22 - 1
    detail = client.get(f"/attendance/{emp}/2026-10-07", headers=bkd(keys)).get_json()
    assert [v["source"] for v in detail["history"]] == ["close", "calendar"]
    consistent()


def test_december_2026_counts_the_same_working_days_as_payroll_until_bkd_stores_it(client, keys, month, world):
    """Issue 9 item 5: activity counted 23 days / 6,900 minutes, payroll 22 / 6,600. One default
    calendar (ekinerja_common.workdays): Christmas is off in both."""
    m = month(world.employee_id, "2026-12")
    assert (m["working_days"], m["target_minutes"], m["calendar_is_default"]) == (22, 6_600, True)
    cal = client.get("/calendar/2026", headers=keys.headers(world.employee_id, "pegawai")).get_json()
    assert cal["working_days"]["12"] == 22 and cal["is_default"] is True


def test_deductions_are_bpkads_table_from_payroll(client, keys, feed, world, month):
    """One deduction table (issue 12): payroll owns it and announces it; GET /calendar shows it
    (read-only), PUT ignores what is sent for it, and the month is priced with it."""
    feed("tpp.deductions_updated", {"year": 2026, "policy_version": 2,
                                    "deductions_pct": {"TL1": "0.75", "TL2": "1", "TL3": "1.5", "TL4": "2", "PSW1": "0.5",
                                                       "PSW2": "1", "PSW3": "1.5", "PSW4": "2", "TK": "5", "SAKIT": "0"}})
    cal = client.get("/calendar/2026", headers=bkd(keys)).get_json()
    assert (cal["deductions"]["TK"], cal["deductions_source"], cal["deductions_policy_version"]) == ("5", "payroll", 2)
    # An older version arriving late changes nothing.
    feed("tpp.deductions_updated", {"year": 2026, "policy_version": 1, "deductions_pct": {"TK": "3"}})
    assert client.get("/calendar/2026", headers=bkd(keys)).get_json()["deductions"]["TK"] == "5"
    r = client.put("/calendar/2026", json={**document(), "deductions": {"TK": "9"}}, headers=bkd(keys))
    assert r.status_code == 200 and r.get_json()["deductions"]["TK"] == "5"
