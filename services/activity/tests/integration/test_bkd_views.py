"""BKD's month views across people (attendance per unit, who has entered nothing), the attendance
file's preview (dry run) and the calendar's stored/default flag, against real PostgreSQL."""
from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import func, select

from activity.orm import AttendanceDay, AttendanceImport

MON = date(2026, 10, 5)


def bkd(keys):
    return keys.headers(None, "admin_bkd", account_id="acct-bkd-1")


def tree(feed, world):
    """Dinas with a bidang; the world's post in the bidang, another post in another Dinas; four
    people: two in the bidang, one in the other Dinas, one who left before October."""
    opd = feed.unit(name="Dinas Komunikasi dan Informatika").data["unit_id"]
    bidang = feed.unit(parent_id=opd, name="Bidang Aplikasi Informatika", kind="bidang").data["unit_id"]
    other = feed.unit(name="Dinas Pendidikan").data["unit_id"]
    feed.position(world.position_id, unit_id=bidang, name="Pranata Komputer")
    feed.position(world.other_position_id, unit_id=other, name="Guru")
    people = {}
    for name, pos, start, end in (("Dewi", world.position_id, date(2026, 1, 1), None),
                                  ("Agus", world.position_id, date(2026, 1, 1), None),
                                  ("Citra", world.other_position_id, date(2026, 1, 1), None),
                                  ("Pindah", world.position_id, date(2026, 1, 1), date(2026, 9, 30))):
        env = feed.employee(name=name)
        people[name] = env.data
        feed.placement(env.data["employee_id"], pos, start, end)
    return opd, bidang, other, people


def test_attendance_per_unit_includes_sub_units_and_totals(client, keys, feed, world):
    opd, bidang, other, people = tree(feed, world)
    text = ("nip,date,check_in,check_out,code\n"
            f"{people['Dewi']['nip']},2026-10-05,07:25,16:02,\n"
            f"{people['Agus']['nip']},2026-10-05,08:15,15:50,\n"
            f"{people['Citra']['nip']},2026-10-05,,,SAKIT\n")
    assert client.post("/attendance/import", data=text.encode(), headers=bkd(keys), content_type="text/csv").status_code == 200
    r = client.get(f"/reports/attendance?month=2026-10&unit_id={opd}", headers=bkd(keys))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert [i["name"] for i in body["items"]] == ["Agus", "Dewi"] and body["total"] == 2
    agus = body["items"][0]
    assert (agus["late_days"], agus["early_days"], agus["deduction_pct"], agus["discipline_pct"]) == (1, 1, "1.50", "98.50")
    assert agus["post"]["unit_name"] == "Bidang Aplikasi Informatika" and agus["post"]["position_name"] == "Pranata Komputer"
    assert body["totals"] == {"employees": 2, "recorded_days": 2, "late_days": 1, "early_days": 1, "absent_days": 0,
                              "excused_days": 0}
    everyone = client.get("/reports/attendance?month=2026-10&limit=2", headers=bkd(keys)).get_json()
    assert everyone["total"] == 3 and everyone["next_cursor"]  # "Pindah" left before October
    r = client.get("/reports/attendance?month=2026-10&unit_id=tidak-ada", headers=bkd(keys))
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_unit"


def test_who_has_entered_nothing(client, keys, feed, world):
    opd, bidang, other, people = tree(feed, world)
    day = world.today
    r = client.post("/entries", headers=keys.headers(people["Dewi"]["employee_id"], "pegawai"), json={
        "date": day.isoformat(), "start_time": "08:00", "end_time": "09:00", "duty_id": world.duty_id, "volume": 1,
        "description": "Menyusun laporan"})
    assert r.status_code == 201, r.get_json()
    month = day.strftime("%Y-%m")
    body = client.get(f"/reports/no-entries?month={month}", headers=bkd(keys)).get_json()
    assert [i["name"] for i in body["items"]] == ["Agus", "Citra"] and body["total"] == 2 and body["placed"] == 3
    assert {(u["unit_name"], u["placed"], u["without_entries"]) for u in body["by_unit"]} == {
        ("Bidang Aplikasi Informatika", 2, 1), ("Dinas Pendidikan", 1, 1)}
    scoped = client.get(f"/reports/no-entries?month={month}&unit_id={opd}", headers=bkd(keys)).get_json()
    assert [i["name"] for i in scoped["items"]] == ["Agus"] and [u["unit_name"] for u in scoped["by_unit"]] == [
        "Bidang Aplikasi Informatika"]
    # A withdrawn entry is no entry.
    entry = r.get_json()
    client.post(f"/entries/{entry['id']}/withdraw", headers=keys.headers(people["Dewi"]["employee_id"], "pegawai"))
    again = client.get(f"/reports/no-entries?month={month}", headers=bkd(keys)).get_json()
    assert [i["name"] for i in again["items"]] == ["Agus", "Citra", "Dewi"]
    bad = client.get("/reports/no-entries?month=2026-13&limit=0", headers=bkd(keys))
    assert bad.status_code == 422


def test_the_attendance_preview_checks_everything_and_stores_nothing(client, keys, feed, world, runtime, outbox):
    _, _, _, people = tree(feed, world)
    good = ("nip,date,check_in,check_out,code\n"
            f"{people['Dewi']['nip']},2026-10-05,07:25,16:02,\n"
            f"{people['Agus']['nip']},2026-10-05,08:15,15:50,\n")
    url = "/attendance/import?dry_run=true"
    r = client.post(url, data={"file": (io.BytesIO(good.encode()), "presensi.csv")}, headers=bkd(keys),
                    content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    preview = r.get_json()
    assert (preview["dry_run"], preview["rows"], preview["changed"], preview["events"]) == (True, 2, 2, 1)
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AttendanceDay)) == 0
        assert s.scalar(select(func.count()).select_from(AttendanceImport)) == 0
    assert [e for e in outbox() if e["type"] == "attendance.recorded"] == []
    bad = good + "199912312020121999,2026-10-05,07:30,16:00,\n"
    r = client.post(url, data=bad.encode(), headers=bkd(keys), content_type="text/csv")
    assert r.status_code == 422 and "lines.4.nip" in r.get_json()["error"]["fields"]
    # The real import then gives what the preview said.
    real = client.post("/attendance/import", data=good.encode(), headers=bkd(keys), content_type="text/csv").get_json()
    assert {k: real[k] for k in ("rows", "changed", "events")} == {k: preview[k] for k in ("rows", "changed", "events")}
    assert real["dry_run"] is False
    r = client.post("/attendance/import?dry_run=mungkin", data=good.encode(), headers=bkd(keys), content_type="text/csv")
    assert r.status_code == 422 and "dry_run" in r.get_json()["error"]["fields"]


def test_the_calendar_says_whether_bkd_stored_it(client, keys, world):
    year = world.today.year + 1
    shown = client.get(f"/calendar/{year}", headers=keys.headers(world.employee_id, "pegawai")).get_json()
    assert shown["is_default"] is True and shown["updated_at"] is None
    doc = {k: shown[k] for k in ("schedule", "holidays", "collective_leave")}
    doc["holidays"] = [{"date": f"{year}-01-01", "name": "Tahun Baru"}]
    r = client.put(f"/calendar/{year}", json=doc, headers=bkd(keys))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["is_default"] is False
    assert client.get(f"/calendar/{year}", headers=bkd(keys)).get_json()["is_default"] is False
