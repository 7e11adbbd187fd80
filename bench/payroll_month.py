"""Benchmark: one month's TPP run for 10,000 employees over ~2 million approved activity records.

    .venv/bin/python bench/payroll_month.py [--employees 10000] [--records 2000000] [--reps 5] [--before main]

In a fresh PostgreSQL database (created and dropped here; EKINERJA_TEST_PG names the server, as for
the tests) it migrates the payroll schema, loads the read models with COPY — employees, positions,
placements, approved activity decisions, attendance days and codes, salaries, sanctions — and a
locked previous month with late changes awaiting correction. Then it times, in the same process
and database:

- the run: ``payroll.services.compute_run`` (the function behind POST /runs/{y}/{m}/compute,
  including its transaction commit), recomputed ``--reps`` times (each replaces the lines and
  corrections of the one before, as BPKAD's recomputes do);
- the bare aggregate the run cannot avoid: ``SELECT employee_id, SUM(credited_minutes) FROM
  activity_decisions WHERE status IN ('approved','overturned') AND day BETWEEN ... GROUP BY
  employee_id``, fetched completely, ``--reps`` times, interleaved with the runs.

With ``--before REV`` (e.g. ``main``) the run of git revision REV (its ``payroll`` package loaded
from git as ``payroll_before``) is timed too, interleaved with the two above on the same database,
and its lines and corrections must hash equal to this tree's (``result_digest``).

It prints the medians and their ratio and writes them to bench/results/payroll_month.json.
Timings are not assertions: they are figures to compare between commits on one machine.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "payroll"))
sys.path.insert(0, str(ROOT / "libs"))

from sqlalchemy import text  # noqa: E402

from ekinerja_common import clock  # noqa: E402
from ekinerja_common.config import Settings  # noqa: E402
from ekinerja_common.testing import fresh_database  # noqa: E402
from ekinerja_common.workdays import WorkingDays, month_days  # noqa: E402
from payroll import domain, services  # noqa: E402
from payroll.runtime import build_runtime  # noqa: E402

YEAR, MONTH = 2026, 6  # 21 working days with the default holidays (target 6,300 minutes)
PREVIOUS = 5
UNITS, POSITIONS = 60, 600
CODES = ("TL1", "TL2", "TL3", "TL4", "PSW1", "PSW2", "PSW4", "TK", "CUTI", "SAKIT", "DL")


def copy_rows(conn, table: str, columns: tuple[str, ...], rows, chunk: int = 50_000) -> int:
    """COPY rows (tuples of already-formatted text values, None for NULL) into ``table``."""
    n = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        buf = io.StringIO()
        for row in rows:
            buf.write("\t".join(r"\N" if v is None else str(v) for v in row))
            buf.write("\n")
            n += 1
            if n % chunk == 0:
                cp.write(buf.getvalue())
                buf = io.StringIO()
        cp.write(buf.getvalue())
    return n


def working_days(year: int, month: int) -> list[date]:
    """The month's working days under the default calendar (no BKD calendar in the benchmark)."""
    cal = WorkingDays.default(year)
    return [d for d in month_days(year, month) if cal.is_working_day(d)]


