"""Attendance (presensi) against a real PostgreSQL database: import, device push, leave, day
closing, corrections with history, idempotency, locked months, and the month's discipline."""
import io
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ekinerja_common import clock
from activity.orm import AttendanceDay, AttendanceImport, AttendanceRecord

# A week long past, so that every test sees the same working days whatever today is.
MON, TUE, WED, THU, FRI = (date(2026, 10, 5) + timedelta(days=i) for i in range(5))
SAT = date(2026, 10, 10)
MONTH = "2026-10"


@dataclass
class Staff:
    ids: list[str]
    nips: list[str]
    unplaced: str
    unplaced_nip: str
    retired: str


@pytest.fixture
def staff(feed, world) -> Staff:
    ids, nips = [], []
    for i in range(3):
        env = feed.employee(name=f"Pegawai {i}")
        ids.append(env.data["employee_id"])
        nips.append(env.data["nip"])
        feed.placement(env.data["employee_id"], world.position_id, date(2026, 1, 1))
    unplaced = feed.employee(name="Belum ditempatkan").data
    retired = feed.employee(name="Pensiun", active=False).data
    feed.placement(retired["employee_id"], world.position_id, date(2026, 1, 1))
    return Staff(ids, nips, unplaced["employee_id"], unplaced["nip"], retired["employee_id"])


def bkd(keys):
    return keys.headers("bkd-1", "admin_bkd", account_id="acct-bkd-1")


def csv_text(*rows, header="nip,date,check_in,check_out,code"):
    return header + "\n" + "".join(",".join(r) + "\n" for r in rows)


def import_csv(client, keys, text, partial=False, as_file=True, headers=None):
    url = "/attendance/import" + ("?partial=true" if partial else "")
    headers = headers if headers is not None else bkd(keys)
    if as_file:
        return client.post(url, data={"file": (io.BytesIO(text.encode()), "presensi-okt.csv")}, headers=headers,
                           content_type="multipart/form-data")
    return client.post(url, data=text.encode(), headers=headers, content_type="text/csv")


def days(runtime):
    with runtime.session_factory() as s:
        return {(d.employee_id, d.date): d for d in s.scalars(select(AttendanceDay))}


def history_count(runtime):
    with runtime.session_factory() as s:
        return s.scalar(select(func.count()).select_from(AttendanceRecord))


def attendance_events(outbox):
    return [e for e in outbox() if e["type"] == "attendance.recorded"]


def week(staff, day=MON):
    """One day of three people: on time; late 45 min and left 10 min early; on sick leave."""
    a, b, c = staff.nips
    return [(a, day.isoformat(), "07:25", "16:02", ""), (b, day.isoformat(), "08:15:30", "15:50", ""),
            (c, day.isoformat(), "", "", "SAKIT")]


# -- import -----------------------------------------------------------------------------------

def test_import_computes_codes_and_announces_only_what_payroll_counts(client, keys, staff, runtime, outbox, month, consistent):
    r = import_csv(client, keys, csv_text(*week(staff)))
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    assert {k: report[k] for k in ("rows", "changed", "unchanged", "rejected", "events")} == \
        {"rows": 3, "changed": 3, "unchanged": 0, "rejected": 0, "events": 2}
    stored = days(runtime)
    a, b, c = (stored[(e, MON)] for e in staff.ids)
    assert (a.codes, str(a.deduction_pct), a.version) == ("", "0.00", 1)
    assert (b.codes, b.deduction_pct) == ("TL2,PSW1", 1.5)
    assert (c.codes, c.device_code, c.deduction_pct) == ("SAKIT", "SAKIT", 0)
    events = attendance_events(outbox)
    assert [e["data"] for e in events] == [
        {"employee_id": staff.ids[1], "date": "2026-10-05", "codes": ["TL2", "PSW1"], "deduction_pct": "1.5", "version": 1},
        {"employee_id": staff.ids[2], "date": "2026-10-05", "codes": ["SAKIT"], "deduction_pct": "0", "version": 1},
    ]
    assert all(e["source"] == "activity" and e["correlation_id"] for e in events)
    m = month(staff.ids[1], MONTH)
    assert m["attendance"] == {"recorded_days": 1, "late_days": 1, "early_days": 1, "absent_days": 0,
                               "excused_days": 0, "deduction_pct": "1.50"}
    assert m["discipline_pct"] == "98.50"
    assert month(staff.ids[2], MONTH)["attendance"]["excused_days"] == 1
    with runtime.session_factory() as s:
        audit = s.scalars(select(AttendanceImport)).one()
    assert (audit.filename, audit.submitted_by, audit.changed, audit.source) == ("presensi-okt.csv", "acct-bkd-1", 3, "file")
    consistent()


