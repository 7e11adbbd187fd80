"""Benchmark: approval's bulk decision and the supervisor's queue at month-end volume.

    .venv/bin/python bench/approval_bulk.py [--repeat 5] [--single-repeat 3] [--noise-teams 10]

On a fresh PostgreSQL database (EKINERJA_TEST_PG, default the local server), migrated by the real
migrations, it builds a dinas: a head of bidang (the supervisor) over 50 people, each with
22 working days x 3 entries pending at month end (3,300 entries), and ``--noise-teams`` other
bidang of 50 people with the same volume (the rest of the regency's pending work, which the queue
must not wade through). Then, through the real Flask app in process (no network, no gunicorn):

* ``bulk_approve_1000``: one POST /decisions approving 1,000 of the team's entries (checks,
  row locks, audit rows, counters, 1,000 outbox events, one transaction);
  baseline ``single_approve_x1000``: the same 1,000 entries approved one POST /entries/{id}/approve
  at a time (the old way), total time;
* ``queue_read``: GET /queue for the supervisor (3,300 items, grouped, with month-to-date
  minutes); baseline ``queue_bare_sql``: the bare SQL SELECT of the same 3,300 rows with the
  employees' names, no authorization and no JSON.

Between repetitions the decisions are undone by SQL (not measured) and the tables vacuumed, so each
repetition starts from the same state; each measurement alternates with its baseline, so that the
machine's changing load affects both alike. Medians, all runs and ratios go to stdout and to
bench/results/approval_bulk.json. Timings depend on the machine and its load (recorded too).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import date, datetime, time as dtime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "services", "approval"))
sys.path.insert(0, os.path.join(ROOT, "libs"))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from ekinerja_common.config import Settings  # noqa: E402
from ekinerja_common.consumer import Consumer  # noqa: E402
from ekinerja_common.envelope import Envelope  # noqa: E402
from ekinerja_common.events import check_event  # noqa: E402
from ekinerja_common.testing import TestKeys, fresh_database  # noqa: E402

from approval.app import create_app  # noqa: E402
from approval.inbox import HANDLERS  # noqa: E402
from approval.orm import Employee, ValidationItem  # noqa: E402
from approval import queue_model  # noqa: E402

TEAM = 50
DAYS = 22
PER_DAY = 3
SLOTS = [(dtime(8, 0), dtime(9, 30)), (dtime(10, 0), dtime(11, 30)), (dtime(13, 0), dtime(14, 30))]


def working_days(year: int, month: int, n: int) -> list[date]:
    day, out = date(year, month, 1), []
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


class Seeder:
    """Organisation and people through the consumer's idempotent path (as events would), the
    pending entries straight into the read model the consumer fills (the consumer path is not
    what this bench measures)."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.consumer = Consumer(runtime.settings, runtime.session_factory, runtime.metadata, HANDLERS)
        self.nip = 0

    def send(self, event_type: str, source: str, data: dict) -> None:
        check_event(event_type, source, data)
        assert self.consumer.apply(Envelope(type=event_type, source=source, data=data)) == "handled"

    def position(self, position_id: str, code: str, parent: str | None) -> None:
        self.send("position.created", "organization", {
            "position_id": position_id, "code": code, "name": f"Jabatan {code}", "kind": "pelaksana", "eselon": None,
            "kelas_jabatan": 7, "parent_id": parent, "unit_id": "U", "factor": "1.0000", "version": 1})

    def person(self, employee_id: str, name: str, position_id: str) -> None:
        self.nip += 1
        self.send("employee.registered", "identity", {
            "employee_id": employee_id, "nip": f"19860926201505{1 + self.nip % 2}{self.nip % 1000:03d}", "name": name,
            "employee_kind": "PNS", "status": "PNS", "golongan": "III/a", "active": True, "version": 1})
        self.send("employee.placed", "identity", {
            "placement_id": str(uuid.uuid4()), "employee_id": employee_id, "position_id": position_id,
            "start_date": "2026-01-01", "end_date": None, "kind": "definitive", "version": 1})

    def team(self, parent: str, label: str, days: list[date]) -> tuple[str, list[str]]:
        """A head over TEAM staff, each with PER_DAY entries on every day; returns the head's id
        and the staff's ids."""
        head_pos, head = str(uuid.uuid4()), str(uuid.uuid4())
        self.position(head_pos, f"KABID-{label}", parent)
        self.person(head, f"Kabid {label}", head_pos)
        staff = []
        rows = []
        submitted = datetime(2026, 10, 31, 9, 0, tzinfo=timezone.utc)
        for n in range(TEAM):
            pos, emp = str(uuid.uuid4()), str(uuid.uuid4())
            self.position(pos, f"STAFF-{label}-{n}", head_pos)
            self.person(emp, f"Pegawai {label} {n:02d}", pos)
            staff.append(emp)
            for day in days:
                for start, end in SLOTS[:PER_DAY]:
                    rows.append({"entry_id": str(uuid.uuid4()), "employee_id": emp, "date": day, "start_time": start,
                                 "end_time": end, "duty_id": "D", "duty_description": "Menyusun laporan",
                                 "volume": 1, "output_unit": "laporan", "credited_minutes": 90,
                                 "description": "Kegiatan harian", "status": "pending", "version": 1,
                                 "submitted_at": submitted, "updated_at": submitted})
        with self.runtime.engine.begin() as conn:
            conn.execute(insert(ValidationItem.__table__), rows)
        with self.runtime.session_factory() as session, session.begin():
            queue_model.derive_all(session)  # the queue's read model, as approval's consumer keeps it
        return head, staff


