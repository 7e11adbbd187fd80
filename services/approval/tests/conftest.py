import uuid
from collections import defaultdict

import pytest

from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope
from ekinerja_common.events import check_event
from ekinerja_common.testing import TestKeys, fresh_database, queue_prefix

from approval.app import create_app
from approval.inbox import HANDLERS


@pytest.fixture(scope="session")
def keys():
    return TestKeys()


@pytest.fixture
def app(keys):
    with fresh_database("approval") as url:
        app = create_app(Settings(service="approval", database_url=url, queue_prefix=queue_prefix()), keys.verifier)
        rt = app.extensions["runtime"]
        rt.migrate()
        yield app
        rt.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runtime(app):
    return app.extensions["runtime"]


class Feed:
    """Events shaped exactly like their producers' (checked against the catalogue), applied
    through the consumer's idempotent path, as the consumer process would. Readable keys
    ("kabid", "P:KABID", "E:1") stand for the uuids the other services would send."""

    def __init__(self, consumer: Consumer):
        self.consumer = consumer
        self.ids: dict[str, str] = defaultdict(lambda: str(uuid.uuid4()))

    def id(self, key: str) -> str:
        return self.ids[key]

    def apply(self, env: Envelope) -> str:
        return self.consumer.apply(env)

    def envelope(self, event_type: str, source: str, data: dict) -> Envelope:
        check_event(event_type, source, data)
        return Envelope(type=event_type, source=source, data=data, correlation_id=uuid.uuid4().hex)

    def send(self, event_type: str, source: str, data: dict) -> Envelope:
        env = self.envelope(event_type, source, data)
        assert self.apply(env) == "handled"
        return env

    def employee(self, key: str, name: str, nip: str = "198609262015051001", version: int = 1,
                 event: str = "employee.registered") -> Envelope:
        return self.send(event, "identity", {
            "employee_id": self.id(key), "nip": nip, "name": name, "employee_kind": "PNS", "status": "PNS",
            "golongan": "III/a", "active": True, "version": version})

    def position(self, code: str, parent: str | None = None, version: int = 1, event: str = "position.created") -> Envelope:
        return self.send(event, "organization", {
            "position_id": self.id(f"P:{code}"), "code": code, "name": f"Jabatan {code}", "kind": "pengawas",
            "eselon": None, "kelas_jabatan": 9, "parent_id": self.id(f"P:{parent}") if parent else None,
            "unit_id": self.id("U:DINAS"), "factor": "1.0000", "version": version})

    def place(self, key: str, code: str, start: str = "2026-01-01", end: str | None = None, kind: str = "definitive",
              version: int = 1, placement: str | None = None) -> Envelope:
        return self.send("employee.placed", "identity", {
            "placement_id": self.id(placement or f"PL:{key}:{code}:{kind}"), "employee_id": self.id(key),
            "position_id": self.id(f"P:{code}"), "start_date": start, "end_date": end, "kind": kind, "version": version})

    def submit(self, entry: str, key: str, day: str = "2026-11-10", start: str = "08:00", end: str = "09:30",
               version: int = 1, description: str = "Menyusun laporan") -> Envelope:
        return self.send("activity.submitted", "activity", {
            "entry_id": self.id(f"E:{entry}"), "employee_id": self.id(key), "date": day, "start_time": start,
            "end_time": end, "duty_id": self.id("D:laporan"), "duty_description": "Menyusun laporan bulanan",
            "volume": 1, "output_unit": "laporan", "credited_minutes": 60, "description": description,
            "version": version})

    def withdraw(self, entry: str, key: str, day: str = "2026-11-10", version: int = 2) -> Envelope:
        return self.send("activity.withdrawn", "activity", {
            "entry_id": self.id(f"E:{entry}"), "employee_id": self.id(key), "date": day, "version": version})

    def lock(self, year: int, month: int) -> Envelope:
        return self.send("tpp.period_locked", "payroll", {
            "year": year, "month": month, "locked_at": "2026-12-06T09:00:00Z", "locked_by": self.id("bpkad")})


@pytest.fixture
def feed(runtime):
    return Feed(Consumer(runtime.settings, runtime.session_factory, runtime.metadata, HANDLERS))


@pytest.fixture
def org(feed):
    """A dinas: KADIS over two bidang heads, each over staff.

        KADIS (kadis)
        ├── KABID (kabid) ── STAFF1 (ani), STAFF2 (budi)
        └── KABID2 (kabid2) ── STAFF3 (citra)
    """
    feed.position("KADIS")
    for code, parent in [("KABID", "KADIS"), ("KABID2", "KADIS"), ("STAFF1", "KABID"), ("STAFF2", "KABID"),
                         ("STAFF3", "KABID2")]:
        feed.position(code, parent)
    people = [("kadis", "Kepala Dinas", "KADIS"), ("kabid", "Kabid Satu", "KABID"), ("kabid2", "Kabid Dua", "KABID2"),
              ("ani", "Ani Lestari", "STAFF1"), ("budi", "Budi Santoso", "STAFF2"), ("citra", "Citra Dewi", "STAFF3")]
    for n, (key, name, code) in enumerate(people, start=1):
        feed.employee(key, name, nip=f"19860926201505100{n}")
        feed.place(key, code)
    return feed