def test_the_month_is_priced_with_bpkads_table_as_payroll_prices_it(client, keys, staff, feed, outbox, month, consistent):
    """One deduction table (issue 12): when BPKAD changes it in payroll's policy, the month shown
    here is priced with it at once — days recorded before included, as payroll's next compute
    prices them (Σ days × rate, ekinerja_common.discipline.price) — and days recorded afterwards
    are reported with it."""
    assert import_csv(client, keys, csv_text(*week(staff))).status_code == 200
    assert month(staff.ids[1], MONTH)["attendance"]["deduction_pct"] == "1.50"  # the default table
    feed("tpp.deductions_updated", {"year": 2026, "policy_version": 2, "deductions_pct": {
        "TL1": "0.5", "TL2": "2", "TL3": "1.5", "TL4": "2", "PSW1": "1", "PSW2": "1", "PSW3": "1.5", "PSW4": "2",
        "TK": "3", "SAKIT": "0.25"}})
    m = month(staff.ids[1], MONTH)
    assert (m["attendance"]["deduction_pct"], m["discipline_pct"], m["deductions_policy_version"]) == ("3.00", "97.00", 2)
    assert month(staff.ids[2], MONTH)["attendance"]["deduction_pct"] == "0.25"  # BPKAD priced SAKIT
    assert import_csv(client, keys, csv_text(*week(staff, TUE))).status_code == 200
    tuesday = [e["data"] for e in attendance_events(outbox) if e["data"]["date"] == TUE.isoformat()]
    assert [(d["codes"], d["deduction_pct"]) for d in tuesday] == [(["TL2", "PSW1"], "3"), (["SAKIT"], "0.25")]
    assert month(staff.ids[1], MONTH)["attendance"]["deduction_pct"] == "6.00"
    consistent()


def test_reimporting_the_same_file_changes_nothing(client, keys, staff, runtime, outbox, consistent):
    text = csv_text(*week(staff), *week(staff, TUE))
    assert import_csv(client, keys, text).status_code == 200
    before_events, before_history = len(outbox()), history_count(runtime)
    again = import_csv(client, keys, text).get_json()
    assert (again["changed"], again["unchanged"], again["events"]) == (0, 6, 0)
    assert len(outbox()) == before_events and history_count(runtime) == before_history
    assert {d.version for d in days(runtime).values()} == {1}
    # The same rows in another order and with other spellings are the same data.
    a, b, c = staff.nips
    shuffled = csv_text((c, "2026-10-06", "", "", "sakit"), (b, "2026-10-06", "8:15:30", "15:50:00", ""),
                        (a.replace("2015", " 2015 "), "2026-10-06", "07:25", "16:02", ""))
    assert import_csv(client, keys, shuffled).get_json()["changed"] == 0
    consistent()


