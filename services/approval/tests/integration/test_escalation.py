"""The deadline job on real PostgreSQL: escalation after the policy deadline, idempotent and safe
to run concurrently, the escalated queue and decisions, and the late-validation report."""
import json
import os
import subprocess
import sys
import threading
from datetime import date

import pytest
from sqlalchemy import select

from approval import jobs
from approval.orm import Escalation


def escalations(runtime):
    with runtime.session_factory() as s:
        return sorted((e.entry_id, e.level, e.late_supervisor_id, e.escalated_to, e.deadline.isoformat())
                      for e in s.scalars(select(Escalation)))


@pytest.fixture
def late(org):
    org.submit("nov", "ani", day="2026-11-10")
    org.submit("nov-budi", "budi", day="2026-11-30")
    org.submit("oct", "ani", day="2026-10-20")
    org.submit("kabid", "kabid", day="2026-11-10")  # the kadis validates the kabid
    org.submit("kadis", "kadis", day="2026-11-10")  # nobody validates the kadis here
    org.submit("dec", "ani", day="2026-12-01")
    return org


def test_entries_escalate_the_day_after_the_deadline_and_only_once(runtime, late):
    ids = late.id
    assert jobs.run(runtime, date(2026, 11, 5))["entries_escalated"] == 0  # October's deadline is the 5th itself
    assert jobs.run(runtime, date(2026, 11, 6))["entries_escalated"] == 1
    assert escalations(runtime) == [(ids("E:oct"), 1, ids("kabid"), ids("kadis"), "2026-11-05")]
    assert jobs.run(runtime, date(2026, 12, 5))["entries_escalated"] == 0
    result = jobs.run(runtime, date(2026, 12, 6))
    assert result["entries_escalated"] == 3
    assert escalations(runtime) == sorted([
        (ids("E:oct"), 1, ids("kabid"), ids("kadis"), "2026-11-05"),
        (ids("E:nov"), 1, ids("kabid"), ids("kadis"), "2026-12-05"),
        (ids("E:nov-budi"), 1, ids("kabid"), ids("kadis"), "2026-12-05"),
        # The kadis was late with the kabid's entry; nobody sits above the kadis.
        (ids("E:kabid"), 1, ids("kadis"), None, "2026-12-05"),
    ])
    again = jobs.run(runtime, date(2026, 12, 6))
    assert again["entries_escalated"] == 0 and len(escalations(runtime)) == 4


def test_the_escalated_entry_is_flagged_and_the_next_supervisor_may_decide_it(api, runtime, late):
    jobs.run(runtime, date(2026, 12, 6))
    items = api.get("/queue", "kadis").get_json()["items"]
    by_name = {api.name_of(i["entry_id"]): i for i in items}
    assert set(by_name) == {"E:oct", "E:nov", "E:nov-budi", "E:kabid"}
    assert by_name["E:kabid"]["escalated"] is True and by_name["E:kabid"]["escalation"]["escalated_to"] is None
    assert by_name["E:nov"]["escalated"] is True
    assert by_name["E:nov"]["escalation"]["late_supervisor_id"] == late.id("kabid")
    assert by_name["E:nov"]["escalation"]["deadline"] == "2026-12-05"
    groups = api.get("/queue", "kadis").get_json()["groups"]
    assert all(day["escalated"] for g in groups for day in g["days"])
    # The late supervisor still sees them, flagged; the new month's entry is not late.
    kabid_items = api.get("/queue", "kabid").get_json()["items"]
    assert {api.name_of(i["entry_id"]): i["escalated"] for i in kabid_items} == {
        "E:oct": True, "E:nov": True, "E:nov-budi": True, "E:dec": False}
    # The kadis decides escalated entries, single and in bulk; kabid2 may not.
    assert api.post(f"/entries/{api.entry('oct')}/approve", "kabid2").status_code == 403
    assert api.post(f"/entries/{api.entry('oct')}/approve", "kadis").status_code == 200
    r = api.post("/decisions", "kadis", json={"decision": "reject", "reason": "Terlambat diajukan",
                                              "entry_ids": [api.entry("nov"), api.entry("nov-budi")]})
    assert r.status_code == 200, r.get_json()
    # ... but not an entry that was never escalated to them.
    r = api.post("/decisions", "kadis", json={"decision": "approve", "entry_ids": [api.entry("dec")]})
    assert r.status_code == 403
    # The kadis can read what was escalated to them.
    assert api.get(f"/entries/{api.entry('dec')}", "kadis").status_code == 404
    entry = api.get(f"/entries/{api.entry('oct')}", "kadis").get_json()
    assert entry["status"] == "approved" and entry["escalated"] is True
    assert api.get("/queue", "kadis").get_json()["items"][0]["entry_id"] == api.entry("kabid")


