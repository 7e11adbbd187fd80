"""The broker crashes (SIGKILL) while people keep working; nothing accepted is lost or doubled.

Web workers never touch the broker, so submissions and decisions are still accepted while it is
down; their events wait in the outboxes. Relays and consumers reconnect with backoff once the
broker is back, and durable queues with persistent, confirmed messages survive the crash.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from ekinerja_common.testing import wait_until

pytestmark = pytest.mark.e2e

WIB = timezone(timedelta(hours=7))
STAFF_NIP = "199004252014032002"       # Fitri Handayani, Penata Layanan Operasional, under the head of IKP
SUPERVISOR_NIP = "197811052003121001"  # Agus Prasetyo, Kepala Bidang IKP


def outbox_rows(url: str, event_type: str, entry_id: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM outbox WHERE type = :t AND body LIKE :p"),
                                {"t": event_type, "p": f'%"entry_id":"{entry_id}"%'}).scalar_one()
    finally:
        engine.dispose()


def test_broker_crash_loses_and_doubles_nothing(stack, broker, person):
    staff, boss = person(STAFF_NIP), person(SUPERVISOR_NIP)
    today = datetime.now(WIB).date()
    duties = wait_until(lambda: staff.get(f"/api/activity/duties?date={today}").json().get("duties"),
                        timeout=30, what="duties")
    duty = min(duties, key=lambda d: d["norma_waktu"])

    def submit(hour: int) -> str:
        r = staff.post("/api/activity/entries", {"date": str(today), "start_time": f"{hour:02d}:00",
                                                 "end_time": f"{hour:02d}:20", "duty_id": duty["id"], "volume": 1,
                                                 "description": f"Layanan jam {hour}"})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    before = [submit(h) for h in (7, 8)]
    wait_until(lambda: {i["entry_id"] for i in boss.get("/api/approval/queue").json()["items"]} >= set(before),
               timeout=30, what="first entries in the queue")
    time.sleep(2)  # let the broker settle its own state to disk, as any running broker has

    broker.kill()
    during = [submit(h) for h in (9, 10, 11)]  # accepted with the broker down
    for entry_id in before:
        assert boss.post(f"/api/approval/entries/{entry_id}/approve").status_code == 200
    broker.start()

    every = before + during
    wait_until(lambda: {i["entry_id"] for i in boss.get("/api/approval/queue").json()["items"]} >= set(during),
               timeout=90, interval=0.5, what="entries submitted during the outage to reach the queue")
    wait_until(lambda: all(staff.get(f"/api/activity/entries/{i}").json()["status"] == "approved" for i in before),
               timeout=90, interval=0.5, what="approvals made during the outage to reach activity")
    for entry_id in during:
        assert boss.post(f"/api/approval/entries/{entry_id}/approve").status_code == 200
    wait_until(lambda: all(staff.get(f"/api/activity/entries/{i}").json()["status"] == "approved" for i in every),
               timeout=60, interval=0.5, what="every approval to reach activity")

    urls = stack.database_urls_for_test
    for entry_id in every:
        assert outbox_rows(urls["activity"], "activity.submitted", entry_id) == 1
        assert outbox_rows(urls["approval"], "activity.approved", entry_id) == 1
    queue = [i for i in boss.get("/api/approval/queue").json()["items"] if i["entry_id"] in every]
    assert queue == []  # each one decided exactly once, none left behind or duplicated

    bpkad = person("bpkad")
    expected = 5 * min(duty["norma_waktu"], 20)

    def staff_minutes():
        assert bpkad.post(f"/api/payroll/runs/{today.year}/{today.month}/compute").status_code == 200
        lines = bpkad.get(f"/api/payroll/runs/{today.year}/{today.month}").json()["lines"]
        line = next((l for l in lines if l["employee_id"] == staff.account["employee_id"]), None)
        return line and line["inputs"]["approved_minutes"] == expected

    wait_until(staff_minutes, timeout=60, interval=1, what=f"payroll to count {expected} minutes exactly once")
