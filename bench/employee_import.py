"""Benchmark: BKD's bulk import of 10,000 employees, each with a first placement, from one CSV.

    .venv/bin/python bench/employee_import.py [--rows 10000] [--reps 5]

Generates a CSV of ``--rows`` employees with valid NIPs (every NIP distinct; birth date, TMT CPNS,
gender and sequence all valid), each placed in one of 50 positions by code. Each repetition
creates a fresh PostgreSQL database (EKINERJA_TEST_PG names the server, as for the tests),
migrates identity's schema, feeds the 50 positions into identity's position read model through
its event handler, and then times POST /employees/import through the Flask app in-process with
an admin_bkd token (TestKeys: a key the bench generates, verified the way every service verifies
tokens). The timed request does everything the real one does: parse, validate every row, check
duplicates against the database, insert employees and placements, an audit record and an outbox
event per record, commit.

In the same run, on the same machine and server, it times two baselines:

- parse + validate only: reading the CSV and checking every row with the NIP/personnel rules,
  in memory, no database;
- bare INSERT: the same employee and placement rows (no events, no audit) inserted with one
  executemany each into a fresh migrated database, in one transaction.

And a file with errors: the same CSV with bad rows sprinkled in (broken NIPs, a NIP twice, an
unknown position code, a golongan that does not exist, an end before a start); it must be refused
(422) with every injected error listed by line, and nothing stored. Its time is reported too.

It prints the medians and writes them to bench/results/employee_import.json. Timings are figures
to compare between commits on one machine, never test assertions.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "identity"))
sys.path.insert(0, str(ROOT / "libs"))

from sqlalchemy import func, insert, select  # noqa: E402

from ekinerja_common import clock  # noqa: E402
from ekinerja_common.config import Settings  # noqa: E402
from ekinerja_common.envelope import Envelope  # noqa: E402
from ekinerja_common.events import parse  # noqa: E402
from ekinerja_common.uow import UnitOfWork  # noqa: E402
from ekinerja_common.outbox import OUTBOX  # noqa: E402
from ekinerja_common.testing import TestKeys, fresh_database, queue_prefix  # noqa: E402
from identity import domain  # noqa: E402
from identity.app import create_app  # noqa: E402
from identity.imports import EMPLOYEE_OPTIONAL, EMPLOYEE_REQUIRED  # noqa: E402
from identity.inbox import on_position  # noqa: E402
from identity.orm import Employee, Placement  # noqa: E402
from identity.tabular import read_table  # noqa: E402

POSITIONS = 50
HEADER = list(EMPLOYEE_REQUIRED + EMPLOYEE_OPTIONAL)
GOLONGAN = ("II/a", "II/b", "II/c", "II/d", "III/a", "III/b", "III/c", "III/d", "IV/a", "IV/b")


def nip(i: int) -> str:
    """A distinct valid PNS NIP for each i: birth 1965-01-01 + i days, TMT CPNS 23 years later
    in month 1-12, gender 1/2, sequence 001-999."""
    born = date(1965, 1, 1) + timedelta(days=i)
    return f"{born:%Y%m%d}{born.year + 23}{1 + i % 12:02d}{1 + i % 2}{1 + i % 999:03d}"


def employee_rows(n: int) -> list[list[str]]:
    return [[nip(i), f"Pegawai Bench {i:05d}", "PNS", "CPNS" if i % 20 == 0 else "PNS", GOLONGAN[i % len(GOLONGAN)],
             f"00{7000000000 + i}", "", f"BENCH-{i % POSITIONS:02d}", "plt" if i % 50 == 0 else "definitive",
             "2026-01-01", ""] for i in range(n)]


def to_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(rows)
    return out.getvalue().encode()


def with_errors(rows: list[list[str]]) -> tuple[bytes, set[tuple[int, str]]]:
    """Every 100th row broken in one of five ways; returns the file and the (line, field) pairs
    the answer must list. Line = index + 2 (the header is line 1)."""
    bad = [list(r) for r in rows]
    expected: set[tuple[int, str]] = set()
    for i in range(7, len(bad), 100):
        line = i + 2
        kind = (i // 100) % 5
        if kind == 0:
            bad[i][0] = bad[i][0][:14] + "3000"  # gender 3, sequence 000
            expected |= {(line, "nip.gender"), (line, "nip.sequence")}
        elif kind == 1:
            bad[i][0] = bad[i - 1][0]  # the NIP of the line before
            expected.add((line, "nip"))
        elif kind == 2:
            bad[i][7] = "TIDAK-ADA"
            expected.add((line, "position_code"))
        elif kind == 3:
            bad[i][4] = "IV/f"
            expected.add((line, "golongan"))
        else:
            bad[i][10] = "2025-12-31"
            expected.add((line, "end_date"))
    return to_csv(bad), expected


class Db:
    """A fresh, migrated identity database with the bench positions in its read model."""

    def __init__(self, keys: TestKeys):
        self.keys = keys

    def __enter__(self):
        self._ctx = fresh_database("bench_import")
        url = self._ctx.__enter__()
        self.app = create_app(Settings(service="identity", database_url=url, queue_prefix=queue_prefix()), self.keys.verifier)
        self.rt = self.app.extensions["runtime"]
        self.rt.migrate()
        with self.rt.session_factory() as s, s.begin():
            for i in range(POSITIONS):
                on_position(UnitOfWork.joining(s, None, "identity"), parse(Envelope(type="position.created", source="organization", data={
                    "position_id": str(uuid.uuid4()), "code": f"BENCH-{i:02d}", "name": f"Jabatan {i}",
                    "kind": "pelaksana", "kelas_jabatan": 7, "parent_id": None, "unit_id": "u", "factor": "1",
                    "version": 1})))
        return self

    def __exit__(self, *exc):
        self.rt.engine.dispose()
        return self._ctx.__exit__(*exc)

    def count(self, model) -> int:
        with self.rt.session_factory() as s:
            return s.scalar(select(func.count()).select_from(model))

    def outbox(self) -> int:
        with self.rt.engine.connect() as c:
            return c.scalar(select(func.count()).select_from(self.rt.metadata.tables[OUTBOX]))


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def run_import(keys: TestKeys, data: bytes, rows: int) -> float:
    with Db(keys) as db:
        client = db.app.test_client()
        headers = {**keys.headers(None, "admin_bkd"), "Content-Type": "text/csv"}
        seconds, r = timed(lambda: client.post("/employees/import", data=data, headers=headers))
        assert r.status_code == 201, r.get_json()
        body = r.get_json()
        assert body["employees"] == rows and body["placements"] == rows and body["errors"] == [], body
        assert db.count(Employee) == rows and db.count(Placement) == rows and db.outbox() == 2 * rows
    return seconds


def run_rejected(keys: TestKeys, data: bytes, expected: set[tuple[int, str]]) -> float:
    with Db(keys) as db:
        client = db.app.test_client()
        headers = {**keys.headers(None, "admin_bkd"), "Content-Type": "text/csv"}
        seconds, r = timed(lambda: client.post("/employees/import", data=data, headers=headers))
        assert r.status_code == 422, r.get_json()
        listed = {(e["line"], e["field"]) for e in r.get_json()["error"]["rows"]}
        assert listed == expected, (len(listed), len(expected), sorted(listed ^ expected)[:10])
        assert db.count(Employee) == 0 and db.count(Placement) == 0 and db.outbox() == 0
    return seconds


def parse_and_validate(data: bytes, today: date) -> int:
    table = read_table(data, EMPLOYEE_REQUIRED, EMPLOYEE_OPTIONAL)
    ok = 0
    for _, v in table.rows:
        domain.check_personnel(nip=v["nip"], name=v["name"], employee_kind=v["employee_kind"], status=v["status"],
                               golongan=v["golongan"], bank_account=v["bank_account"], npwp=v["npwp"], today=today)
        ok += 1
    return ok


def bare_insert(keys: TestKeys, rows: list[list[str]]) -> float:
    employees, placements = [], []
    now = datetime.now(timezone.utc)
    for r in rows:
        eid = str(uuid.uuid4())
        employees.append({"id": eid, "nip": r[0], "name": r[1], "employee_kind": r[2], "status": r[3], "golongan": r[4],
                          "bank_account": r[5], "npwp": None, "active": True, "version": 1, "created_at": now,
                          "updated_at": now})
        placements.append({"id": str(uuid.uuid4()), "employee_id": eid, "position_id": r[7], "start_date": date(2026, 1, 1),
                           "end_date": None, "kind": r[8], "version": 1, "created_at": now})
    with Db(keys) as db:
        emp, pl = Employee.__table__, Placement.__table__

        def insert_all():
            with db.rt.engine.begin() as conn:
                conn.execute(insert(emp), employees)
                conn.execute(insert(pl), placements)

        seconds, _ = timed(insert_all)
        assert db.count(Employee) == len(rows)
    return seconds


def median(fn, reps: int) -> tuple[float, list[float]]:
    times = [fn() for _ in range(reps)]
    return statistics.median(times), times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "employee_import.json"))
    args = ap.parse_args()
    keys = TestKeys()
    load_before = os.getloadavg()
    today = clock.today()
    rows = employee_rows(args.rows)
    data = to_csv(rows)
    bad, expected = with_errors(rows)
    print(f"CSV: {args.rows:,} employees with placements, {len(data) / 1e6:.2f} MB; "
          f"error file: {len(expected)} errors on {len({line for line, _ in expected})} lines")

    import_median, import_times = median(lambda: run_import(keys, data, args.rows), args.reps)
    print(f"import (POST /employees/import, fresh DB)  median {import_median:.3f} s  runs {[round(t, 3) for t in import_times]}")
    reject_median, reject_times = median(lambda: run_rejected(keys, bad, expected), args.reps)
    print(f"rejected file (422, every error listed)     median {reject_median:.3f} s  runs {[round(t, 3) for t in reject_times]}")
    parse_median, parse_times = median(lambda: timed(lambda: parse_and_validate(data, today))[0], args.reps)
    print(f"baseline: parse + validate in memory        median {parse_median:.3f} s  runs {[round(t, 3) for t in parse_times]}")
    insert_median, insert_times = median(lambda: bare_insert(keys, rows), args.reps)
    print(f"baseline: bare INSERT of the same rows      median {insert_median:.3f} s  runs {[round(t, 3) for t in insert_times]}")
    floor = parse_median + insert_median
    print(f"import / (parse+validate + bare INSERT) = {import_median / floor:.2f}; "
          f"{args.rows / import_median:,.0f} employees per second")

    result = {
        "benchmark": "employee_import",
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    # The machine may be shared: its load tells how far apart two runs can be compared.
                    "load_average_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)]},
        "rows": args.rows, "positions": POSITIONS, "reps": args.reps, "csv_bytes": len(data),
        "import_median_s": round(import_median, 3), "import_runs_s": [round(t, 3) for t in import_times],
        "rejected_file_errors": len(expected), "rejected_file_lines": len({line for line, _ in expected}),
        "rejected_median_s": round(reject_median, 3), "rejected_runs_s": [round(t, 3) for t in reject_times],
        "baseline_parse_validate_median_s": round(parse_median, 3),
        "baseline_parse_validate_runs_s": [round(t, 3) for t in parse_times],
        "baseline_bare_insert_median_s": round(insert_median, 3),
        "baseline_bare_insert_writes": f"{args.rows} employees, {args.rows} placements (no events, no audit)",
        "baseline_bare_insert_runs_s": [round(t, 3) for t in insert_times],
        "ratio_import_to_parse_plus_insert": round(import_median / floor, 2),
        "employees_per_second": round(args.rows / import_median),
        "what_the_import_writes": f"{args.rows} employees, {args.rows} placements, {2 * args.rows} outbox events, "
                                  f"{2 * args.rows + 1} audit records, one transaction",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