def test_a_correction_is_a_new_version_and_the_history_is_kept(client, keys, staff, runtime, outbox, month, consistent):
    a, b, _ = staff.nips
    import_csv(client, keys, csv_text((a, "2026-10-05", "07:50", "16:00", ""), (b, "2026-10-05", "07:20", "16:10", "")))
    r = import_csv(client, keys, csv_text((a, "2026-10-05", "07:29", "16:00", ""), (b, "2026-10-05", "07:20", "16:10", "")))
    assert (r.get_json()["changed"], r.get_json()["unchanged"], r.get_json()["events"]) == (1, 1, 1)
    [first, correction] = attendance_events(outbox)
    assert first["data"] == {"employee_id": staff.ids[0], "date": "2026-10-05", "codes": ["TL1"], "deduction_pct": "0.5", "version": 1}
    assert correction["data"] == {"employee_id": staff.ids[0], "date": "2026-10-05", "codes": [], "deduction_pct": "0", "version": 2}
    detail = client.get(f"/attendance/{staff.ids[0]}/2026-10-05", headers=bkd(keys)).get_json()
    assert detail["version"] == 2 and detail["codes"] == [] and detail["check_in"] == "07:29:00"
    assert [(v["version"], v["check_in"], v["codes"], v["source"]) for v in detail["history"]] == [
        (1, "07:50:00", ["TL1"], "file"), (2, "07:29:00", [], "file")]
    assert month(staff.ids[0], MONTH)["discipline_pct"] == "100.00"
    # A correction that changes the punches but not the codes is a new version, not an event.
    r = import_csv(client, keys, csv_text((a, "2026-10-05", "07:10", "16:00", "")))
    assert (r.get_json()["changed"], r.get_json()["events"]) == (1, 0)
    assert days(runtime)[(staff.ids[0], MON)].version == 3 and history_count(runtime) == 4
    consistent()


def test_a_bad_file_is_rejected_whole_with_every_error_and_its_line(client, keys, staff, runtime, outbox):
    a, b, c = staff.nips
    text = csv_text(
        (a, "2026-10-05", "07:30", "16:00", ""),           # line 2: fine
        ("199912312020121999", "2026-10-05", "", "", ""),  # line 3: unknown NIP
        (b, "05/10/2026", "07:30", "16:00", ""),           # line 4: bad date
        (c, "2026-10-05", "7.30", "16:00", ""),            # line 5: bad time
        (a, "2026-10-05", "07:31", "16:00", ""),           # line 6: duplicate of line 2
        (b, "2026-10-06", "", "", "LIBUR"),                # line 7: unknown code
        (c, "2099-01-01", "07:30", "16:00", ""),           # line 8: in the future
    )
    r = import_csv(client, keys, text)
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "import_rejected" and "7 baris" in err["message"] and "7 bad rows" in err["message_en"]
    assert list(err["fields"]) == ["lines.2.date", "lines.3.nip", "lines.4.date", "lines.5.check_in", "lines.6.date",
                                   "lines.7.code", "lines.8.date"]
    for f in err["fields"].values():
        assert f["message"] and f["message_en"]
    assert days(runtime) == {} and outbox() == [] and history_count(runtime) == 0
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AttendanceImport)) == 0


def test_partial_mode_imports_the_good_rows_and_reports_the_bad(client, keys, staff, runtime, consistent):
    a, b, c = staff.nips
    text = csv_text((a, "2026-10-05", "07:30", "16:00", ""), ("123", "2026-10-05", "", "", ""),
                    (c, "2026-10-05", "09:45", "16:00", ""))
    r = import_csv(client, keys, text, partial=True)
    assert r.status_code == 200
    report = r.get_json()
    assert (report["changed"], report["rejected"], report["events"]) == (2, 1, 1)
    assert list(report["errors"]) == ["lines.3.nip"] and report["errors"]["lines.3.nip"]["message_en"]
    assert set(days(runtime)) == {(staff.ids[0], MON), (staff.ids[2], MON)}
    assert import_csv(client, keys, text, partial=True).get_json()["changed"] == 0
    assert client.post("/attendance/import?partial=maybe", headers=bkd(keys)).status_code == 422
    consistent()


def test_file_level_problems(client, keys, staff, runtime):
    r = import_csv(client, keys, "nip;tanggal;masuk\n1;2;3\n")
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"file"}
    r = import_csv(client, keys, "nip,date,check_in\n1,2,3\n", partial=True)  # nothing importable, even partially
    assert r.status_code == 422
    r = client.post("/attendance/import", data="nip,date\n".encode("utf-16"), headers=bkd(keys), content_type="text/csv")
    assert r.status_code == 422 and "UTF-8" in r.get_json()["error"]["fields"]["file"]["message_en"]
    r = import_csv(client, keys, "")
    assert r.status_code == 422 and "empty" in r.get_json()["error"]["fields"]["file"]["message_en"]
    assert days(runtime) == {}


