"""Warnings that stop a careless payment, on real PostgreSQL: the run names each problem with how
many and who; a lock is refused until every blocking warning is acknowledged, and the lock's audit
records what was acknowledged. Also: the policy's versions and check-only save, the salary
preview, and the slip naming the unit."""
from datetime import date

import pytest
from sqlalchemy import func, select

from ekinerja_common import clock

from payroll import services
from payroll.orm import AuditEntry, PolicyVersion, Salary

EMP, OTHER = "emp-1", "emp-2"


def bpkad(keys):
    return keys.headers(None, "bpkad", account_id="bpkad-operator")


@pytest.fixture
def two(events):
    events.unit("unit-a", code="DISKOMINFO", name="Dinas Komunikasi dan Informatika")
    events.position("p9", kelas=9, unit_id="unit-a")
    events.employee(EMP, golongan="III/b", nip="198609262015051001", name="Ani")
    events.employee(OTHER, golongan="III/a", nip="198609262015051002", name="Budi")
    events.placement("pl-1", EMP, "p9", "2020-01-01")
    events.placement("pl-2", OTHER, "p9", "2020-01-01")
    events.decision("approved", "jun-a", EMP, "2026-06-02", 3_000)


def codes(run):
    return {w["code"]: w for w in run["warnings"]}


def test_each_warning_names_how_many_and_who(two, client, keys, events):
    run = client.post("/runs/2026/6/compute", headers=bpkad(keys)).get_json()
    w = codes(run)
    assert set(w) == {"no_salary", "no_approved_minutes", "no_attendance_data", "calendar_not_stored"}
    assert all(x["blocking"] and x["message"] and x["message_en"] for x in run["warnings"])
    assert w["no_salary"]["count"] == 2 and {p["name"] for p in w["no_salary"]["who"]} == {"Ani", "Budi"}
    assert w["no_approved_minutes"]["count"] == 1 and [p["nip"] for p in w["no_approved_minutes"]["who"]] == [
        "198609262015051002"]
    assert "2026" in w["calendar_not_stored"]["message"]
    # The data arrives, the recompute has nothing left to say.
    client.put("/salaries/2026/6", json={"salaries": [{"employee_id": EMP, "salary": 4_000_000},
                                                       {"employee_id": OTHER, "salary": 3_500_000}]}, headers=bpkad(keys))
    events.decision("approved", "jun-b", OTHER, "2026-06-03", 600)
    events.attendance(EMP, "2026-06-04", "0.5", ["TL1"])
    events.calendar(2026)
    again = client.post("/runs/2026/6/compute", headers=bpkad(keys)).get_json()
    assert again["warnings"] == []


def test_a_month_still_running_is_a_warning_until_it_ends(two, client, keys):
    today = clock.today()
    run = client.post(f"/runs/{today.year}/{today.month}/compute", headers=bpkad(keys)).get_json()
    assert "month_in_progress" in codes(run)
    assert services.month_in_progress(2026, 6, date(2026, 7, 1)) is None
    assert services.month_in_progress(2026, 6, date(2026, 6, 30))["code"] == "month_in_progress"


def test_the_lock_waits_for_every_warning_to_be_acknowledged(two, client, keys, runtime):
    run = client.post("/runs/2026/6/compute", headers=bpkad(keys)).get_json()
    r = client.post("/runs/2026/6/lock", headers=bpkad(keys))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "unacknowledged_warnings"
    assert set(r.get_json()["error"]["fields"]) == {f"acknowledged_warnings.{c}" for c in codes(run)}
    partly = client.post("/runs/2026/6/lock", headers=bpkad(keys), json={"acknowledged_warnings": ["no_salary"]})
    assert partly.status_code == 409 and "acknowledged_warnings.no_salary" not in partly.get_json()["error"]["fields"]
    assert client.get("/runs/2026/6", headers=bpkad(keys)).get_json()["status"] == "open"
    seen = [*codes(run), "validations_pending"]  # the page adds what approval told it
    r = client.post("/runs/2026/6/lock", headers=bpkad(keys), json={"version": run["version"], "acknowledged_warnings": seen})
    assert r.status_code == 200 and r.get_json()["status"] == "locked"
    with runtime.session_factory() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "run.locked")).one()
    assert audit.detail["acknowledged_warnings"] == sorted(seen)
    assert {w["code"] for w in audit.detail["warnings"]} == set(codes(run))
    # Locked: no compute any more.
    assert client.post("/runs/2026/6/compute", headers=bpkad(keys)).status_code == 409


def test_policy_versions_and_a_check_that_stores_nothing(client, keys, runtime):
    doc = client.get("/policies/2026", headers=bpkad(keys)).get_json()
    checked = client.put("/policies/2026?dry_run=true", json={**doc, "cpns_factor_pct": "75"}, headers=bpkad(keys))
    assert checked.status_code == 200 and checked.get_json()["dry_run"] is True
    bad = client.put("/policies/2026?dry_run=true", json={**doc, "cpns_factor_pct": "175", "bpjs": {**doc["bpjs"], "cap": 0}},
                     headers=bpkad(keys))
    assert bad.status_code == 422 and len(bad.get_json()["error"]["fields"]) >= 2
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(PolicyVersion)) == 0  # neither the read nor the checks stored anything (a read never writes)
    saved = client.put("/policies/2026", json={**doc, "cpns_factor_pct": "75"}, headers=bpkad(keys))
    assert saved.status_code == 200 and saved.get_json()["version"] == 2
    versions = client.get("/policies/2026/versions", headers=bpkad(keys)).get_json()["versions"]
    assert [(v["version"], v["created_by"]) for v in versions] == [(2, "bpkad-operator"), (1, "bpkad-operator")]
    assert versions[0]["document"]["cpns_factor_pct"] == "75" and versions[1]["document"]["cpns_factor_pct"] != "75"
    for roles in (("admin_bkd",), ("pegawai",), ("organisasi",)):
        assert client.get("/policies/2026/versions", headers=keys.headers("e1", *roles)).status_code == 403
    assert client.get("/policies/2026/versions").status_code == 401


def test_the_salary_preview_lists_every_bad_row_and_stores_nothing(two, client, keys, runtime):
    good = "nip,gaji_pokok\n198609262015051001,4000000\n198609262015051002,3500000\n"
    r = client.post("/salaries/2026/6/import?dry_run=true", data=good, headers=bpkad(keys), content_type="text/csv")
    assert r.status_code == 200 and (r.get_json()["imported"], r.get_json()["dry_run"]) == (2, True)
    bad = good + "12345,abc\n"
    r = client.post("/salaries/2026/6/import?dry_run=true", data=bad, headers=bpkad(keys), content_type="text/csv")
    assert r.status_code == 422
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Salary)) == 0
    assert client.post("/salaries/2026/6/import", data=good, headers=bpkad(keys),
                       content_type="text/csv").get_json()["imported"] == 2


def test_the_slip_names_the_unit(two, client, keys):
    client.post("/runs/2026/6/compute", headers=bpkad(keys))
    pdf = client.get(f"/runs/2026/6/slips/{EMP}.pdf", headers=bpkad(keys))
    assert pdf.status_code == 200
    import re
    import zlib
    body = b"".join(zlib.decompress(m) for m in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf.data, re.S))
    assert b"DISKOMINFO - Dinas Komunikasi dan Informatika" in body