def test_late_validation_report_for_bkd(api, runtime, late):
    jobs.run(runtime, date(2026, 12, 6))
    api.post(f"/entries/{api.entry('nov')}/approve", "kadis")
    r = api.get("/reports/late-validations", "bkd", "admin_bkd", query_string={"month": "2026-11"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"month": "2026-11", "supervisors": [
        {"supervisor_id": late.id("kabid"), "name": "Kabid Satu", "nip": "198609262015051002", "late_entries": 2,
         "still_pending": 1, "employees": 2},
        {"supervisor_id": late.id("kadis"), "name": "Kepala Dinas", "nip": "198609262015051001", "late_entries": 1,
         "still_pending": 1, "employees": 1},
    ]}
    october = api.get("/reports/late-validations", "bkd", "admin_bkd", query_string={"month": "2026-10"}).get_json()
    assert [(s["supervisor_id"], s["late_entries"]) for s in october["supervisors"]] == [(late.id("kabid"), 1)]
    assert api.get("/reports/late-validations", "bkd", "admin_bkd").status_code == 422
    for who, roles in [("kadis", ("pegawai",)), ("kadis", ("majelis",)), ("x", ("bpkad",))]:
        assert api.get("/reports/late-validations", who, *roles, query_string={"month": "2026-11"}).status_code == 403


def test_the_deadline_day_is_policy_data(api, runtime, late):
    r = api.put("/policies/2026", "bkd", "admin_bkd", json={
        "validation_deadline_day": 10, "appeal_window_days": 14, "first_level_days": 10,
        "board_rejection_rate_pct": 50, "board_min_decisions": 10})
    assert r.status_code == 200, r.get_json()
    assert jobs.run(runtime, date(2026, 12, 10))["entries_escalated"] == 1  # only October's
    assert jobs.run(runtime, date(2026, 12, 11))["entries_escalated"] == 3
    assert {e[4] for e in escalations(runtime)} == {"2026-11-10", "2026-12-10"}


def test_two_jobs_at_once_escalate_each_entry_once(runtime, org):
    for n in range(120):
        org.submit(str(n), "ani" if n % 2 else "budi", day=f"2026-10-{1 + n % 28:02d}", start="08:00", end="09:00")
    results, errors = [], []

    def run():
        try:
            results.append(jobs.run(runtime, date(2026, 12, 6), batch=25))
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(r["entries_escalated"] for r in results) == 120
    rows = escalations(runtime)
    assert len(rows) == 120 and len({r[0] for r in rows}) == 120


def test_the_command_line_job(runtime, late):
    env = {**os.environ, "APPROVAL_DATABASE_URL": runtime.settings.database_url, "LOG_LEVEL": "WARNING"}
    cwd = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir)
    out = subprocess.run([sys.executable, "-m", "approval", "escalate", "--today", "2026-12-06"], env=env, cwd=cwd,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"today": "2026-12-06", "entries_examined": 5, "entries_escalated": 4, "appeals_to_board": 0}
    assert len(escalations(runtime)) == 4