def reset(runtime) -> None:
    """Undo every decision (not measured) and vacuum, so each repetition starts alike."""
    with runtime.engine.begin() as conn:
        conn.execute(text("UPDATE validation_items SET status = 'pending', version = 1 WHERE status <> 'pending'"))
        for table in ("decisions", "outbox", "monthly_minutes", "decider_months"):
            conn.execute(text(f"DELETE FROM {table}"))
    with runtime.session_factory() as session, session.begin():
        queue_model.recount_all(session)  # the raw UPDATE above went around the queue's counts
    with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE validation_items, decisions, outbox, monthly_minutes, decider_months"))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(runs: list[float]) -> float:
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="repetitions of the bulk approval and queue reads")
    parser.add_argument("--single-repeat", type=int, default=3, help="repetitions of the 1,000 single approvals")
    parser.add_argument("--noise-teams", type=int, default=10, help="other bidang with pending work")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "approval_bulk.json"))
    args = parser.parse_args()

    load_before = os.getloadavg()
    keys = TestKeys()
    with fresh_database("bench_approval") as url:
        app = create_app(Settings(service="approval", database_url=url, log_level="WARNING"), keys.verifier)
        rt = app.extensions["runtime"]
        rt.migrate()
        seeder = Seeder(rt)
        days = working_days(2026, 10, DAYS)
        top = str(uuid.uuid4())
        seeder.position(top, "KADIS", None)
        seeder.person(str(uuid.uuid4()), "Kepala Dinas", top)
        t0 = time.perf_counter()
        boss, staff = seeder.team(top, "A", days)
        for n in range(args.noise_teams):
            seeder.team(top, f"N{n}", days)
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            pending_total = conn.execute(text("SELECT count(*) FROM validation_items WHERE status = 'pending'")).scalar()
            pg_version = conn.execute(text("SHOW server_version")).scalar()
        seed_seconds = time.perf_counter() - t0

        client = app.test_client()
        headers = keys.headers(boss, "pegawai")

        def get_queue():
            r = client.get("/queue", headers=headers)
            assert r.status_code == 200
            return r.get_json()

        body = get_queue()
        team_pending = TEAM * DAYS * PER_DAY
        assert len(body["items"]) == team_pending and len(body["groups"]) == TEAM, (len(body["items"]), len(body["groups"]))
        batch = [i["entry_id"] for i in body["items"][:1000]]

        # -- bulk approval of 1,000 vs 1,000 single approvals --------------------------------
        # Interleaved (bulk, single, bulk, single, ..., then the remaining bulks), so that a change
        # in the machine's load during the run hits both sides alike.
        def bulk():
            r = client.post("/decisions", json={"decision": "approve", "entry_ids": batch}, headers=headers)
            assert r.status_code == 200 and r.get_json()["decided"] == 1000, r.get_data(as_text=True)[:300]

        def singles():
            for entry_id in batch:
                r = client.post(f"/entries/{entry_id}/approve", headers=headers)
                assert r.status_code == 200

        def measured(fn) -> float:
            reset(rt)
            seconds = timed(fn)
            with rt.engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 1000
            return seconds

        bulk_runs, single_runs = [], []
        for n in range(max(args.repeat, args.single_repeat)):
            if n < args.repeat:
                bulk_runs.append(measured(bulk))
            if n < args.single_repeat:
                single_runs.append(measured(singles))

        # -- the queue vs the bare SELECT of the same rows (interleaved too) ----------------------
        reset(rt)
        bare_engine = create_engine(url)
        bare_sql = (select(ValidationItem, Employee.name, Employee.nip)
                    .join(Employee, Employee.employee_id == ValidationItem.employee_id)
                    .where(ValidationItem.status == "pending", ValidationItem.employee_id.in_(staff))
                    .order_by(Employee.name, ValidationItem.date, ValidationItem.start_time))

        def bare():
            with bare_engine.connect() as conn:
                rows = conn.execute(bare_sql).all()
            assert len(rows) == team_pending

        bare()  # warm the pool like the app's
        queue_runs, bare_runs = [], []
        for _ in range(args.repeat):
            queue_runs.append(timed(get_queue))
            bare_runs.append(timed(bare))
        bare_engine.dispose()
        rt.engine.dispose()

    bulk_m, single_m = median(bulk_runs), median(single_runs)
    queue_m, bare_m = median(queue_runs), median(bare_runs)
    result = {
        "benchmark": "approval_bulk",
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environment": {
            "python": platform.python_version(), "postgresql": pg_version, "cpus": os.cpu_count(),
            "platform": platform.platform(), "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "how": "Flask app in process (test client), real PostgreSQL on localhost, fresh database per run",
        },
        "data": {"team_size": TEAM, "working_days": DAYS, "entries_per_day": PER_DAY, "team_pending": team_pending,
                 "noise_teams": args.noise_teams, "pending_in_database": pending_total, "seed_seconds": round(seed_seconds, 2)},
        "bulk_approve_1000": {"median_s": round(bulk_m, 4), "runs_s": [round(x, 4) for x in bulk_runs]},
        "single_approve_x1000": {"median_s": round(single_m, 4), "runs_s": [round(x, 4) for x in single_runs],
                                 "median_per_request_ms": round(single_m * 1000 / len(batch), 2)},
        "bulk_speedup_vs_single": round(single_m / bulk_m, 2),
        "queue_read": {"median_s": round(queue_m, 4), "runs_s": [round(x, 4) for x in queue_runs], "items": team_pending},
        "queue_bare_sql": {"median_s": round(bare_m, 4), "runs_s": [round(x, 4) for x in bare_runs], "rows": team_pending},
        "queue_over_bare_sql": round(queue_m / bare_m, 2),
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"pending in database: {pending_total} ({team_pending} in the team of {TEAM}); PostgreSQL {pg_version}; "
          f"load {load_before[0]:.1f}")
    print(f"bulk approve 1,000 (one POST /decisions)   median {bulk_m * 1000:9.1f} ms   runs {len(bulk_runs)}")
    print(f"1,000 x single approve (baseline)          median {single_m * 1000:9.1f} ms   runs {len(single_runs)}"
          f"   -> bulk is {single_m / bulk_m:.1f}x faster")
    print(f"GET /queue ({team_pending} items, grouped)          median {queue_m * 1000:9.1f} ms   runs {len(queue_runs)}")
    print(f"bare SQL SELECT of the same rows (baseline) median {bare_m * 1000:9.1f} ms   runs {len(bare_runs)}"
          f"   -> queue costs {queue_m / bare_m:.1f}x the bare SELECT")
    print(f"written to {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    main()
