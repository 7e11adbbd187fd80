"""Month-end load for a seeded stack: a head of bidang with 50 people under them and about 3,000
entries waiting for validation — the queue the browser tests and bench/browser_queue.py drive.

The people are made the way BKD makes them (an organisasi position and an admin_bkd import of
employees with their placement, through the gateway), so every service learns of them by events.
The entries are written straight into activity's and approval's databases, as if activity had
announced each one and approval had received it (same ids, versions and figures in both), because
3,000 clicks (or 3,000 events through the broker) would make a test of the queue a test of the
seeding. Nothing else is touched: decisions on them travel as events like any other.

    python -m deploy.local.month_end [--run-dir var] [--per-day 3] [--days 22]
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta, timezone

from sqlalchemy import create_engine, func, insert, select

from .seed import EMPLOYEES, PLACED_FROM, Api, SeedError, read_logins, LOGINS_FILE

POSITION_CODE = "KOMINFO-IKP-PELAKSANA-DEMO"
PARENT_CODE = "KOMINFO-KABID-IKP"  # Agus Prasetyo's post: the supervisor of the month-end queue
DUTY = ("Mengolah dan mengunggah bahan informasi publik", "Bahan", 30)
SLOTS = [(dtime(8, 0), dtime(9, 30)), (dtime(10, 0), dtime(11, 30)), (dtime(13, 0), dtime(14, 30))]
WIB = timezone(timedelta(hours=7))


@dataclass(frozen=True)
class MonthEnd:
    supervisor_nip: str
    employee_ids: list[str]
    entry_ids: list[str]
    dates: list[date]


def nip_of(n: int) -> str:
    """Valid, distinct NIPs: born 1 Jan 1990, appointed Jan 2015, male, sequence n."""
    return f"19900101201501{1}{n:03d}"


def weekdays_before(last: date, count: int) -> list[date]:
    days, d = [], last
    while len(days) < count:
        if d.weekday() < 5:
            days.append(d)
        d -= timedelta(days=1)
    return sorted(days)


def _people(api: Api, admin_token: str, org_token: str, count: int, wait: float) -> tuple[list[str], str]:
    _, listed = api.call("GET", "/api/organization/positions", org_token)
    positions = {p["code"]: p for p in listed["positions"]}
    if POSITION_CODE not in positions:
        parent = positions[PARENT_CODE]
        _, made = api.call("POST", "/api/organization/positions", org_token, {
            "code": POSITION_CODE, "name": "Pengelola Informasi Publik (tim demo)", "kind": "pelaksana",
            "kelas_jabatan": 6, "unit_id": parent["unit_id"], "parent_id": parent["id"]})
        positions[POSITION_CODE] = made
    position_id = positions[POSITION_CODE]["id"]
    _, duties = api.call("GET", f"/api/organization/positions/{position_id}/duties", org_token)
    duty = next((d for d in duties["duties"] if d["description"] == DUTY[0]), None)
    if duty is None:
        _, duty = api.call("POST", f"/api/organization/positions/{position_id}/duties", org_token,
                           {"description": DUTY[0], "output_unit": DUTY[1], "norma_waktu": DUTY[2]})
    known = _by_nip(api, admin_token)
    rows = [(nip_of(n), f"Pegawai Demo {n:02d}") for n in range(1, count + 1)]
    missing = [(nip, name) for nip, name in rows if nip not in known]
    if missing:
        csv = "nip,name,employee_kind,status,golongan,position_code,placement_kind,start_date\n" + "".join(
            f"{nip},{name},PNS,PNS,II/c,{POSITION_CODE},definitive,{PLACED_FROM}\n" for nip, name in missing)
        deadline = time.monotonic() + wait
        while True:
            # identity knows the position once organization's position.created has arrived.
            resp = api.http.post(api.base + "/api/identity/employees/import", data=csv.encode(),
                                 headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "text/csv"}, timeout=60)
            if resp.status_code == 201:
                break
            if time.monotonic() > deadline:
                raise SeedError(f"employee import failed: {resp.status_code} {resp.text[:500]}")
            time.sleep(0.5)
        known = _by_nip(api, admin_token)
    return [known[nip] for nip, _ in rows], duty["id"]


def _by_nip(api: Api, admin_token: str) -> dict[str, str]:
    """NIP → employee id of the demo people (identity's list is paged; they share a NIP prefix)."""
    known: dict[str, str] = {}
    cursor = None
    while True:
        path = f"/api/identity/employees?nip={nip_of(0)[:14]}&limit=500" + (f"&cursor={cursor}" if cursor else "")
        _, page = api.call("GET", path, admin_token)
        known.update({e["nip"]: e["id"] for e in page["items"]})
        cursor = page.get("next_cursor")
        if not cursor:
            return known


def _wait_for_read_models(urls: dict[str, str], employee_ids: list[str], wait: float) -> None:
    """Approval must know the placements (it resolves the supervisor from them) and activity the
    employees, before entries of theirs mean anything."""
    from approval.orm import Placement as ApprovalPlacement

    engine = create_engine(urls["approval"])
    deadline = time.monotonic() + wait
    try:
        while True:
            with engine.connect() as conn:
                n = conn.scalar(select(func.count()).select_from(ApprovalPlacement.__table__)
                                .where(ApprovalPlacement.employee_id.in_(employee_ids)))
            if n >= len(employee_ids):
                return
            if time.monotonic() > deadline:
                raise SeedError(f"approval knows {n} of {len(employee_ids)} placements after {wait:.0f} s")
            time.sleep(0.5)
    finally:
        engine.dispose()


def load(base_url: str, database_urls: dict[str, str], admin: tuple[str, str], organisasi: tuple[str, str], *,
         people: int = 47, days: int = 22, per_day: int = 3, last_day: date | None = None,
         wait: float = 60.0) -> MonthEnd:
    """Add ``people`` employees under the Kabid IKP (who already supervises three) with ``days`` ×
    ``per_day`` pending entries each, on the weekdays up to ``last_day`` (default: eight days
    ago, clear of what a test enters in the submission window)."""
    from activity.orm import Entry, MonthSummary
    from sqlalchemy.orm import Session

    from approval import queue_model
    from approval.orm import ValidationItem

    api = Api(base_url)
    admin_token = api.login(*admin)
    org_token = api.login(*organisasi)
    if not admin_token or not org_token:
        raise SeedError("cannot log in as admin / organisasi")
    employee_ids, duty_id = _people(api, admin_token, org_token, people, wait)
    _wait_for_read_models(database_urls, employee_ids, wait)
    today = datetime.now(WIB).date()
    dates = weekdays_before(last_day or today - timedelta(days=8), days)
    now = datetime.now(timezone.utc)
    entries, items, entry_ids = [], [], []
    pending: dict[tuple[str, int, int], int] = defaultdict(int)
    description, unit, norma = DUTY
    for employee_id in employee_ids:
        for day in dates:
            for start, end in SLOTS[:per_day]:
                entry_id = str(uuid.uuid4())
                entry_ids.append(entry_id)
                volume = 3
                credited = min(volume * norma, (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute))
                text = f"Bahan informasi publik {day.strftime('%d/%m')} sesi {start.strftime('%H.%M')}"
                entries.append({"id": entry_id, "employee_id": employee_id, "date": day, "start_time": start, "end_time": end,
                                "duty_id": duty_id, "duty_description": description, "output_unit": unit, "norma_waktu": norma,
                                "volume": volume, "description": text, "credited_minutes": credited, "status": "submitted",
                                "reason": None, "decision_version": 0, "decided_by": None, "decided_at": None, "version": 1,
                                "submitted_version": 1, "appeal_id": None, "appeal_version": 0, "created_at": now,
                                "updated_at": now})
                items.append({"entry_id": entry_id, "employee_id": employee_id, "date": day, "start_time": start,
                              "end_time": end, "duty_id": duty_id, "duty_description": description, "volume": volume,
                              "output_unit": unit, "credited_minutes": credited, "description": text, "status": "pending",
                              "version": 1, "submitted_at": now, "updated_at": now})
                pending[(employee_id, day.year, day.month)] += credited
    summaries = [{"employee_id": e, "year": y, "month": m, "draft_minutes": 0, "pending_minutes": minutes,
                  "approved_minutes": 0, "returned_minutes": 0, "rejected_minutes": 0, "attendance_days": 0,
                  "deduction_pct": 0, "late_days": 0, "early_days": 0, "absent_days": 0, "excused_days": 0}
                 for (e, y, m), minutes in pending.items()]
    activity = create_engine(database_urls["activity"])
    approval = create_engine(database_urls["approval"])
    try:
        with activity.begin() as conn:
            conn.execute(insert(Entry.__table__), entries)
            conn.execute(insert(MonthSummary.__table__), summaries)
        with approval.begin() as conn:
            conn.execute(insert(ValidationItem.__table__), items)
        with Session(approval) as session, session.begin():
            queue_model.derive_all(session)  # the queue's read model, as the consumer keeps it
    finally:
        activity.dispose()
        approval.dispose()
    supervisor = next(nip for nip, *_rest, code in EMPLOYEES if code == PARENT_CODE)
    return MonthEnd(supervisor, employee_ids, entry_ids, dates)


def main(argv: list[str] | None = None) -> int:
    from .stack import ROOT, Stack

    parser = argparse.ArgumentParser(prog="python -m deploy.local.month_end", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", default=str(ROOT / "var"), help="run directory of the running, seeded local stack")
    parser.add_argument("--url", help="gateway address (default http://127.0.0.1:8080/)")
    parser.add_argument("--people", type=int, default=47)
    parser.add_argument("--days", type=int, default=22)
    parser.add_argument("--per-day", type=int, default=3)
    args = parser.parse_args(argv)
    stack = Stack(args.run_dir)
    logins = {x.username: x.password for x in read_logins(stack.run_dir / LOGINS_FILE)}
    try:
        result = load(args.url or stack.url(), stack.database_urls, ("admin", logins["admin"]),
                      ("organisasi", logins["organisasi"]), people=args.people, days=args.days, per_day=args.per_day)
    except (SeedError, KeyError) as exc:
        print(f"month-end load failed: {exc}", file=sys.stderr)
        return 1
    print(f"{len(result.entry_ids)} entries of {len(result.employee_ids)} people waiting for NIP {result.supervisor_nip}, "
          f"{result.dates[0]} to {result.dates[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
