"""Benchmark: one page of the supervisor's queue (GET /queue?limit=50), this tree's code against the
queue code of another revision (``--before``, default ``main``), and a bare Flask JSON, in the same
process, database and minute.

    .venv/bin/python bench/queue_page.py [--before main] [--repeat 15] [--noise-teams 10]

A fresh PostgreSQL database (EKINERJA_TEST_PG), migrated by the real migrations, seeded like
bench/approval_bulk.py: a head of bidang over 50 people with 22 × 3 pending entries each (3,300),
beside ``--noise-teams`` other bidang of the same size. Then, interleaved:

* ``after``: the first page and a page from the middle (cursor), through the real Flask app in
  process (test client: no network, no gunicorn) — this tree: totals and ``people`` read from
  the queue's counts (``queue_counts``, one statement with the approved minutes), then the
  page's items (one statement);
* ``before``: the same two requests through the same app, the page computed by the queue code
  of git revision ``--before`` (its ``repository.py`` and ``app.queue_page`` loaded from git,
  run on the same database) (``main`` at 17:00 on 1 Dec 2026: two GROUP BYs over the
  caller's whole queue, the approved minutes, the items: 4 statements);
* ``one_statement``: ``GET /policies/2026`` of the same app (the same token check, session and
  JSON as the queue, one SELECT): what any endpoint of this service costs, so that
  ``after - one_statement`` is the queue page's own work;
* ``bare_json``: a bare Flask app in process answering constant JSON (the in-process (a)).

Before timing, the two answers are compared (same JSON, both pages): the bench refuses to report
a speed-up of a different answer. Results: stdout and bench/results/queue_page.json.
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
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from from_git import module_from_git  # noqa: E402
from approval_bulk import DAYS, PER_DAY, TEAM, Seeder, working_days  # noqa: E402

from flask import Flask  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

import approval.app as app_module  # noqa: E402
from approval.app import create_app  # noqa: E402
from ekinerja_common.config import Settings  # noqa: E402
from ekinerja_common.testing import TestKeys, fresh_database  # noqa: E402



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="main", help="git revision whose queue code is the 'before'")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--noise-teams", type=int, default=10)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "queue_page.json"))
    args = parser.parse_args()

    old_repo = module_from_git(args.before, "services/approval/approval/repository.py", "_repository_before")
    old_app = module_from_git(args.before, "services/approval/approval/app.py", "_app_before")
    old_app.repository = old_repo  # its queue_page reads through the old queries

    load_before = os.getloadavg()
    keys = TestKeys()
    with fresh_database("bench_queue_page") as url:
        app = create_app(Settings(service="approval", database_url=url, log_level="WARNING"), keys.verifier)
        rt = app.extensions["runtime"]
        rt.migrate()
        seeder = Seeder(rt)
        days = working_days(2026, 10, DAYS)
        top = str(uuid.uuid4())
        seeder.position(top, "KADIS", None)
        seeder.person(str(uuid.uuid4()), "Kepala Dinas", top)
        boss, _staff = seeder.team(top, "A", days)
        for n in range(args.noise_teams):
            seeder.team(top, f"N{n}", days)
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            pending_total = conn.execute(text("SELECT count(*) FROM validation_items WHERE status = 'pending'")).scalar()
            pg_version = conn.execute(text("SHOW server_version")).scalar()

        client = app.test_client()
        new_queue_page = app_module.queue_page
        headers = keys.headers(boss, "pegawai")

        def after(cursor=None) -> dict:
            r = client.get("/queue", headers=headers, query_string={"limit": 50, **({"cursor": cursor} if cursor else {})})
            assert r.status_code == 200, r.get_data(as_text=True)[:300]
            return r.get_json()

        def before(cursor=None) -> dict:
            # The same request through the same app, its page computed by the old revision's code.
            app_module.queue_page = old_app.queue_page
            try:
                return after(cursor)
            finally:
                app_module.queue_page = new_queue_page

        first = after()
        assert first["total"] == TEAM * DAYS * PER_DAY, first["total"]
        middle = first
        for _ in range(30):  # page 31 of 66
            middle = after(middle["next_cursor"])
        cursor = middle["next_cursor"]
        assert before() == first and before(cursor) == after(cursor), "before and after answer differently"

        statements: list[str] = []
        count = lambda *a: statements.append(a[2])  # noqa: E731  (before_cursor_execute's statement)
        event.listen(rt.engine, "before_cursor_execute", count)
        per_page = {}
        for name, fn in (("after", after), ("before", before)):
            statements.clear()
            fn()
            per_page[name] = len(statements)
        event.remove(rt.engine, "before_cursor_execute", count)

        bare = Flask("bare")
        bare.get("/")(lambda: {"status": "ok", "items": []})
        bare_client = bare.test_client()

        def bare_json():
            assert bare_client.get("/").status_code == 200

        def one_statement():
            assert client.get("/policies/2026", headers=headers).status_code == 200

        def timed(fn, *a) -> float:
            start = time.perf_counter()
            fn(*a)
            return time.perf_counter() - start

        runs: dict[str, list[float]] = {k: [] for k in ("after_first", "after_middle", "before_first", "before_middle",
                                                         "one_statement", "bare_json")}
        for _ in range(args.repeat):
            runs["after_first"].append(timed(after))
            runs["before_first"].append(timed(before))
            runs["after_middle"].append(timed(after, cursor))
            runs["before_middle"].append(timed(before, cursor))
            runs["one_statement"].append(sum(timed(one_statement) for _ in range(5)) / 5)
            runs["bare_json"].append(sum(timed(bare_json) for _ in range(20)) / 20)
        rt.engine.dispose()

    med = {k: statistics.median(v) for k, v in runs.items()}
    result = {
        "benchmark": "queue_page",
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environment": {"python": platform.python_version(), "postgresql": pg_version, "cpus": os.cpu_count(),
                        "loadavg_before": [round(x, 2) for x in load_before],
                        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                        "before": args.before,
                        "how": "Flask app in process (test client), real PostgreSQL on localhost, fresh database; before and after "
               "are the same request, the page computed by either revision's code"},
        "data": {"team_pending": TEAM * DAYS * PER_DAY, "pending_in_database": pending_total,
                 "noise_teams": args.noise_teams, "page": 50},
        "median_ms": {k: round(v * 1000, 3) for k, v in med.items()},
        "runs_ms": {k: [round(x * 1000, 3) for x in v] for k, v in runs.items()},
        "before_over_after": {"first": round(med["before_first"] / med["after_first"], 1),
                              "middle": round(med["before_middle"] / med["after_middle"], 1)},
        "after_over_bare_json": {"first": round(med["after_first"] / med["bare_json"], 1),
                                 "middle": round(med["after_middle"] / med["bare_json"], 1)},
        "statements_per_page": per_page,
        "own_work_ms": {"after_first": round((med["after_first"] - med["one_statement"]) * 1000, 3),
                        "before_first": round((med["before_first"] - med["one_statement"]) * 1000, 3),
                        "after_middle": round((med["after_middle"] - med["one_statement"]) * 1000, 3),
                        "before_middle": round((med["before_middle"] - med["one_statement"]) * 1000, 3)},
        "bare_json_over_after": {"first": round(med["bare_json"] / med["after_first"], 3),
                                 "middle": round(med["bare_json"] / med["after_middle"], 3)},
        "same_answer_checked": True,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(json.dumps({k: result[k] for k in ("median_ms", "before_over_after", "after_over_bare_json",
                                              "bare_json_over_after", "statements_per_page",
                                              "own_work_ms")}, indent=1))
    print(f"pending in database: {pending_total}; load {load_before[0]:.1f} → {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
