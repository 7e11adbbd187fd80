"""The whole chain as real processes: five services (web, relay, consumer each) on PostgreSQL,
RabbitMQ, the nginx gateway. Every request goes through the gateway; data crosses services only as
events.

Story: a staff member logs in, records a day's activity against a duty of their position; a
stranger cannot approve it; their supervisor approves it; BPKAD computes the month and the line
carries the exact TPP figure. Then the approval event is delivered to payroll a second time and
nothing changes.
"""
from __future__ import annotations

import calendar
import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pika
import pytest
import requests
from sqlalchemy import create_engine, text

from ekinerja_common.testing import wait_until
from ekinerja_common.workdays import FIXED_HOLIDAYS

from deploy.local.stack import Stack

pytestmark = pytest.mark.e2e

WIB = timezone(timedelta(hours=7))
STAFF_NIP = "198802172011032001"       # Dewi Lestari, Pranata Komputer Ahli Muda, kelas 9, III/c, PNS
SUPERVISOR_NIP = "198007222005012003"  # Rina Wulandari, Kepala Bidang Aplikasi Informatika
OTHER_HEAD_NIP = "197811052003121001"  # Agus Prasetyo, head of the *other* bidang
PEER_NIP = "199209092017121002"        # Yusuf Hidayat, a colleague under the same head


