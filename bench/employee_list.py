"""Benchmark: BKD's paged employee list (GET /employees) over 10,000 employees.

    .venv/bin/python bench/employee_list.py [--rows 10000] [--reps 30]

One fresh PostgreSQL database (EKINERJA_TEST_PG names the server, as for the tests), migrated to
identity's schema, with ``--rows`` employees (valid NIPs) each placed today in one of 50 positions
of 10 units (fed through identity's position event handler). Requests go through the Flask app
in-process with an admin_bkd token, so each timing is the whole request: token check, argument
parsing, the count, the page query, the posts of the page's people, JSON.

What is timed (each a median of ``--reps``):

- the first page (``limit=50``);
- every page of a walk through the whole list by ``next_cursor`` (median and slowest page: a
  keyset page deep in the list costs what the first costs);
- page 150 by number (``page=150``, an offset: the database reads the rows before it);
- a name search (``q=``) and a unit filter (``unit_id=``), first page each.

Baseline, same run, same database: the bare list query — ``SELECT * FROM employees ORDER BY name,
id LIMIT 50`` through the same engine, no HTTP, no count, no posts. The ratio endpoint / bare query
says what the paging, count, posts and JSON cost on top of reading the rows at all.

Prints the medians and writes bench/results/employee_list.json. Figures to compare between commits
on one machine, never test assertions.
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
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "identity"))
sys.path.insert(0, str(ROOT / "libs"))

from sqlalchemy import insert, text  # noqa: E402

from ekinerja_common.config import Settings  # noqa: E402
from ekinerja_common.envelope import Envelope  # noqa: E402
from ekinerja_common.events import parse  # noqa: E402
from ekinerja_common.uow import UnitOfWork  # noqa: E402
from ekinerja_common.testing import TestKeys, fresh_database, queue_prefix  # noqa: E402
from identity.app import create_app  # noqa: E402
from identity.inbox import on_position  # noqa: E402
from identity.orm import Employee, Placement  # noqa: E402

POSITIONS, UNITS = 50, 10
GIVEN = ("Agus", "Budi", "Citra", "Dewi", "Eko", "Fitri", "Gilang", "Hana", "Indra", "Joko", "Kartika", "Lestari")
FAMILY = ("Santoso", "Wulandari", "Pratama", "Saputra", "Rahmawati", "Hidayat", "Nugroho", "Kusuma", "Siregar")


def nip(i: int) -> str:
    born = date(1965, 1, 1) + timedelta(days=i)
    return f"{born:%Y%m%d}{born.year + 23}{1 + i % 12:02d}{1 + i % 2}{1 + i % 999:03d}"


def fill(rt, rows: int) -> list[str]:
    units = [str(uuid.uuid4()) for _ in range(UNITS)]
    positions = [str(uuid.uuid4()) for _ in range(POSITIONS)]
    with rt.session_factory() as s, s.begin():
        for i, pid in enumerate(positions):
            on_position(UnitOfWork.joining(s, None, "identity"), parse(Envelope(type="position.created", source="organization", data={
                "position_id": pid, "code": f"BENCH-{i:02d}", "name": f"Jabatan {i}", "kind": "pelaksana",
                "kelas_jabatan": 7, "parent_id": None, "unit_id": units[i % UNITS], "factor": "1", "version": 1})))
    now = datetime.now(timezone.utc)
    employees, placements = [], []
    for i in range(rows):
        eid = str(uuid.uuid4())
        employees.append({"id": eid, "nip": nip(i), "name": f"{GIVEN[i % 12]} {FAMILY[i % 9]} {i:05d}",
                          "employee_kind": "PNS", "status": "CPNS" if i % 20 == 0 else "PNS", "golongan": "III/a",
                          "bank_account": None, "npwp": None, "active": True, "version": 1, "created_at": now,
                          "updated_at": now})
        placements.append({"id": str(uuid.uuid4()), "employee_id": eid, "position_id": positions[i % POSITIONS],
                           "start_date": date(2026, 1, 1), "end_date": None, "kind": "definitive", "version": 1,
                           "created_at": now})
    with rt.engine.begin() as conn:
        conn.execute(insert(Employee.__table__), employees)
        conn.execute(insert(Placement.__table__), placements)
        conn.execute(text("ANALYZE"))
    return units


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def median_of(fn, reps: int) -> tuple[float, list[float]]:
    times = [timed(fn)[0] for _ in range(reps)]
    return statistics.median(times), times


def ms(x: float) -> float:
    return round(x * 1000, 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "employee_list.json"))
    args = ap.parse_args()
    keys = TestKeys()
    load_before = os.getloadavg()
    with fresh_database("bench_list") as url:
        app = create_app(Settings(service="identity", database_url=url, queue_prefix=queue_prefix()), keys.verifier)
        rt = app.extensions["runtime"]
        rt.migrate()
        units = fill(rt, args.rows)
        client = app.test_client()
        headers = keys.headers(None, "admin_bkd")

        def get(query: str) -> dict:
            r = client.get(f"/employees?{query}", headers=headers)
            assert r.status_code == 200, r.get_json()
            return r.get_json()

        first = get("limit=50")
        assert first["total"] == args.rows and len(first["items"]) == 50
        for _ in range(5):  # warm the pool, the caches and the planner
            get("limit=50")

        first_median, first_runs = median_of(lambda: get("limit=50"), args.reps)

        # A whole walk by cursor, each page timed: the deep pages cost what the first costs.
        walk_times, cursor, seen = [], None, 0
        while True:
            seconds, body = timed(lambda: get("limit=50" + (f"&cursor={cursor}" if cursor else "")))
            walk_times.append(seconds)
            seen += len(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == args.rows, seen
        deep_page = min(150, max(1, args.rows // 50))
        offset_median, _ = median_of(lambda: get(f"limit=50&page={deep_page}"), args.reps)
        search = get("limit=50&q=dewi%20saputra")
        assert search["total"] > 0, search
        search_median, _ = median_of(lambda: get("limit=50&q=dewi%20saputra"), args.reps)
        unit_median, _ = median_of(lambda: get(f"limit=50&unit_id={units[3]}"), args.reps)

        def bare() -> list:
            with rt.engine.connect() as conn:
                return conn.execute(text("SELECT * FROM employees ORDER BY name, id LIMIT 50")).all()

        for _ in range(5):
            bare()
        bare_median, bare_runs = median_of(bare, args.reps)
        rt.engine.dispose()

    walk_median = statistics.median(walk_times)
    print(f"{args.rows:,} employees, pages of 50")
    print(f"first page                      median {ms(first_median):7.2f} ms")
    print(f"walk by cursor ({len(walk_times)} pages)      median {ms(walk_median):7.2f} ms   slowest {ms(max(walk_times)):.2f} ms")
    print(f"page {deep_page} by number (offset)     median {ms(offset_median):7.2f} ms")
    print(f"name search, first page         median {ms(search_median):7.2f} ms   ({search['total']} found)")
    print(f"unit filter, first page         median {ms(unit_median):7.2f} ms")
    print(f"baseline: bare list query       median {ms(bare_median):7.2f} ms")
    print(f"ratio first page / bare query = {first_median / bare_median:.1f}; "
          f"cursor page / bare query = {walk_median / bare_median:.1f}")

    result = {
        "benchmark": "employee_list",
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)]},
        "rows": args.rows, "page_size": 50, "reps": args.reps,
        "first_page_median_ms": ms(first_median), "first_page_runs_ms": [ms(t) for t in first_runs],
        "cursor_walk_pages": len(walk_times), "cursor_walk_median_ms": ms(walk_median),
        "cursor_walk_slowest_ms": ms(max(walk_times)),
        f"page_{deep_page}_by_number_median_ms": ms(offset_median),
        "name_search_median_ms": ms(search_median), "name_search_found": search["total"],
        "unit_filter_median_ms": ms(unit_median),
        "baseline_bare_list_query_median_ms": ms(bare_median), "baseline_runs_ms": [ms(t) for t in bare_runs],
        "baseline_is": "SELECT * FROM employees ORDER BY name, id LIMIT 50 (same engine, no HTTP, no count, no posts)",
        "ratio_first_page_to_bare_query": round(first_median / bare_median, 1),
        "ratio_cursor_page_to_bare_query": round(walk_median / bare_median, 1),
        "what_a_page_does": "token check, argument parsing, count of the filtered set, keyset page query, "
                            "posts today of the page's 50 people (one query), JSON",
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
