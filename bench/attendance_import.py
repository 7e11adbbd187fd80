"""Attendance import and GET /me/month at a regency's scale (issue #4).

Generates a month of fingerprint-device attendance for 10,000 employees (22 working days,
~220,000 rows), imports it into a fresh PostgreSQL database through the activity service's own
HTTP endpoint (in-process Flask client: multipart parsing, row checks, set-wise COPY writes,
outbox rows, summaries, all in one transaction), imports it a second time (the idempotent path),
then measures GET /me/month over many calls beside two baselines measured in the same run:
GET /healthz (the cost of a request through the app at all) and the bare SQL aggregate that the
summary table replaces. Finally the outbox relay publishes the import's events to RabbitMQ.

    .venv/bin/python bench/attendance_import.py [--employees 10000] [--calls 2000] [--no-relay]

Needs PostgreSQL (EKINERJA_TEST_PG, default postgres@127.0.0.1:5432) and, for the relay part,
RabbitMQ (EKINERJA_TEST_AMQP). Prints the figures and writes bench/results/attendance_import.json.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, insert, select, text

from ekinerja_common.config import Settings
from ekinerja_common.events import SERVICES
from ekinerja_common.outbox import OUTBOX
from ekinerja_common.testing import AMQP_URL, TestKeys, delete_prefixed_topology, fresh_database, queue_prefix

from activity.app import create_app
from activity.attendance import WorkCalendar
from activity.orm import AttendanceDay, AttendanceRecord, Employee, Placement

YEAR, MONTH = 2026, 10  # a past month: every row is a finished day


def nip(i: int) -> str:
    born = date(1970, 1, 1) + timedelta(days=i // 999)
    return f"{born:%Y%m%d}2005011{i % 999 + 1:03d}"[:14] + f"{1 + i % 2}{i % 999 + 1:03d}"


def setup_read_models(rt, n: int) -> list[str]:
    """What identity's events would have built: employees (NIP -> id) and their placements."""
    ids = [str(uuid.UUID(int=random.getrandbits(128))) for _ in range(n)]
    position = str(uuid.uuid4())
    with rt.engine.begin() as conn:
        conn.execute(insert(Employee.__table__), [
            {"employee_id": e, "nip": nip(i), "name": f"Pegawai {i}", "active": True, "version": 1} for i, e in enumerate(ids)])
        conn.execute(insert(Placement.__table__), [
            {"placement_id": str(uuid.uuid4()), "employee_id": e, "position_id": position, "start_date": date(2020, 1, 1),
             "end_date": None, "kind": "definitive", "version": 1} for e in ids])
    return ids


def month_file(n: int, rng: random.Random) -> tuple[str, int]:
    """The device file of the month: mostly on time, some late or early, a few missing punches,
    leave codes and empty (absent) rows; in the order devices write it (day by day)."""
    cal = WorkCalendar(YEAR)
    days = [date(YEAR, MONTH, d) for d in range(1, 32) if cal.is_working_day(date(YEAR, MONTH, d))]
    out = io.StringIO()
    out.write("nip,date,check_in,check_out,code\n")
    rows = 0
    for day in days:
        end = "16:30" if day.isoweekday() == 5 else "16:00"
        for i in range(n):
            r = rng.random()
            ci = f"07:{rng.randint(0, 29):02d}:{rng.randint(0, 59):02d}"
            co = f"{end[:2]}:{int(end[3:]) + rng.randint(0, 29):02d}:{rng.randint(0, 59):02d}"
            code = ""
            if r < 0.08:      # late, any band
                ci = f"{rng.choice(['07:4', '08:1', '08:5', '09:3'])}{rng.randint(0, 9)}:00"
            elif r < 0.12:    # left early
                co = f"{rng.choice(['15:4', '15:1', '14:4', '13:0'])}{rng.randint(0, 9)}:00"
            elif r < 0.14:    # forgot to check out
                co = ""
            elif r < 0.17:    # leave or duty elsewhere
                ci, co, code = "", "", rng.choice(["CUTI", "SAKIT", "DL"])
            elif r < 0.18:    # absent: an explicit empty row
                ci, co = "", ""
            out.write(f"{nip(i)},{day.isoformat()},{ci},{co},{code}\n")
            rows += 1
    return out.getvalue(), rows