def half_up(x: Fraction) -> int:
    return int((Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_the_whole_chain(stack, person):
    staff = person(STAFF_NIP)
    boss = person(SUPERVISOR_NIP)
    other_head = person(OTHER_HEAD_NIP)
    peer = person(PEER_NIP)
    bpkad = person("bpkad")
    today = datetime.now(WIB).date()

    # The duties of the staff member's position reach activity as events.
    duties = wait_until(lambda: staff.get(f"/api/activity/duties?date={today}").json().get("duties"),
                        timeout=30, what="duties in activity's read model")
    duty = next(d for d in duties if d["norma_waktu"] == 120)  # "Menyusun dokumentasi teknis", 120 min/Dokumen

    # Bad input first: nothing may be stored.
    r = staff.post("/api/activity/entries", {"date": str(today), "start_time": "10:00", "end_time": "08:00",
                                             "duty_id": duty["id"], "volume": 1, "description": "x"})
    assert r.status_code == 422 and "end_time" in r.json()["error"]["fields"], r.text
    r = staff.post("/api/activity/entries", {"date": str(today), "start_time": "08:00", "end_time": "10:00",
                                             "duty_id": "no-such-duty", "volume": 1, "description": "x"})
    assert r.status_code == 422 and "duty_id" in r.json()["error"]["fields"], r.text

    # 08:00-11:00 is 180 minutes; one document is worth 120: credited = min(120, 180) = 120.
    r = staff.post("/api/activity/entries", {"date": str(today), "start_time": "08:00", "end_time": "11:00",
                                             "duty_id": duty["id"], "volume": 1,
                                             "description": "Dokumentasi teknis integrasi aplikasi"})
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["credited_minutes"] == 120 and entry["status"] == "submitted"
    assert r.headers.get("X-Request-ID")
    entries = staff.get(f"/api/activity/entries?month={today:%Y-%m}").json()["entries"]
    assert [e["id"] for e in entries] == [entry["id"]]

    # The supervisor's queue is built from events in the approval service.
    item = wait_until(lambda: next((i for i in boss.get("/api/approval/queue").json()["items"]
                                    if i["entry_id"] == entry["id"]), None), timeout=30, what="entry in the queue")
    assert item["credited_minutes"] == 120 and item["nip"] == STAFF_NIP
    assert all(i["entry_id"] != entry["id"] for i in other_head.get("/api/approval/queue").json()["items"])

    # Strangers cannot decide it; nothing changes.
    for stranger in (other_head, peer, staff):
        r = stranger.post(f"/api/approval/entries/{entry['id']}/approve")
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"]
    assert any(i["entry_id"] == entry["id"] for i in boss.get("/api/approval/queue").json()["items"])
    assert staff.get(f"/api/activity/entries/{entry['id']}").json()["status"] == "submitted"

    r = boss.post(f"/api/approval/entries/{entry['id']}/approve")
    assert r.status_code == 200, r.text
    wait_until(lambda: staff.get(f"/api/activity/entries/{entry['id']}").json()["status"] == "approved",
               timeout=30, what="approval to reach activity")

    # BPKAD: salary, then the month's run.
    staff_id = staff.account["employee_id"]
    r = bpkad.put(f"/api/payroll/salaries/{today.year}/{today.month}",
                  {"salaries": [{"employee_id": staff_id, "salary": 4_000_000, "bpjs_already": 40_000}]})
    assert r.status_code == 200, r.text
    assert bpkad.get(f"/api/payroll/policies/{today.year}").status_code == 200

    def staff_line():
        r = bpkad.post(f"/api/payroll/runs/{today.year}/{today.month}/compute")
        assert r.status_code == 200, r.text
        run = bpkad.get(f"/api/payroll/runs/{today.year}/{today.month}").json()
        line = next((l for l in run["lines"] if l["employee_id"] == staff_id), None)
        return line if line and line["inputs"]["approved_minutes"] == 120 else None

    line = wait_until(staff_line, timeout=30, interval=0.5, what="approved minutes to reach payroll")

    # The figure, by hand. Kelas 9 base Rp 5,000,000, PNS, golongan III (PPh 5 %), no attendance
    # deductions (discipline 100 %), 120 approved minutes of a target of 300 x working days.
    # No work calendar stored: the default both activity and payroll count with, Monday to Friday
    # less the fixed-date national holidays (ekinerja_common.workdays).
    holidays = {date(today.year, m, d) for m, d, _ in FIXED_HOLIDAYS}
    days = [date(today.year, today.month, d) for d in range(1, calendar.monthrange(today.year, today.month)[1] + 1)]
    working_days = sum(1 for d in days if d.weekday() < 5 and d not in holidays)
    target = 300 * working_days
    gross = half_up(5_000_000 * (Fraction(60, 100) * Fraction(120, target) + Fraction(40, 100)))
    pph = half_up(Fraction(gross * 5, 100))
    bpjs = half_up(Fraction(min(4_000_000 + gross, 12_000_000), 100)) - 40_000
    assert (line["gross"], line["pph"], line["bpjs"], line["net"]) == (gross, pph, bpjs, gross - pph - bpjs)
    if working_days == 21:  # e.g. November 2026: spelled out
        assert (gross, pph, bpjs, gross - pph - bpjs) == (2_057_143, 102_857, 20_571, 1_933_715)

    # The employee sees their own line, and only theirs.
    mine = staff.get(f"/api/payroll/runs/{today.year}/{today.month}/me")
    assert mine.status_code == 200 and mine.json()["net"] == line["net"]
    assert staff.get(f"/api/payroll/runs/{today.year}/{today.month}").status_code == 403
    assert staff.post(f"/api/payroll/runs/{today.year}/{today.month}/compute").status_code == 403

    # -- a redelivered event changes nothing -------------------------------------------------
    approval_db = create_engine(stack.database_urls_for_test["approval"])
    with approval_db.connect() as conn:
        body = conn.execute(text("SELECT body FROM outbox WHERE type = 'activity.approved' AND body LIKE :p"),
                            {"p": f'%"entry_id":"{entry["id"]}"%'}).scalar_one()
    approval_db.dispose()
    envelope = json.loads(body)
    duplicates_before = consumer_count(stack, "payroll", "activity.approved", "duplicate")
    conn = pika.BlockingConnection(pika.URLParameters(stack.amqp_url))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        ch.basic_publish(f"{stack.queue_prefix}ekinerja.events", "activity.approved", body,
                         pika.BasicProperties(message_id=envelope["id"], type="activity.approved",
                                              content_type="application/json", delivery_mode=2), mandatory=True)
    finally:
        conn.close()
    wait_until(lambda: consumer_count(stack, "payroll", "activity.approved", "duplicate") > duplicates_before,
               timeout=30, what="payroll to see the duplicate")
    r = bpkad.post(f"/api/payroll/runs/{today.year}/{today.month}/compute")
    again = next(l for l in bpkad.get(f"/api/payroll/runs/{today.year}/{today.month}").json()["lines"]
                 if l["employee_id"] == staff_id)
    assert (again["inputs"]["approved_minutes"], again["gross"], again["net"]) == (120, line["gross"], line["net"])


def consumer_count(stack: Stack, service: str, event_type: str, outcome: str) -> float:
    """A counter from the consumer process's own /metrics."""
    port = stack.ports.consumer_metrics[service]
    body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    total = 0.0
    for m in re.finditer(r"^ekinerja_consumer_messages_total\{([^}]*)\} ([0-9.e+]+)$", body, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if labels.get("service") == service and labels.get("type") == event_type and labels.get("outcome") == outcome:
            total += float(m.group(2))
    return total