def test_text_csv_body_with_semicolons(client, keys, staff, runtime):
    a, _, _ = staff.nips
    r = import_csv(client, keys, f"nip;date;check_in;check_out\n{a};2026-10-05;07:40;16:00\n", as_file=False)
    assert r.status_code == 200 and r.get_json()["changed"] == 1
    assert days(runtime)[(staff.ids[0], MON)].codes == "TL1"


def test_only_bkd_imports(client, keys, staff, world, runtime):
    text = csv_text(*week(staff))
    assert import_csv(client, keys, text, headers=keys.headers(world.employee_id, "pegawai")).status_code == 403
    assert import_csv(client, keys, text, headers={}).status_code == 401
    assert days(runtime) == {}


def test_corrections_of_a_locked_month_are_accepted_and_announced(client, keys, staff, feed, runtime, outbox,
                                                                   month, consistent):
    """Issue 9 item 2: a wrongly recorded TL2 can be corrected after BPKAD locked the month (import,
    device push, leave codes): the new version is announced like any other, and payroll turns it
    into a correction (rapel) in its next open month (tests/rules/test_attendance_rapel.py)."""
    text = csv_text(*week(staff))
    import_csv(client, keys, text)
    feed.lock(2026, 10)
    again = import_csv(client, keys, text)
    assert again.status_code == 200 and again.get_json()["changed"] == 0  # nothing changes
    a, b, c = staff.nips
    # b was recorded TL2,PSW1 on Monday; the device was wrong: on time.
    r = import_csv(client, keys, csv_text((b, "2026-10-05", "07:29", "16:00", ""), (a, "2026-09-30", "07:30", "16:00", "")))
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["changed"], r.get_json()["locked_month_days"]) == (2, 1)  # September is open
    assert days(runtime)[(staff.ids[1], MON)].version == 2
    assert attendance_events(outbox)[-1]["data"] == {"employee_id": staff.ids[1], "date": "2026-10-05", "codes": [],
                                                     "deduction_pct": "0", "version": 2}
    assert month(staff.ids[1], MONTH)["discipline_pct"] == "100.00"
    # A device push of the same month, and a leave code over it, are accepted too.
    push = client.post("/attendance/records", json={"records": [{"nip": a, "date": "2026-10-06", "check_in": "08:10",
                                                                 "check_out": "16:00"}]}, headers=bkd(keys))
    assert push.status_code == 200 and push.get_json()["locked_month_days"] == 1
    leave = client.post("/attendance/leave", json={"nip": a, "code": "SAKIT", "start_date": "2026-10-06"}, headers=bkd(keys))
    assert leave.status_code == 201 and leave.get_json()["locked_month_days"] == 1
    assert days(runtime)[(staff.ids[0], TUE)].codes == "SAKIT"
    cancelled = client.delete(f"/attendance/leave/{leave.get_json()['id']}", headers=bkd(keys))
    assert cancelled.status_code == 200 and cancelled.get_json()["locked_month_days"] == 1
    assert days(runtime)[(staff.ids[0], TUE)].codes == "TL2"
    consistent()


# -- device push --------------------------------------------------------------------------------

