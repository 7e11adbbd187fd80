"""The workload analysis against real PostgreSQL, with the headcount from the placements read
model fed by employee.placed — also when those events arrive late or twice."""
import uuid
from datetime import timedelta

from sqlalchemy import select

from organization.orm import Placement
from ekinerja_common.clock import today as local_today

DAY = "2026-06-15"


def by_code(report, key="positions"):
    return {r["code"]: r for r in report[key]}


def test_abk_compares_required_and_actual_staff_per_position_and_unit(org, client, keys, tree):
    staff, kasubid = tree["staff"]["id"], tree["kasubid"]["id"]
    # PRANATA: 2,400 × 30 + 600 × 60 = 108,000 min → 1.50 people, 2 rounded. One duty lacks a volume.
    org.duty(staff, "Menangani tiket pengguna", 30, 2400)
    org.duty(staff, "Memasang perangkat", 60, 600)
    org.duty(staff, "Menyusun dokumentasi", 120)
    # KASUBID: 250 × 120 = 30,000 min → 0.42, 0 rounded.
    org.duty(kasubid, "Memeriksa hasil kerja", 120, 250)
    org.placed(staff, "2026-01-01")                            # counts
    org.placed(staff, "2026-01-01", "2026-06-14")              # ended the day before
    org.placed(staff, "2026-06-16")                            # starts the day after
    org.placed(staff, "2026-06-01", kind="plt")                # acting: shown apart
    org.placed(kasubid, "2025-01-01")
    r = client.get(f"/abk?date={DAY}", headers=org.h)
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    assert (report["effective_minutes_per_year"], report["policy_is_default"], report["year"]) == (72000, True, 2026)
    p = by_code(report)["PRANATA"]
    assert (p["workload_minutes"], p["required"], p["required_rounded"], p["actual"], p["gap"], p["plt"]) == (
        108000, "1.50", 2, 1, -1, 1)
    assert (p["duties"], p["duties_without_volume"]) == (3, 1)
    k = by_code(report)["KASUBID"]
    assert (k["required"], k["required_rounded"], k["actual"], k["gap"]) == ("0.42", 0, 1, 1)
    units = by_code(report, "units")
    assert [u["code"] for u in report["units"]] == ["DISKOMINFO", "APTIKA", "APTIKA-INFRA"]
    sub = units["APTIKA-INFRA"]
    assert (sub["required"], sub["required_rounded"], sub["actual"], sub["gap"]) == ("1.92", 2, 2, 0)
    top = units["DISKOMINFO"]
    assert (top["required"], top["actual"]) == ("0.00", 0)
    assert top["including_subunits"] == {"required": "1.92", "required_rounded": 2, "actual": 2, "gap": 0}
    assert report["totals"] == top["including_subunits"]

    # organisasi changes the year's effective minutes: the report follows, other years do not.
    r = client.put("/abk/policy/2026", json={"effective_minutes_per_year": 54000}, headers=org.h)
    assert r.status_code == 200 and r.get_json()["effective_minutes_per_year"] == 54000
    p = by_code(client.get(f"/abk?date={DAY}", headers=org.h).get_json())["PRANATA"]
    assert (p["required"], p["required_rounded"]) == ("2.00", 2)
    assert client.get("/abk/policy/2027", headers=org.h).get_json() == {
        "year": 2027, "effective_minutes_per_year": 72000, "is_default": True, "updated_at": None, "updated_by": None}
    [record] = org.audits("abk_policy.changed")
    assert (record.before, record.after) == (None, {"effective_minutes_per_year": 54000})
    assert record.actor_account_id == org.account and record.request_id
    bad = client.put("/abk/policy/2026", json={"effective_minutes_per_year": 0}, headers=org.h)
    assert bad.status_code == 422 and "effective_minutes_per_year" in bad.get_json()["error"]["fields"]

    # One unit and what is below it; admin_bkd reads it too; nobody else.
    part = client.get(f"/abk?date={DAY}&unit_id={tree['sub']['id']}", headers=keys.headers(None, "admin_bkd")).get_json()
    assert [u["code"] for u in part["units"]] == ["APTIKA-INFRA"] and {r["code"] for r in part["positions"]} == {
        "KASUBID", "PRANATA"}
    assert client.get(f"/abk?unit_id={uuid.uuid4()}", headers=org.h).status_code == 404
    for h in (keys.headers("e1", "pegawai"), keys.headers("e1", "bpkad")):
        assert client.get("/abk", headers=h).status_code == 403
        assert client.put("/abk/policy/2026", json={"effective_minutes_per_year": 1}, headers=h).status_code == 403
    assert client.put("/abk/policy/2026", json={"effective_minutes_per_year": 1},
                      headers=keys.headers(None, "admin_bkd")).status_code == 403
    assert client.get("/abk?date=besok", headers=org.h).status_code == 422


def test_placement_events_arriving_late_or_twice_leave_the_headcount_right(org, client, runtime, tree):
    staff = tree["staff"]["id"]
    org.duty(staff, "Menangani tiket", 30, 2400)
    employee = str(uuid.uuid4())
    message = str(uuid.uuid4())
    # The placement ends (version 2) and that news arrives first, twice; then the original
    # version 1 (open-ended) arrives late.
    assert org.placed(staff, "2026-01-01", "2026-05-31", employee_id=employee, placement_id="pl-1", version=2,
                      envelope_id=message)[0] == "handled"
    assert org.placed(staff, "2026-01-01", "2026-05-31", employee_id=employee, placement_id="pl-1", version=2,
                      envelope_id=message)[0] == "duplicate"
    assert org.placed(staff, "2026-01-01", None, employee_id=employee, placement_id="pl-1", version=1)[0] == "handled"
    with runtime.session_factory() as s:
        row = s.get(Placement, "pl-1")
        assert (str(row.end_date), row.version) == ("2026-05-31", 2)
    assert by_code(client.get(f"/abk?date={DAY}", headers=org.h).get_json())["PRANATA"]["actual"] == 0
    assert by_code(client.get("/abk?date=2026-05-31", headers=org.h).get_json())["PRANATA"]["actual"] == 1
    # A transfer into another post (a newer version of the same placement) moves the count.
    org.placed(tree["kasubid"]["id"], "2026-01-01", None, employee_id=employee, placement_id="pl-2")
    org.placed(tree["kasubid"]["id"], "2026-01-01", None, employee_id=employee, placement_id="pl-2")  # a re-send
    report = client.get(f"/abk?date={DAY}", headers=org.h).get_json()
    assert by_code(report)["KASUBID"]["actual"] == 1
    with runtime.session_factory() as s:
        assert len(s.scalars(select(Placement)).all()) == 2


def test_holders_today_in_the_position_list(org, client, tree):
    today = local_today()
    org.placed(tree["staff"]["id"], (today - timedelta(days=5)).isoformat())
    org.placed(tree["staff"]["id"], (today - timedelta(days=5)).isoformat(), (today - timedelta(days=1)).isoformat())
    listed = {p["code"]: p["holders_today"] for p in client.get("/positions", headers=org.h).get_json()["positions"]}
    assert listed == {"KABID": 0, "KADIS": 0, "KASUBID": 0, "PRANATA": 1}
