import contextlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, select, text

from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope
from ekinerja_common.events import CATALOGUE
from ekinerja_common.outbox import OUTBOX
from ekinerja_common.testing import PG_ADMIN_URL, TestKeys, fresh_database, queue_prefix

from ekinerja_common import clock
from activity.app import create_app
from activity.inbox import HANDLERS
from activity.runtime import build_runtime


@pytest.fixture(scope="session")
def keys():
    return TestKeys()


@pytest.fixture(scope="session")
def migrated_template():
    """One database migrated through every revision; each test gets a copy of it (CREATE
    DATABASE ... TEMPLATE), which is what a fresh migrate would give, in a fraction of the time."""
    with fresh_database("activity_tmpl") as url:
        rt = build_runtime(Settings(service="activity", database_url=url))
        rt.migrate()
        rt.engine.dispose()
        yield url.rsplit("/", 1)[1]


@contextlib.contextmanager
def database_from(template: str):
    name = f"t_activity_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def evidence_dir(tmp_path):
    return tmp_path / "evidence"


@pytest.fixture
def app(keys, migrated_template, evidence_dir):
    with database_from(migrated_template) as url:
        settings = Settings(service="activity", database_url=url, queue_prefix=queue_prefix(),
                            extra={"ACTIVITY_EVIDENCE_DIR": str(evidence_dir)})
        app = create_app(settings, keys.verifier)
        rt = app.extensions["runtime"]
        yield app
        rt.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runtime(app):
    return app.extensions["runtime"]


@pytest.fixture
def consumer(runtime):
    """The real consumer's transactional, idempotent apply, without a broker in between."""
    return Consumer(runtime.settings, runtime.session_factory, runtime.metadata, HANDLERS)


@pytest.fixture
def outbox(runtime):
    """The events written so far, as their JSON envelopes, oldest first."""
    table = runtime.metadata.tables[OUTBOX]

    def read() -> list[dict]:
        with runtime.engine.connect() as conn:
            return [json.loads(b) for b in conn.execute(select(table.c.body).order_by(table.c.seq)).scalars()]

    return read


class Feed:
    """Builds envelopes the way the producing services do and applies them through Consumer.apply."""

    def __init__(self, consumer: Consumer):
        self.consumer = consumer

    def envelope(self, event_type: str, data: dict) -> Envelope:
        return Envelope(type=event_type, source=CATALOGUE[event_type].producer, data=data)

    def __call__(self, event_type: str, data: dict) -> Envelope:
        env = self.envelope(event_type, data)
        assert self.consumer.apply(env) == "handled"
        return env

    def placement(self, employee_id, position_id, start, end=None, kind="definitive", version=1, placement_id=None):
        return self("employee.placed", {
            "placement_id": placement_id or str(uuid.uuid4()), "employee_id": employee_id, "position_id": position_id,
            "start_date": start.isoformat(), "end_date": end.isoformat() if end else None, "kind": kind,
            "version": version})

    def duty(self, position_id, norma_waktu=30, description="Menyusun laporan", output_unit="laporan", version=1,
             duty_id=None):
        return self("duty.published", {
            "duty_id": duty_id or str(uuid.uuid4()), "position_id": position_id, "description": description,
            "output_unit": output_unit, "norma_waktu": norma_waktu, "version": version})

    def retire(self, duty_id, position_id, version=2):
        return self("duty.retired", {"duty_id": duty_id, "position_id": position_id, "version": version})

    def employee(self, employee_id=None, nip=None, name="Pegawai", active=True, version=1, registered=True):
        employee_id = employee_id or str(uuid.uuid4())
        return self("employee.registered" if registered else "employee.updated", {
            "employee_id": employee_id, "nip": nip or nip_for(employee_id), "name": name, "employee_kind": "PNS",
            "status": "PNS", "golongan": "III/a", "active": active, "version": version})

    def position(self, position_id=None, parent_id=None, name="Jabatan", version=1, created=True, unit_id="u-1"):
        position_id = position_id or str(uuid.uuid4())
        return self("position.created" if created else "position.updated", {
            "position_id": position_id, "code": position_id[:8], "name": name, "kind": "pelaksana",
            "kelas_jabatan": 7, "parent_id": parent_id, "unit_id": unit_id, "factor": "1", "version": version})

    def unit(self, unit_id=None, parent_id=None, name="Unit", kind="opd", version=1, active=True):
        unit_id = unit_id or str(uuid.uuid4())
        return self("unit.created" if version == 1 else "unit.updated", {
            "unit_id": unit_id, "code": unit_id[:8], "name": name, "kind": kind, "parent_id": parent_id,
            "version": version, "active": active})

    def lock(self, year, month):
        return self("tpp.period_locked", {"year": year, "month": month, "locked_at": "2026-12-05T03:00:00Z",
                                          "locked_by": "bpkad-1"})

    def decision(self, event_type, entry, version, reason=None, decided_by="atasan-1",
                 submission_version=None) -> Envelope:
        """A decision envelope (not applied: tests apply it, sometimes twice). Approval numbers
        its decision one above the submission it judged, unless told otherwise."""
        data = {"entry_id": entry["id"], "employee_id": entry["employee_id"], "date": entry["date"],
                "credited_minutes": entry["credited_minutes"], "decided_by": decided_by,
                "decided_at": "2026-11-28T02:00:00+00:00", "version": version,
                "submission_version": version - 1 if submission_version is None else submission_version}
        if reason is not None:
            data["reason"] = reason
        return self.envelope(event_type, data)


