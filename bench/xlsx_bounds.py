"""Benchmark: an XLSX that runs to a million rows (issue 9 item 14) beside a normal small file.

    .venv/bin/python bench/xlsx_bounds.py [--reps 5]

Three files through ``ekinerja_common.tabular.read_table`` (what every XLSX import of identity and
organization parses with), in-process, no database:

- baseline: a normal small file, a header and 200 employee rows (~10 KB);
- a ~6 KB sheet whose single cell at row 1,048,576 makes openpyxl produce a million empty rows:
  it must be refused (422 import_invalid, "baris kosong") after MAX_LINES_SCANNED lines;
- a ~6 KB sheet whose <dimension> alone claims A1:B1048576: only its real rows are read.

Before the bound, the first one tied a worker for 16-30 s. It prints the medians and writes them
to bench/results/xlsx_bounds.json. Timings are figures to compare, never test assertions.
"""
from __future__ import annotations

import argparse
import io
import json
import platform
import re
import statistics
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "libs"))

from openpyxl import Workbook  # noqa: E402

from ekinerja_common.tabular import MAX_LINES_SCANNED, ImportRejected, read_table  # noqa: E402


def xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def runaway(claim_only: bool, last_row: int = 1_048_576) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(xlsx([["nip", "name"], ["198609262015051001", "Budi"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = re.sub(r'<dimension ref="[^"]*" ?/>', f'<dimension ref="A1:B{last_row}"/>', data.decode())
                if not claim_only:
                    text = text.replace("</sheetData>", f'<row r="{last_row}"><c r="A{last_row}" t="inlineStr">'
                                                        f'<is><t>x</t></is></c></row></sheetData>')
                data = text.encode()
            dst.writestr(item, data)
    return out.getvalue()


def timed(data: bytes) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        table = read_table(data, ("nip", "name"), ())
        outcome = f"read {len(table.rows)} rows"
    except ImportRejected as exc:
        outcome = f"{exc.status} {exc.code}: {exc.text.en}"
    return time.perf_counter() - start, outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    files = {
        "baseline_200_rows": xlsx([["nip", "name"]] + [[f"1986092620150510{i:02d}"[:18], f"Pegawai {i}"] for i in range(200)]),
        "cell_at_row_1048576": runaway(claim_only=False),
        "dimension_claims_1048576": runaway(claim_only=True),
    }
    results = {}
    for name, data in files.items():
        times, outcome = [], ""
        for _ in range(args.reps):
            seconds, outcome = timed(data)
            times.append(seconds)
        results[name] = {"bytes": len(data), "median_s": round(statistics.median(times), 4), "outcome": outcome}
        print(f"{name:28s} {len(data):7d} B  median {statistics.median(times) * 1000:8.1f} ms  {outcome}")
    base = results["baseline_200_rows"]["median_s"]
    print(f"runaway file / baseline: {results['cell_at_row_1048576']['median_s'] / base:.1f}x "
          f"(bound: {MAX_LINES_SCANNED:,} lines scanned)")
    out = ROOT / "bench" / "results" / "xlsx_bounds.json"
    out.write_text(json.dumps({"reps": args.reps, "machine": platform.node(), "max_lines_scanned": MAX_LINES_SCANNED,
                               "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