def timed_import(client, headers, body: str) -> tuple[float, dict]:
    start = time.perf_counter()
    r = client.post("/attendance/import", data={"file": (io.BytesIO(body.encode()), "presensi-2026-10.csv")},
                    headers=headers, content_type="multipart/form-data")
    elapsed = time.perf_counter() - start
    if r.status_code != 200:
        raise SystemExit(f"import failed: {r.status_code} {r.get_data(as_text=True)[:500]}")
    return elapsed, r.get_json()


def latencies(fn, calls: int) -> dict:
    """Wall-clock latency per call, and this process's CPU time per call: on a shared machine the
    wall clock includes waiting for a CPU, the CPU time does not."""
    samples = []
    cpu_start = time.process_time()
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    cpu_ms = (time.process_time() - cpu_start) * 1000 / calls
    samples.sort()
    return {"calls": calls, "median_ms": round(statistics.median(samples), 3),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 3), "max_ms": round(samples[-1], 3),
            "cpu_ms_per_call": round(cpu_ms, 3)}


def broker_baseline(n: int = 500) -> dict:
    """What the broker itself allows to one publisher that waits for each confirm (as the relay
    does): persistent 300-byte messages to a durable queue."""
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        queue = f"bench.{uuid.uuid4().hex[:8]}"
        ch.queue_declare(queue, durable=True)
        props = pika.BasicProperties(delivery_mode=2)
        start = time.perf_counter()
        for _ in range(n):
            ch.basic_publish("", queue, b"x" * 300, props, mandatory=True)
        elapsed = time.perf_counter() - start
        ch.queue_delete(queue)
    finally:
        conn.close()
    return {"what": "bare pika: persistent publish, wait for each confirm", "messages": n,
            "msgs_per_s": round(n / elapsed)}