@pytest.fixture
def feed(consumer):
    return Feed(consumer)


_NIPS: dict[str, str] = {}


def nip_for(employee_id: str) -> str:
    """A valid-looking, unique 18-digit NIP per test employee."""
    if employee_id not in _NIPS:
        _NIPS[employee_id] = f"19860926201505{1 + len(_NIPS) % 2}{len(_NIPS) + 1:03d}"[:18]
    return _NIPS[employee_id]


@dataclass
class World:
    employee_id: str
    position_id: str
    other_position_id: str
    duty_id: str
    other_duty_id: str
    retired_duty_id: str
    today: date


@pytest.fixture
def world(feed) -> World:
    """One employee holding one post since two months ago, its duties, and another post's duty."""
    today = clock.today()
    emp, pos, other = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    feed.placement(emp, pos, today - timedelta(days=60))
    duty = feed.duty(pos, norma_waktu=30).data["duty_id"]
    other_duty = feed.duty(other, norma_waktu=60, description="Tugas jabatan lain").data["duty_id"]
    retired = feed.duty(pos, description="Tugas lama").data["duty_id"]
    feed.retire(retired, pos)
    return World(emp, pos, other, duty, other_duty, retired, today)


def summaries_match_the_tables(runtime) -> None:
    """The per-month summary, kept by increments, equals a from-scratch aggregate of entries and
    attendance days: the invariant every change must keep."""
    from collections import defaultdict
    from decimal import Decimal

    from activity import attendance, domain
    from activity.orm import AttendanceDay, Entry, MonthSummary
    from activity.summary import COLUMNS, ENTRY_COLUMNS

    expected: dict = defaultdict(lambda: defaultdict(int))
    with runtime.session_factory() as s:
        for e in s.scalars(select(Entry)):
            bucket = domain.MONTH_BUCKETS.get(e.status)
            if bucket:
                expected[(e.employee_id, e.date.year, e.date.month)][ENTRY_COLUMNS[bucket]] += e.credited_minutes
        for d in s.scalars(select(AttendanceDay)):
            row = expected[(d.employee_id, d.date.year, d.date.month)]
            codes = set(d.codes.split(",")) if d.codes else set()
            row["attendance_days"] += 1
            row["deduction_pct"] += Decimal(d.deduction_pct)
            row["late_days"] += bool(codes & set(attendance.LATE))
            row["early_days"] += bool(codes & set(attendance.EARLY))
            row["absent_days"] += attendance.ABSENT in codes
            row["excused_days"] += bool(codes - set(attendance.DISCIPLINE_CODES))
        stored = {(m.employee_id, m.year, m.month): {c: getattr(m, c) for c in COLUMNS} for m in s.scalars(select(MonthSummary))}
    for key in set(expected) | set(stored):
        want = {c: expected.get(key, {}).get(c, 0) for c in COLUMNS}
        got = stored.get(key, {c: 0 for c in COLUMNS})
        assert {c: Decimal(v) for c, v in got.items()} == {c: Decimal(v) for c, v in want.items()}, key


@pytest.fixture
def consistent(runtime):
    """Call it at the end of a test: the month summaries equal the aggregate of the tables."""
    return lambda: summaries_match_the_tables(runtime)


@pytest.fixture
def month(client, keys):
    """GET /me/month of an employee (this month unless given)."""
    def get(employee_id, when=None):
        url = "/me/month" + (f"?month={when}" if when else "")
        r = client.get(url, headers=keys.headers(employee_id, "pegawai"))
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    return get