def test_devices_push_with_their_own_key(client, keys, staff, runtime, outbox, consistent):
    r = client.post("/attendance/devices", json={"name": "Mesin sidik jari lt. 1"}, headers=bkd(keys))
    assert r.status_code == 201
    device = r.get_json()
    listed = client.get("/attendance/devices", headers=bkd(keys)).get_json()["devices"]
    assert [d["id"] for d in listed] == [device["id"]] and "key" not in listed[0]
    a, b, _ = staff.nips
    body = {"records": [{"nip": a, "date": "2026-10-05", "check_in": "07:20", "check_out": "16:30"},
                        {"nip": b, "date": "2026-10-05", "check_in": "07:20"}]}
    r = client.post("/attendance/records", json=body, headers={"X-Device-Key": device["key"]})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["changed"], r.get_json()["events"]) == (2, 1)  # b has no check-out: PSW4
    assert days(runtime)[(staff.ids[1], MON)].codes == "PSW4"
    with runtime.session_factory() as s:
        sources = {rec.recorded_by for rec in s.scalars(select(AttendanceRecord))}
    assert sources == {f"device:{device['id']}"}
    bad = client.post("/attendance/records", json={"records": [{"nip": a, "date": "2026-10-06", "check_in": "7h"},
                                                               {"nip": "x", "date": "2026-10-06"}]},
                      headers={"X-Device-Key": device["key"]})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"records.0.check_in", "records.1.nip"}
    assert client.post("/attendance/records", json=body, headers={"X-Device-Key": "wrong"}).status_code == 401
    assert client.post("/attendance/records", json=body, headers=keys.headers(staff.ids[0], "pegawai")).status_code == 403
    assert client.post(f"/attendance/devices/{device['id']}/revoke", headers=bkd(keys)).status_code == 200
    assert client.post("/attendance/records", json=body, headers={"X-Device-Key": device["key"]}).status_code == 401
    assert client.post("/attendance/records", json=body, headers=bkd(keys)).get_json()["changed"] == 0  # BKD may push too
    consistent()


# -- leave ------------------------------------------------------------------------------------

def test_leave_with_evidence_excuses_the_working_days(client, keys, staff, runtime, outbox, month, evidence_dir, consistent):
    a, _, _ = staff.nips
    import_csv(client, keys, csv_text((a, "2026-10-07", "", "", "")))  # recorded TK first
    form = {"nip": a, "code": "cuti", "start_date": "2026-10-07", "end_date": "2026-10-12", "note": "Cuti tahunan",
            "file": (io.BytesIO(b"%PDF-1.4 surat cuti"), "surat-cuti.pdf")}
    r = client.post("/attendance/leave", data=form, headers=bkd(keys), content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    leave = r.get_json()
    assert (leave["code"], leave["days_changed"], leave["evidence"]["content_type"]) == ("CUTI", 4, "application/pdf")
    stored = days(runtime)
    emp = staff.ids[0]
    assert {d for (e, d) in stored if e == emp} == {WED, THU, FRI, date(2026, 10, 12)}  # not the weekend
    assert stored[(emp, WED)].codes == "CUTI" and stored[(emp, WED)].version == 2
    events = attendance_events(outbox)
    assert [(e["data"]["date"], e["data"]["codes"], e["data"]["version"]) for e in events] == [
        ("2026-10-07", ["TK"], 1), ("2026-10-07", ["CUTI"], 2), ("2026-10-08", ["CUTI"], 1),
        ("2026-10-09", ["CUTI"], 1), ("2026-10-12", ["CUTI"], 1)]
    assert month(emp, MONTH)["discipline_pct"] == "100.00"
    # The device file arriving later does not undo the leave.
    import_csv(client, keys, csv_text((a, "2026-10-08", "", "", "")))
    assert days(runtime)[(emp, THU)].codes == "CUTI"
    # The evidence: the employee and BKD see it; a colleague does not.
    ev = leave["evidence"]["id"]
    assert client.get(f"/evidence/{ev}", headers=keys.headers(emp, "pegawai")).data.startswith(b"%PDF")
    assert client.get(f"/evidence/{ev}", headers=bkd(keys)).status_code == 200
    assert client.get(f"/evidence/{ev}", headers=keys.headers(staff.ids[1], "pegawai")).status_code == 404
    consistent()


def test_leave_is_checked_and_never_overlaps(client, keys, staff, runtime, evidence_dir):
    a, _, _ = staff.nips
    r = client.post("/attendance/leave", json={"nip": "199912312020121999", "code": "LIBUR", "start_date": "2026-10-09",
                                               "end_date": "2026-10-05"}, headers=bkd(keys))
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"nip", "code", "end_date"}
    r = client.post("/attendance/leave", json={"code": "CUTI", "start_date": "2026-10-05"}, headers=bkd(keys))
    assert r.status_code == 422 and "employee_id" in r.get_json()["error"]["fields"]
    r = client.post("/attendance/leave", data={"employee_id": staff.ids[0], "code": "DL", "start_date": "2026-10-05",
                                               "file": (io.BytesIO(b"GIF89a...."), "x.gif")},
                    headers=bkd(keys), content_type="multipart/form-data")
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"file"}
    ok = client.post("/attendance/leave", json={"employee_id": staff.ids[0], "code": "DL", "start_date": "2026-10-05",
                                                "end_date": "2026-10-06"}, headers=bkd(keys))
    assert ok.status_code == 201 and ok.get_json()["evidence"] is None
    clash = client.post("/attendance/leave", json={"employee_id": staff.ids[0], "code": "SAKIT",
                                                   "start_date": "2026-10-06"}, headers=bkd(keys))
    assert clash.status_code == 409 and clash.get_json()["error"]["code"] == "leave_overlap"
    assert client.post("/attendance/leave", json={"employee_id": staff.ids[0], "code": "DL", "start_date": "2026-10-20"},
                       headers=keys.headers(staff.ids[0], "pegawai")).status_code == 403
    assert not evidence_dir.exists() or not any(p.is_file() for p in evidence_dir.rglob("*"))


