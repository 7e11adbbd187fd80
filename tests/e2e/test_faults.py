"""Crashes mid-flow lose nothing and double nothing.

Processes are killed with SIGKILL (no chance to clean up) or frozen with SIGSTOP while people keep
working through the gateway; after they come back every accepted entry arrives exactly once in
every service that needs it.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from ekinerja_common.testing import wait_until

pytestmark = pytest.mark.e2e

WIB = timezone(timedelta(hours=7))
STAFF_NIP = "199306122019032004"       # Siti Nurhaliza, Pranata Humas, under the head of IKP
SUPERVISOR_NIP = "197811052003121001"  # Agus Prasetyo, Kepala Bidang IKP


def count(url: str, sql: str, **params) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()
    finally:
        engine.dispose()


def test_killed_and_frozen_processes_lose_and_double_nothing(stack, person):
    staff, boss = person(STAFF_NIP), person(SUPERVISOR_NIP)
    today = datetime.now(WIB).date()
    duties = wait_until(lambda: staff.get(f"/api/activity/duties?date={today}").json().get("duties"),
                        timeout=30, what="duties")
    duty = min(duties, key=lambda d: d["norma_waktu"])

    # approval's consumer is dead and activity's relay is frozen while five entries are submitted.
    stack.kill("approval.consumer")
    stack.pause("activity.relay")
    ids = []
    for i in range(5):
        start = f"{7 + i:02d}:00"
        r = staff.post("/api/activity/entries", {"date": str(today), "start_time": start, "end_time": f"{7 + i:02d}:30",
                                                 "duty_id": duty["id"], "volume": 1, "description": f"Tugas ke-{i + 1}"})
        assert r.status_code == 201, r.text  # accepted while half the chain is down
        ids.append(r.json()["id"])
    stack.resume("activity.relay")
    stack.restart("approval.consumer")

    def queued():
        mine = [i for i in boss.get("/api/approval/queue").json()["items"] if i["entry_id"] in ids]
        return mine if len(mine) == 5 else None

    items = wait_until(queued, timeout=60, interval=0.5, what="all five entries in the supervisor's queue")
    assert sorted(i["entry_id"] for i in items) == sorted(ids)

    # Approve them while activity's consumer is dead and payroll's consumer is frozen; kill
    # approval's relay in the middle, so some events wait in its outbox.
    stack.kill("activity.consumer")
    stack.pause("payroll.consumer")
    for n, entry_id in enumerate(ids):
        if n == 2:
            stack.kill("approval.relay")
        assert boss.post(f"/api/approval/entries/{entry_id}/approve").status_code == 200
    stack.restart("approval.relay")
    stack.restart("activity.consumer")
    stack.resume("payroll.consumer")

    wait_until(lambda: all(staff.get(f"/api/activity/entries/{i}").json()["status"] == "approved" for i in ids),
               timeout=60, interval=0.5, what="every approval to reach activity")

    urls = stack.database_urls_for_test
    # Exactly once everywhere: one validation item per entry, one approved decision per entry in
    # payroll's read model, one submitted event and one approved event in the outboxes.
    for entry_id in ids:
        assert count(urls["activity"], "SELECT count(*) FROM outbox WHERE type = 'activity.submitted' "
                                       "AND body LIKE :p", p=f'%"entry_id":"{entry_id}"%') == 1
        assert count(urls["approval"], "SELECT count(*) FROM outbox WHERE type = 'activity.approved' "
                                       "AND body LIKE :p", p=f'%"entry_id":"{entry_id}"%') == 1
    wait_until(lambda: count(urls["approval"], "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0,
               timeout=30, what="approval's outbox to drain")

    # payroll counts each approved entry's minutes exactly once.
    bpkad = person("bpkad")
    expected = 5 * min(duty["norma_waktu"], 30)

    def staff_minutes():
        assert bpkad.post(f"/api/payroll/runs/{today.year}/{today.month}/compute").status_code == 200
        lines = bpkad.get(f"/api/payroll/runs/{today.year}/{today.month}").json()["lines"]
        line = next((l for l in lines if l["employee_id"] == staff.account["employee_id"]), None)
        return line and line["inputs"]["approved_minutes"] == expected

    wait_until(staff_minutes, timeout=60, interval=1, what=f"payroll to count {expected} minutes")
