"""Operator commands (``python -m activity <command>``), for work that belongs to a scheduler or a
shell rather than to a browser request: a month's device file is larger than a web request should
be allowed to run, and closing yesterday is a job for cron. Both call the same service functions
as the HTTP endpoints, so the rules, the audit and the events are the same."""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import date, timedelta

from ekinerja_common.errors import DomainError
from ekinerja_common import clock

from . import attendance, attendance_services as att
from .runtime import build_runtime


def _fail(exc: DomainError) -> None:
    print(json.dumps(exc.as_json(), ensure_ascii=False, indent=2), file=sys.stderr)
    raise SystemExit(1)


def import_attendance(argv: list[str]) -> None:
    """import-attendance FILE [--partial] [--actor NAME]: import a device CSV file."""
    parser = argparse.ArgumentParser(prog="python -m activity import-attendance", description=import_attendance.__doc__)
    parser.add_argument("file")
    parser.add_argument("--partial", action="store_true", help="import the good rows, report the bad ones")
    parser.add_argument("--actor", default="cli", help="who is importing (recorded in the audit)")
    ns = parser.parse_args(argv)
    with open(ns.file, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SystemExit(f"{ns.file}: not UTF-8 text")
    raw_rows, parse_errors = attendance.parse_csv(text)
    rt = build_runtime()
    try:
        with rt.uow() as uow:
            report = att.import_rows(uow, raw_rows, parse_errors, source="file", filename=ns.file,
                                     digest=hashlib.sha256(data).hexdigest(), actor=ns.actor, partial=ns.partial,
                                     today=clock.today())
            uow.commit()
    except DomainError as exc:
        _fail(exc)
    print(json.dumps({"import_id": report.import_id, "rows": report.rows, "changed": report.changed,
                      "unchanged": report.unchanged, "rejected": report.rejected, "events": report.events,
                      "locked_month_days": report.locked_month_days, "errors": {k: t.as_json() for k, t in report.errors.items()}}, ensure_ascii=False, indent=2))


def close_day(argv: list[str]) -> None:
    """close-day [YYYY-MM-DD] [--actor NAME]: mark TK who has no record that day (default: yesterday)."""
    parser = argparse.ArgumentParser(prog="python -m activity close-day", description=close_day.__doc__)
    parser.add_argument("date", nargs="?", type=date.fromisoformat)
    parser.add_argument("--actor", default="cli")
    ns = parser.parse_args(argv)
    today = clock.today()
    day = ns.date or today - timedelta(days=1)
    rt = build_runtime()
    try:
        with rt.uow() as uow:
            changed = att.close_day(uow, day, ns.actor, today)
            uow.commit()
    except DomainError as exc:
        _fail(exc)
    print(json.dumps({"date": day.isoformat(), "changed": changed}))


COMMANDS = {"import-attendance": import_attendance, "close-day": close_day}
