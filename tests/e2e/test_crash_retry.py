"""A gunicorn worker killed in the middle of a submission (issue 9 item 19): the person's answer
is lost (the gateway answers 502), and the phone sends the same request again with the same
Idempotency-Key. The retry stores the entry once -- it is not refused as overlapping itself -- and
every later retry gets that same stored entry."""
from __future__ import annotations

import os
import signal
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from ekinerja_common.testing import wait_until

pytestmark = pytest.mark.e2e

WIB = timezone(timedelta(hours=7))
STAFF_NIP = "198712032009011003"  # Eko Saputra, under the head of IKP


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def test_a_worker_killed_mid_submission_then_the_retry_with_the_same_key_stores_it_once(stack, person):
    staff = person(STAFF_NIP)
    today = datetime.now(WIB).date()
    duties = wait_until(lambda: staff.get(f"/api/activity/duties?date={today}").json().get("duties"),
                        timeout=30, what="duties")
    body = {"date": str(today), "start_time": "15:00", "end_time": "15:30", "duty_id": duties[0]["id"], "volume": 1,
            "description": "Laporan yang jawabannya hilang"}
    key = {"Idempotency-Key": "c9a8f0e2-5d1b-4f7a-9c3e-crash-retry-1"}
    employee_id = staff.account["employee_id"]
    activity_db = create_engine(stack.database_urls_for_test["activity"])
    try:
        # Hold the employee's submission lock, so the request is surely in the middle of its work
        # (inside its transaction, waiting) when its worker is killed.
        with activity_db.connect() as holder:
            holder.execute(text("INSERT INTO employee_locks (employee_id) VALUES (:e) ON CONFLICT DO NOTHING"),
                           {"e": employee_id})
            holder.commit()
            holder.execute(text("SELECT 1 FROM employee_locks WHERE employee_id = :e FOR UPDATE"), {"e": employee_id})
            import threading

            answer: dict = {}
            sender = threading.Thread(target=lambda: answer.setdefault(
                "r", staff.http.post(stack.url("/api/activity/entries"), json=body, headers=key, timeout=120)))
            sender.start()

            def waiting() -> bool:
                with activity_db.connect() as c:
                    return c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                          "AND wait_event_type = 'Lock'")).scalar() > 0

            wait_until(waiting, timeout=30, what="the submission to wait inside its transaction")
            [worker] = children(stack.pids()["activity.web"])
            os.kill(worker, signal.SIGKILL)
            sender.join(120)
            assert answer["r"].status_code == 502  # the answer is lost
            holder.rollback()
        assert count_entries(activity_db, employee_id, body) == 0  # the killed request stored nothing

        # The phone tries again with the same key until the service answers (gunicorn restarts
        # the worker); then once more, as a second lost answer would make it.
        first = wait_until(lambda: (r := staff.http.post(stack.url("/api/activity/entries"), json=body, headers=key,
                                                          timeout=30)).status_code != 502 and r,
                           timeout=60, interval=0.5, what="a new worker")
        assert first.status_code == 201, first.text
        again = staff.http.post(stack.url("/api/activity/entries"), json=body, headers=key, timeout=30)
        assert again.status_code == 201 and again.json()["id"] == first.json()["id"], again.text
        assert count_entries(activity_db, employee_id, body) == 1
    finally:
        activity_db.dispose()


def count_entries(engine, employee_id: str, body: dict) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM entries WHERE employee_id = :e AND description = :d"),
                            {"e": employee_id, "d": body["description"]}).scalar()
