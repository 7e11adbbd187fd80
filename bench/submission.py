"""Benchmark: one submission (POST /entries) through the real activity app, the code of this tree
against the code of ``--before`` (default ``main``), beside a bare one-INSERT Flask view, in the
same process, database and minute.

    .venv/bin/python bench/submission.py [--before main] [--rounds 7] [--per-round 150] [--employees 120]

A fresh PostgreSQL database (EKINERJA_TEST_PG), migrated by the real migrations; ``--employees``
people, each holding a post with two duties, with 12 pending entries each on the days still in the submission window
(the day's other claims a submission reads), half of them for the ``before`` code and half for
this tree's, identical. Then:

* first the two answer alike: the same drafts (new entries, an overlap, the daily ceiling, another
  post's duty) sent to both give the same status and body, the same entry rows, month summaries
  and event data (ids and times aside) — the bench refuses to report a speed-up of another answer;
* then, interleaved in ``--rounds`` rounds of ``--per-round`` sequential requests each:
  ``after`` (this tree's app), ``before`` (``--before``'s ``services.py`` and ``app.py`` loaded
  from git, on the same database), ``bare_insert`` (an in-process Flask view doing one INSERT in a
  transaction on its own pooled engine, like bench/baseline_app.py's (b)) and ``me_month`` (this
  tree's GET /me/month: one SELECT, so the framework's share of a request).

Reported per variant: median per-request wall time and Python CPU time, requests/s in one thread
(wall), and statements per request (SQLAlchemy cursor executes; each transaction adds BEGIN and
COMMIT, and a pooled checkout a pre-ping). Tokens are made before timing and verified by the test
keys (no revocation lookup, for every variant alike). Results: stdout and bench/results/submission.json.
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
from datetime import datetime, time as dtime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from from_git import module_from_git  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, event, insert, select, text  # noqa: E402

from activity import app as activity_app  # noqa: E402
from activity.orm import Duty, Entry, MonthSummary, Placement  # noqa: E402
from ekinerja_common import clock  # noqa: E402
from ekinerja_common.config import Settings  # noqa: E402
from ekinerja_common.outbox import OUTBOX  # noqa: E402
from ekinerja_common.testing import TestKeys, fresh_database  # noqa: E402

PREFILLED_PER_EMPLOYEE = 12



def window_days(today, window=5):
    """The weekdays still inside the default submission window, today first."""
    return [today - timedelta(days=n) for n in range(window + 1) if (today - timedelta(days=n)).weekday() < 5]


def seed(conn, employees: list[str], days: list) -> dict[str, dict]:
    """Read models (placements, duties) and prefilled pending entries, by SQL."""
    now = datetime.now(timezone.utc)
    people, placements, duties, entries = {}, [], [], []
    for emp in employees:
        pos, duty, other = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        people[emp] = {"duty": duty, "other_duty": other}
        placements.append({"placement_id": str(uuid.uuid4()), "employee_id": emp, "position_id": pos,
                           "start_date": days[-1] - timedelta(days=90), "end_date": None, "kind": "definitive",
                           "version": 1})
        duties += [{"duty_id": duty, "position_id": pos, "description": "Menyusun laporan", "output_unit": "laporan",
                    "norma_waktu": 30, "status": "published", "version": 1},
                   {"duty_id": other, "position_id": str(uuid.uuid4()), "description": "Tugas lain",
                    "output_unit": "berkas", "norma_waktu": 30, "status": "published", "version": 1}]
        for k in range(PREFILLED_PER_EMPLOYEE):  # afternoons: the morning slots stay free for the bench
            day = days[k % len(days)]
            start = dtime(13 + (k // len(days)), 0)
            entries.append({"id": str(uuid.uuid4()), "employee_id": emp, "date": day, "start_time": start,
                            "end_time": dtime(start.hour, 45), "duty_id": duty, "duty_description": "Menyusun laporan",
                            "output_unit": "laporan", "norma_waktu": 30, "volume": 1, "description": "prefill",
                            "credited_minutes": 30, "status": "submitted", "reason": None, "decision_version": 0,
                            "decided_by": None, "decided_at": None, "version": 1, "submitted_version": 1,
                            "appeal_id": None, "appeal_version": 0, "appeal_outcome": None,
                            "awaiting_confirmation": False, "superseded_change": None, "created_at": now,
                            "updated_at": now})
    conn.execute(insert(Placement.__table__), placements)
    conn.execute(insert(Duty.__table__), duties)
    conn.execute(insert(Entry.__table__), entries)
    return people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="main", help="git revision whose submission code is the 'before'")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=150)
    parser.add_argument("--employees", type=int, default=120)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "submission.json"))
    args = parser.parse_args()

    old_services = module_from_git(args.before, "services/activity/activity/services.py", "_services_before")
    old_app = module_from_git(args.before, "services/activity/activity/app.py", "_app_before")
    old_app.services = old_services  # its views run the old use case
    if hasattr(old_services, "_pg_write"):
        print(f"note: {args.before} already has the two-statement path (comparing two versions of it)", flush=True)

    load_before = os.getloadavg()
    keys = TestKeys()
    today = clock.today()
    days = window_days(today)
    with fresh_database("bench_submission") as url:
        settings = Settings(service="activity", database_url=url, log_level="WARNING")
        apps = {"after": activity_app.create_app(settings, keys.verifier),
                "before": old_app.create_app(settings, keys.verifier)}
        rt = apps["after"].extensions["runtime"]
        rt.migrate()
        half = args.employees // 2
        employees = [str(uuid.uuid4()) for _ in range(2 * half)]
        with rt.engine.begin() as conn:
            people = seed(conn, employees, days)
            conn.execute(text("CREATE TABLE bare_rows (id uuid PRIMARY KEY, body text NOT NULL, "
                              "created_at timestamptz NOT NULL DEFAULT now())"))
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            pg_version = conn.execute(text("SHOW server_version")).scalar()
        own = {"before": employees[:half], "after": employees[half:]}
        headers = {emp: keys.headers(emp, "pegawai") for emp in employees}
        clients = {name: a.test_client() for name, a in apps.items()}
        statements = {name: 0 for name in apps}
        for name, a in apps.items():
            event.listen(a.extensions["runtime"].engine, "before_cursor_execute",
                         lambda *_a, _n=name: statements.__setitem__(_n, statements[_n] + 1))

        # -- the same answers first -------------------------------------------------------------
        def body(emp, day, start, end, duty=None, volume=1):
            return {"date": day.isoformat(), "start_time": start, "end_time": end,
                    "duty_id": duty or people[emp]["duty"], "volume": volume, "description": "Laporan bench"}

        twin = {name: own[name][0] for name in apps}
        # Today already holds 90 prefilled minutes: 90 + 30 + 240 + 60 + 30 = 450, the ceiling; the
        # last one is above it. Between them an overlap, another post's duty and a zero volume.
        script = [("07:00", "07:30", None, 1), ("07:15", "07:45", None, 1), ("08:00", "12:00", None, 8),
                  ("12:00", "13:00", None, 2), ("07:30", "08:00", "other_duty", 1), ("07:30", "08:00", None, 0),
                  ("07:30", "08:00", None, 1), ("06:00", "07:00", None, 2)]
        answers = {}
        for name, c in clients.items():
            emp, got = twin[name], []
            for start, end, duty, volume in script:
                r = c.post("/entries", json=body(emp, today, start, end, people[emp][duty] if duty else None, volume),
                           headers=headers[emp])
                j = r.get_json()
                got.append((r.status_code, {k: v for k, v in j.items() if k not in ("id", "employee_id", "duty_id")}))
            answers[name] = got
        assert answers["before"] == answers["after"], (answers["before"], answers["after"])
        skip = {"id", "employee_id", "duty_id", "created_at", "updated_at"}
        with rt.engine.connect() as conn:
            def rows_of(emp):
                es = [{k: v for k, v in r._mapping.items() if k not in skip} for r in conn.execute(
                    select(Entry.__table__).where(Entry.employee_id == emp, Entry.description == "Laporan bench")
                    .order_by(Entry.start_time))]
                ms = [{k: v for k, v in r._mapping.items() if k != "employee_id"} for r in conn.execute(
                    select(MonthSummary.__table__).where(MonthSummary.employee_id == emp))]
                out = rt.metadata.tables[OUTBOX]
                evs = [{k: v for k, v in json.loads(b)["data"].items() if k not in ("entry_id", "employee_id", "duty_id")}
                       for b in conn.execute(select(out.c.body).where(out.c.body.contains(emp)).order_by(out.c.seq)).scalars()]
                return es, ms, evs
            assert rows_of(twin["before"]) == rows_of(twin["after"]), "before and after store differently"
        print("same answers, rows, summaries and events: checked", flush=True)

        # -- timing ------------------------------------------------------------------------------
        slots = [(f"{7 + m // 60:02d}:{m % 60:02d}", f"{7 + (m + 10) // 60:02d}:{(m + 10) % 60:02d}")
                 for m in range(0, 330, 12)]  # 07:00 … 12:24, 10 minutes each
        work = {name: iter([(emp, d, s) for s in slots for d in days for emp in own[name][1:]]) for name in apps}

        def submission(name):
            emp, day, (start, end) = next(work[name])
            r = clients[name].post("/entries", json=body(emp, day, start, end), headers=headers[emp])
            assert r.status_code == 201, r.get_data(as_text=True)[:300]

        bare = Flask("bare")
        bare_engine = create_engine(url, pool_size=5, max_overflow=5)  # as bench/baseline_app.py's (b): no pre-ping
        statements["bare_insert"] = 0
        event.listen(bare_engine, "before_cursor_execute",
                     lambda *_a: statements.__setitem__("bare_insert", statements["bare_insert"] + 1))

        @bare.post("/bare/insert")
        def bare_insert():
            from flask import request
            with bare_engine.begin() as conn:
                conn.execute(text("INSERT INTO bare_rows (id, body) VALUES (:id, :body)"),
                             {"id": uuid.uuid4(), "body": request.get_data(as_text=True)[:2000]})
            return {"status": "stored"}, 201

        bare_client = bare.test_client()
        bare_body = json.dumps({"description": "bare insert", "volume": 1})

        def bare_one(_name):
            assert bare_client.post("/bare/insert", data=bare_body, content_type="application/json").status_code == 201

        month = today.strftime("%Y-%m")

        def me_month(_name):
            emp = own["after"][1]
            assert clients["after"].get(f"/me/month?month={month}", headers=headers[emp]).status_code == 200

        variants = {"bare_insert": bare_one, "before": submission, "after": submission, "me_month": me_month}
        capacity = (len(slots) * len(days) * (half - 1))
        needed = (args.rounds + 1) * args.per_round
        assert needed <= capacity, f"only {capacity} free slots per variant for {needed} submissions: more --employees"
        for name, fn in variants.items():  # warm-up: pools, compiled caches, prepared statements
            for _ in range(min(20, args.per_round)):
                fn(name)
        runs = {k: {"wall_ms": [], "cpu_ms": [], "per_s": []} for k in variants}
        counted = {k: [] for k in variants}
        for _ in range(args.rounds):
            for name, fn in variants.items():
                key = "after" if name == "me_month" else name
                before_count = statements[key]
                walls, cpus = [], []
                t0 = time.perf_counter()
                for _ in range(args.per_round):
                    w, c = time.perf_counter(), time.process_time()
                    fn(name)
                    cpus.append(time.process_time() - c)
                    walls.append(time.perf_counter() - w)
                elapsed = time.perf_counter() - t0
                counted[name].append((statements[key] - before_count) / args.per_round)
                runs[name]["wall_ms"].append(statistics.median(walls) * 1000)
                runs[name]["cpu_ms"].append(statistics.median(cpus) * 1000)
                runs[name]["per_s"].append(args.per_round / elapsed)
        for a in apps.values():
            a.extensions["runtime"].engine.dispose()
        bare_engine.dispose()

    med = {k: {m: round(statistics.median(v[m]), 3) for m in v} for k, v in runs.items()}
    result = {
        "benchmark": "submission",
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environment": {"python": platform.python_version(), "postgresql": pg_version, "cpus": os.cpu_count(),
                        "loadavg_before": [round(x, 2) for x in load_before],
                        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                        "before": args.before,
                        "how": "Flask apps in process (test client, one thread), real PostgreSQL on localhost, "
                               "fresh database; interleaved rounds"},
        "data": {"employees": 2 * half, "prefilled_entries_per_employee": PREFILLED_PER_EMPLOYEE,
                 "rounds": args.rounds, "per_round": args.per_round},
        "median": med,
        "statements_per_request": {k: round(statistics.median(v), 2) for k, v in counted.items()},
        "ratios": {
            "after_over_before_per_s": round(med["after"]["per_s"] / med["before"]["per_s"], 2),
            "before_over_bare_insert_per_s": round(med["before"]["per_s"] / med["bare_insert"]["per_s"], 2),
            "after_over_bare_insert_per_s": round(med["after"]["per_s"] / med["bare_insert"]["per_s"], 2),
            "me_month_over_bare_insert_per_s": round(med["me_month"]["per_s"] / med["bare_insert"]["per_s"], 2),
        },
        "runs": {k: {m: [round(x, 3) for x in v[m]] for m in v} for k, v in runs.items()},
        "same_answer_checked": True,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(json.dumps({k: result[k] for k in ("median", "statements_per_request", "ratios")}, indent=1))
    print(f"load {load_before[0]:.1f} → {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