def test_cancelling_a_leave_gives_the_days_back_to_the_device_data(client, keys, staff, runtime, outbox, consistent):
    a, _, _ = staff.nips
    import_csv(client, keys, csv_text((a, "2026-10-05", "08:40", "16:00", "")))
    leave = client.post("/attendance/leave", json={"nip": a, "code": "DL", "start_date": "2026-10-05",
                                                   "end_date": "2026-10-06"}, headers=bkd(keys)).get_json()
    r = client.delete(f"/attendance/leave/{leave['id']}", headers=bkd(keys))
    assert r.status_code == 200 and r.get_json()["days_changed"] == 2 and r.get_json()["cancelled_at"]
    stored = days(runtime)
    assert (stored[(staff.ids[0], MON)].codes, stored[(staff.ids[0], MON)].version) == ("TL3", 3)
    assert stored[(staff.ids[0], TUE)].codes == "TK"  # the day is over and nothing else was recorded
    assert client.delete(f"/attendance/leave/{leave['id']}", headers=bkd(keys)).get_json()["days_changed"] == 0
    assert client.delete(f"/attendance/leave/{uuid.uuid4()}", headers=bkd(keys)).status_code == 404
    consistent()


# -- closing a day --------------------------------------------------------------------------------

def test_closing_a_day_marks_who_has_no_record_at_all(client, keys, staff, world, runtime, outbox, month, consistent):
    a, _, _ = staff.nips
    import_csv(client, keys, csv_text((a, "2026-10-05", "07:30", "16:00", "")))
    r = client.post("/attendance/close-day", json={"date": "2026-10-05"}, headers=bkd(keys))
    # b and c; not a (recorded), not the unplaced or retired one, not someone placed whose
    # employee record never reached this service (the world's employee: no NIP, no file row either)
    assert r.status_code == 200 and r.get_json()["changed"] == 2
    stored = days(runtime)
    marked = {e for (e, d), row in stored.items() if d == MON and row.codes == "TK"}
    assert marked == {staff.ids[1], staff.ids[2]}
    assert staff.unplaced not in marked and staff.retired not in marked
    assert stored[(staff.ids[0], MON)].codes == ""
    assert month(staff.ids[1], MONTH)["discipline_pct"] == "97.00"
    assert client.post("/attendance/close-day", json={"date": "2026-10-05"}, headers=bkd(keys)).get_json()["changed"] == 0
    # A record arriving after the closing is a correction of the TK day.
    b = staff.nips[1]
    import_csv(client, keys, csv_text((b, "2026-10-05", "07:30", "16:00", "")))
    assert days(runtime)[(staff.ids[1], MON)].version == 2 and attendance_events(outbox)[-1]["data"]["codes"] == []
    consistent()


def test_closing_needs_a_past_working_day_of_an_open_month(client, keys, staff, feed):
    for day, field in ((SAT, "date"), (clock.today(), "date"), (clock.today() + timedelta(days=3), "date")):
        r = client.post("/attendance/close-day", json={"date": day.isoformat()}, headers=bkd(keys))
        assert r.status_code == 422 and field in r.get_json()["error"]["fields"]
    feed.lock(2026, 10)
    r = client.post("/attendance/close-day", json={"date": "2026-10-05"}, headers=bkd(keys))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "period_locked"
    assert client.post("/attendance/close-day", json={"date": "2026-10-05"},
                       headers=keys.headers(staff.ids[0], "pegawai")).status_code == 403