def load(rt, employees: int, records: int, late_changes: int, rng: random.Random) -> dict:
    with rt.uow() as uow:
        services.current_policy(uow, YEAR, "bench")
        uow.commit()
    days = working_days(YEAR, MONTH)
    prev_days = working_days(YEAR, PREVIOUS)
    now = datetime(YEAR, MONTH, 30, 16, tzinfo=timezone.utc).isoformat()
    emp_ids = [f"emp-{n:06d}" for n in range(employees)]
    raw = rt.engine.raw_connection()
    try:
        conn = raw.driver_connection
        started = time.perf_counter()
        copy_rows(conn, "positions", ("position_id", "code", "name", "kind", "kelas_jabatan", "parent_id", "unit_id",
                                      "factor", "version"),
                  ((f"pos-{p:04d}", f"J-{p:04d}", f"Jabatan {p}", "pelaksana", 1 + p % 17, None, f"unit-{p % UNITS:03d}",
                    "1" if p % 10 else "1.25", 1) for p in range(POSITIONS)))
        golongan = ("II/a", "II/c", "III/a", "III/b", "III/d", "IV/a", "IV/b")
        copy_rows(conn, "employees", ("employee_id", "nip", "name", "employee_kind", "status", "golongan", "active",
                                      "version", "bank_account"),
                  ((e, f"19800101{2005 + n % 15:04d}01{1 + n % 2}{n % 1000:03d}", f"Pegawai {n}", "PNS",
                    "CPNS" if n % 20 == 0 else "PNS", golongan[n % len(golongan)], "true", 1, f"{1000000000 + n}")
                   for n, e in enumerate(emp_ids)))
        copy_rows(conn, "placements", ("placement_id", "employee_id", "position_id", "start_date", "end_date", "kind",
                                       "version"),
                  ((f"pl-{n:06d}", e, f"pos-{n % POSITIONS:04d}", "2020-01-01", None, "definitive", 1)
                   for n, e in enumerate(emp_ids)))

        per_employee = records // employees

        def decisions():
            n = 0
            for e in emp_ids:
                # Between roughly 60 % and 110 % of the 6,300-minute target, in many small entries.
                minutes_each = rng.randint(19, 35)
                for k in range(per_employee):
                    yield (f"ent-{n:09d}", e, days[k % len(days)].isoformat(), minutes_each, "approved", "atasan", now, 1)
                    n += 1

        n_decisions = copy_rows(conn, "activity_decisions", ("entry_id", "employee_id", "day", "credited_minutes",
                                                             "status", "decided_by", "decided_at", "version"), decisions())
        attendance = [(e, d.isoformat(), rng.choice(CODES)) for e in emp_ids for d in days if rng.random() < 0.08]
        copy_rows(conn, "attendance_days", ("employee_id", "day", "codes", "deduction_pct", "version"),
                  ((e, d, json.dumps([c]), "0", 1) for e, d, c in attendance))
        copy_rows(conn, "attendance_codes", ("employee_id", "day", "seq", "code"), ((e, d, 0, c) for e, d, c in attendance))
        copy_rows(conn, "salaries", ("year", "month", "employee_id", "salary", "bpjs_already", "updated_at", "updated_by"),
                  ((YEAR, MONTH, e, 2_500_000 + (n % 40) * 150_000, None, now, "bench") for n, e in enumerate(emp_ids)))
        copy_rows(conn, "sanctions", ("id", "employee_id", "start_date", "end_date", "cut_pct", "reference", "reason",
                                      "created_at", "created_by"),
                  ((f"san-{n:05d}", emp_ids[n * 97 % employees], "2026-03-01", "2026-08-31", "25", f"SK-{n}", "bench",
                    now, "bench") for n in range(employees // 100)))
        conn.commit()
        load_s = time.perf_counter() - started
    finally:
        raw.close()

    # The previous month, computed and locked; then late approvals for it, as the consumer would
    # have noted them (an entry and a data change each), waiting to become corrections.
    with rt.uow() as uow:
        services.compute_run(uow, YEAR, PREVIOUS, "bench")
        uow.commit()
    with rt.uow() as uow:
        # The bench reviews nothing: it acknowledges whatever the run warns of, as an operator would.
        run = services.get_run(uow.session, YEAR, PREVIOUS)
        services.lock_run(uow, YEAR, PREVIOUS, "bench", acknowledged=[w["code"] for w in services.warnings_now(run, clock.today())])
        uow.commit()
    raw = rt.engine.raw_connection()
    try:
        conn = raw.driver_connection
        late = rng.sample(emp_ids, late_changes)
        copy_rows(conn, "activity_decisions", ("entry_id", "employee_id", "day", "credited_minutes", "status",
                                               "decided_by", "decided_at", "version"),
                  ((f"late-{n:06d}", e, prev_days[n % len(prev_days)].isoformat(), 300, "approved", "atasan", now, 1)
                   for n, e in enumerate(late)))
        copy_rows(conn, "data_changes", ("id", "year", "month", "employee_id", "day", "cause_id", "cause_type",
                                         "recorded_at", "claimed_run_id", "settled_at"),
                  ((f"chg-{n:06d}", YEAR, PREVIOUS, e, prev_days[n % len(prev_days)].isoformat(), f"evt-{n:06d}",
                    "activity.approved", now, None, None) for n, e in enumerate(late)))
        conn.commit()
    finally:
        raw.close()
    # As a database that has been running for a while would be: statistics gathered, freshly
    # copied rows' hint bits and visibility map set (else the first reads pay for writing them).
    with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM (ANALYZE)")
    return {"load_seconds": round(load_s, 2), "activity_records": n_decisions, "attendance_days": len(attendance),
            "working_days": len(days)}


def digest(lines, corrections) -> str:
    """One hash of everything a run pays and explains (ids and timestamps aside), so that runs of
    two commits over the same seeded data can be compared equal."""
    h = hashlib.sha256()
    for l in sorted(lines, key=lambda l: l.employee_id):
        h.update(json.dumps([l.employee_id, l.nip, l.name, l.position_id, l.unit_id, l.bank_account,
                             l.gross, l.pph, l.bpjs, l.net, l.inputs], sort_keys=True, default=str).encode())
    for c in sorted(corrections, key=lambda c: (c.employee_id, c.for_year, c.for_month)):
        h.update(json.dumps([c.employee_id, c.for_year, c.for_month, c.nip, c.name, c.unit_id, c.bank_account,
                             c.gross, c.pph, c.bpjs, c.net, c.cause, c.basis], sort_keys=True, default=str).encode())
    return h.hexdigest()


def services_from_git(rev: str):
    """The ``payroll.services`` of git revision ``rev``, as the package ``payroll_before`` (its
    relative imports resolve inside it), for timing the old run beside the new one."""
    import importlib
    import subprocess
    import tarfile
    import tempfile
    where = Path(tempfile.mkdtemp(prefix="payroll_before_"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "services/payroll/payroll"], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    (where / "services" / "payroll" / "payroll").rename(where / "payroll_before")
    sys.path.insert(0, str(where))
    return importlib.import_module("payroll_before.services")


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--employees", type=int, default=10_000)
    ap.add_argument("--records", type=int, default=2_000_000)
    ap.add_argument("--late-changes", type=int, default=1_000, help="late approvals of the locked previous month")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20260601)
    ap.add_argument("--before", help="git revision whose compute_run is timed too, interleaved (e.g. main)")
    ap.add_argument("--profile", action="store_true",
                    help="after the timings, print a pyinstrument profile of one more compute (pip install pyinstrument)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "payroll_month.json"))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    old_services = services_from_git(args.before) if args.before else None
    load_at_start = os.getloadavg()

    with fresh_database("bench_payroll") as url:
        rt = build_runtime(Settings(service="payroll", database_url=url, db_statement_timeout_ms=0))
        rt.migrate()
        try:
            facts = load(rt, args.employees, args.records, args.late_changes, rng)
            print(f"loaded {facts['activity_records']:,} activity records for {args.employees:,} employees "
                  f"in {facts['load_seconds']} s", flush=True)
            first, last = domain.month_bounds(YEAR, MONTH)

            def compute():
                with rt.uow() as uow:
                    run = services.compute_run(uow, YEAR, MONTH, "bench")
                    uow.commit()
                return run

            aggregate_sql = text("SELECT employee_id, SUM(credited_minutes) FROM activity_decisions "
                                 "WHERE status IN ('approved', 'overturned') AND day BETWEEN :first AND :last "
                                 "GROUP BY employee_id")

            def aggregate():
                with rt.engine.connect() as conn:
                    return conn.execute(aggregate_sql, {"first": first, "last": last}).all()

            def compute_before():
                with rt.uow() as uow:
                    old_services.compute_run(uow, YEAR, MONTH, "bench")
                    uow.commit()

            def current_digest() -> str:
                with rt.session_factory() as s:
                    lines, corrections, _ = services.payments(s, services.get_run(s, YEAR, MONTH))
                    return digest(lines, corrections)

            before_digest = None
            if old_services is not None:
                compute_before()  # the first compute creates the run; the old code's, for the same start
                before_digest = current_digest()
            compute()  # warm-up: first compute creates the run and warms caches, as does the aggregate
            aggregate()
            # Interleaved, so that all see the same conditions when the machine is busy.
            run_times, sql_times, before_times = [], [], []
            for _ in range(args.reps):
                if old_services is not None:
                    before_times.append(timed(compute_before))
                run_times.append(timed(compute))
                sql_times.append(timed(aggregate))
            run_median, sql_median = statistics.median(run_times), statistics.median(sql_times)
            if args.profile:  # not a dependency: installed into the venv when needed (bench/README)
                from pyinstrument import Profiler
                profiler = Profiler(interval=0.0005)
                profiler.start()
                compute()
                profiler.stop()
                print(profiler.output_text(unicode=True, show_all=False))
            with rt.session_factory() as s:
                run = services.get_run(s, YEAR, MONTH)
                lines, corrections, _ = services.payments(s, run)
                result_digest = digest(lines, corrections)
            rows = aggregate()
        finally:
            rt.engine.dispose()

    result = {
        "benchmark": "payroll_month",
        "what": "services.compute_run (POST /runs/{y}/{m}/compute without HTTP) vs the bare SUM ... GROUP BY",
        "month": f"{YEAR}-{MONTH:02d}",
        "employees": args.employees,
        "lines": len(lines),
        "corrections": len(corrections),
        "aggregate_rows": len(rows),
        "late_changes_of_previous_month": args.late_changes,
        **facts,
        "reps": args.reps,
        "compute_run_median_s": round(run_median, 3),
        "compute_run_times_s": [round(t, 3) for t in run_times],
        "bare_sql_aggregate_median_s": round(sql_median, 3),
        "bare_sql_aggregate_times_s": [round(t, 3) for t in sql_times],
        "ratio_run_to_aggregate": round(run_median / sql_median, 2),
        **({"before": args.before, "before_compute_run_median_s": round(statistics.median(before_times), 3),
            "before_compute_run_times_s": [round(t, 3) for t in before_times],
            "before_ratio_run_to_aggregate": round(statistics.median(before_times) / sql_median, 2),
            "before_result_digest": before_digest, "equal_to_before": before_digest == result_digest}
           if old_services is not None else {}),
        "run_totals_net": services.totals(lines)["net"],
        "correction_totals_net": services.totals(corrections)["net"],
        # Equal digests at one --employees/--records/--seed: equal lines and corrections.
        "result_digest": result_digest,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average_at_start": [round(x, 2) for x in load_at_start],
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    print(f"compute_run median {run_median:.3f} s over {args.reps} ({len(lines):,} lines, {len(corrections):,} corrections)")
    print(f"bare SQL aggregate median {sql_median:.3f} s over {args.reps} ({len(rows):,} rows)")
    print(f"ratio run / aggregate: {run_median / sql_median:.2f} (load average {os.getloadavg()[0]:.2f})")
    print(f"result digest {result_digest}")
    if old_services is not None:
        print(f"before ({args.before}) compute_run median {statistics.median(before_times):.3f} s, ratio "
              f"{statistics.median(before_times) / sql_median:.2f}; results equal: {before_digest == result_digest}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