def relay_all(rt) -> dict:
    """Publish every outbox row through the real relay (publisher confirms) and time it."""
    import pika

    from ekinerja_common import topology
    from ekinerja_common.relay import Relay

    settings = rt.settings
    outbox = rt.metadata.tables[OUTBOX]
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        topology.declare(ch, settings)
        relay = Relay(settings, rt.engine, rt.metadata)
        with rt.engine.connect() as c:
            pending = c.execute(select(func.count()).where(outbox.c.published_at.is_(None))).scalar()
        start = time.perf_counter()
        sent = 0
        while True:
            n = relay.publish_batch(ch)
            if n == 0:
                break
            sent += n
        elapsed = time.perf_counter() - start
        queued = ch.queue_declare(topology.names(settings, "payroll")["queue"], passive=True).method.message_count
    finally:
        conn.close()
        delete_prefixed_topology(settings.queue_prefix, SERVICES)
    return {"events": pending, "published": sent, "seconds": round(elapsed, 2),
            "events_per_s": round(sent / elapsed) if elapsed else None, "in_payroll_queue": queued,
            "batch": settings.relay_batch}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--employees", type=int, default=10_000)
    ap.add_argument("--calls", type=int, default=2_000)
    ap.add_argument("--no-relay", action="store_true", help="skip publishing the events to RabbitMQ")
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "attendance_import.json"))
    args = ap.parse_args()
    random.seed(args.seed)
    rng = random.Random(args.seed)
    keys = TestKeys()
    results: dict = {"when": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "load_avg_1m": round(os.getloadavg()[0], 2)},
                     "employees": args.employees, "month": f"{YEAR}-{MONTH:02d}"}
    with fresh_database("bench_activity") as url:
        settings = Settings(service="activity", database_url=url, queue_prefix=queue_prefix(), relay_batch=500,
                            extra={"ACTIVITY_EVIDENCE_DIR": "/tmp/ekinerja-bench-evidence"})
        app = create_app(settings, keys.verifier)
        rt = app.extensions["runtime"]
        try:
            rt.migrate()
            t0 = time.perf_counter()
            ids = setup_read_models(rt, args.employees)
            results["setup_read_models_s"] = round(time.perf_counter() - t0, 2)
            t0 = time.perf_counter()
            body, rows = month_file(args.employees, rng)
            results["file"] = {"rows": rows, "bytes": len(body), "generate_s": round(time.perf_counter() - t0, 2)}
            client = app.test_client()
            bkd = keys.headers("bench-bkd", "admin_bkd")

            elapsed, report = timed_import(client, bkd, body)
            results["import"] = {"seconds": round(elapsed, 2), "rows_per_s": round(rows / elapsed),
                                 **{k: report[k] for k in ("rows", "changed", "unchanged", "rejected", "events")}}
            elapsed, report = timed_import(client, bkd, body)
            results["reimport_same_file"] = {"seconds": round(elapsed, 2), "rows_per_s": round(rows / elapsed),
                                             **{k: report[k] for k in ("changed", "unchanged", "events")}}
            with rt.engine.connect() as conn:
                results["tables"] = {
                    "attendance_days": conn.execute(select(func.count()).select_from(AttendanceDay)).scalar(),
                    "attendance_records": conn.execute(select(func.count()).select_from(AttendanceRecord)).scalar(),
                    "outbox": conn.execute(select(func.count()).select_from(rt.metadata.tables[OUTBOX])).scalar(),
                }
                conn.execute(text("ANALYZE"))

            # GET /me/month for random employees, with a token each call would carry.
            tokens = {e: keys.headers(e, "pegawai") for e in rng.sample(ids, min(200, len(ids)))}
            pool = list(tokens)
            check = client.get(f"/me/month?month={YEAR}-{MONTH:02d}", headers=tokens[pool[0]])
            assert check.status_code == 200 and check.get_json()["attendance"]["recorded_days"] == 22, check.get_json()
            me = latencies(lambda: client.get(f"/me/month?month={YEAR}-{MONTH:02d}", headers=tokens[rng.choice(pool)]),
                           args.calls)
            health = latencies(lambda: client.get("/healthz"), args.calls)
            first, after = date(YEAR, MONTH, 1), date(YEAR, MONTH + 1, 1)
            aggregate_sql = text(
                "SELECT count(*), coalesce(sum(deduction_pct), 0), "
                "count(*) FILTER (WHERE codes LIKE '%TL%'), count(*) FILTER (WHERE codes = 'TK') "
                "FROM attendance_days WHERE employee_id = :e AND date >= :f AND date < :a")
            summary_sql = text("SELECT * FROM month_summaries WHERE employee_id = :e AND year = :y AND month = :m")
            with rt.engine.connect() as conn:
                on_read = latencies(lambda: conn.execute(aggregate_sql, {"e": rng.choice(ids), "f": first, "a": after}).all(),
                                    args.calls)
                lookup = latencies(lambda: conn.execute(summary_sql, {"e": rng.choice(ids), "y": YEAR, "m": MONTH}).all(),
                                   args.calls)
                whole_month = latencies(lambda: conn.execute(text(
                    "SELECT employee_id, sum(deduction_pct) FROM attendance_days WHERE date >= :f AND date < :a "
                    "GROUP BY employee_id"), {"f": first, "a": after}).all(), 5)
            results["me_month"] = {"endpoint": "GET /me/month", **me}
            results["baselines"] = {
                "healthz": {"endpoint": "GET /healthz (no token, no database)", **health},
                "sql_aggregate_on_read_one_employee": {"what": "bare SQL: count/sum over attendance_days for one "
                                                               "employee-month (index on employee_id, date)", **on_read},
                "sql_summary_lookup_one_employee": {"what": "bare SQL: the month_summaries primary-key row", **lookup},
                "sql_aggregate_whole_month_all_employees": {"what": "what payroll-style reading of the month costs", **whole_month},
            }
            if not args.no_relay:
                try:
                    results["relay"] = relay_all(rt)
                    results["relay"]["baseline"] = broker_baseline()
                except Exception as exc:  # noqa: BLE001 - the broker part is optional
                    results["relay"] = {"error": str(exc)[:300]}
        finally:
            rt.engine.dispose()
    results["machine"]["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    imp, re_imp = results["import"], results["reimport_same_file"]
    print(f"file: {results['file']['rows']:,} rows, {results['file']['bytes'] / 1e6:.1f} MB, {args.employees:,} employees")
    print(f"import: {imp['seconds']} s = {imp['rows_per_s']:,} rows/s; {imp['changed']:,} days, {imp['events']:,} events")
    print(f"re-import (same file): {re_imp['seconds']} s = {re_imp['rows_per_s']:,} rows/s; "
          f"{re_imp['changed']} changed, {re_imp['events']} events")
    me = results["me_month"]
    print(f"GET /me/month: median {me['median_ms']} ms, p95 {me['p95_ms']} ms, CPU {me['cpu_ms_per_call']} ms/call "
          f"over {me['calls']} calls")
    for name, b in results["baselines"].items():
        print(f"  baseline {name}: median {b['median_ms']} ms, p95 {b['p95_ms']} ms, CPU {b['cpu_ms_per_call']} ms/call")
    if "relay" in results:
        print(f"relay: {results['relay']}")
    print(f"machine: {results['machine']}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    sys.exit(main())