def test_a_day_pushed_while_it_runs_is_settled_when_closed(client, keys, staff, runtime, outbox, monkeypatch, consistent):
    """At 08:00 on Wednesday the device pushes check-ins: no PSW4 yet. Thursday, BKD closes Wednesday."""
    monkeypatch.setattr(clock, "today", lambda: WED)
    a, b, c = staff.nips
    body = {"records": [{"nip": a, "date": "2026-10-07", "check_in": "07:20"},
                        {"nip": b, "date": "2026-10-07", "check_in": "07:50"}]}
    assert client.post("/attendance/records", json=body, headers=bkd(keys)).status_code == 200
    stored = days(runtime)
    assert (stored[(staff.ids[0], WED)].codes, stored[(staff.ids[1], WED)].codes) == ("", "TL1")
    monkeypatch.setattr(clock, "today", lambda: THU)
    r = client.post("/attendance/close-day", json={"date": "2026-10-07"}, headers=bkd(keys))
    assert r.status_code == 200
    stored = days(runtime)
    assert stored[(staff.ids[0], WED)].codes == "PSW4" and stored[(staff.ids[1], WED)].codes == "TL1,PSW4"
    assert stored[(staff.ids[2], WED)].codes == "TK"
    consistent()


# -- reading ----------------------------------------------------------------------------------

def test_employees_read_their_own_days_and_bkd_reads_anyones(client, keys, staff):
    import_csv(client, keys, csv_text(*week(staff)))
    own = client.get(f"/attendance?month={MONTH}", headers=keys.headers(staff.ids[1], "pegawai"))
    assert own.status_code == 200
    [day] = own.get_json()["days"]
    assert (day["date"], day["codes"], day["deduction_pct"], day["check_in"]) == ("2026-10-05", ["TL2", "PSW1"], "1.5", "08:15:30")
    other = client.get(f"/attendance?month={MONTH}&employee_id={staff.ids[0]}", headers=keys.headers(staff.ids[1], "pegawai"))
    assert other.status_code == 404
    assert client.get(f"/attendance/{staff.ids[0]}/2026-10-05", headers=keys.headers(staff.ids[1], "pegawai")).status_code == 404
    by_bkd = client.get(f"/attendance?month={MONTH}&employee_id={staff.ids[0]}", headers=bkd(keys)).get_json()
    assert [d["date"] for d in by_bkd["days"]] == ["2026-10-05"]
    assert client.get(f"/attendance/{staff.ids[0]}/2026-10-09", headers=bkd(keys)).status_code == 404
    assert client.get(f"/attendance/{staff.ids[0]}/kemarin", headers=bkd(keys)).status_code == 422


def test_attendance_writers_take_turns(client, keys, staff, runtime, app):
    """A second import waits for the first one's transaction, then builds on its versions."""
    import threading
    import time

    from activity import attendance, attendance_services as att

    a = staff.nips[0]
    first = [attendance.RawRow("lines.2", a, "2026-10-05", "07:50", "16:00", "")]
    result = {}

    def second():
        result["r"] = import_csv(app.test_client(), keys, csv_text((a, "2026-10-05", "07:20", "16:00", "")))

    with runtime.uow() as uow:
        att.import_rows(uow, first, {}, source="file", filename=None, digest="x", actor="t", partial=False,
                        today=clock.today())
        racer = threading.Thread(target=second)
        racer.start()
        time.sleep(0.5)
        assert racer.is_alive(), "the second import did not wait for the first"
        uow.commit()
    racer.join(10)
    assert result["r"].status_code == 200 and result["r"].get_json()["changed"] == 1
    detail = client.get(f"/attendance/{staff.ids[0]}/2026-10-05", headers=bkd(keys)).get_json()
    assert [(v["version"], v["codes"]) for v in detail["history"]] == [(1, ["TL1"]), (2, [])]
