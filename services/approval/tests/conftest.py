import contextlib
import uuid
from collections import defaultdict
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope
from ekinerja_common.events import check_event
from ekinerja_common.testing import PG_ADMIN_URL, TestKeys, fresh_database, queue_prefix

from approval.app import create_app
from approval.inbox import HANDLERS
from approval.runtime import build_runtime


@pytest.fixture(scope="session")
def keys():
    return TestKeys()


@pytest.fixture(scope="session")
def migrated_template():
    """One database migrated by the real migrations once per session; each test gets a fresh
    copy of it (CREATE DATABASE ... TEMPLATE), which is much faster than migrating every time."""
    with fresh_database("approval_tmpl") as url:
        rt = build_runtime(Settings(service="approval", database_url=url))
        rt.migrate()
        rt.engine.dispose()
        yield url.rsplit("/", 1)[1]


@contextlib.contextmanager
def database_from(template: str):
    name = f"t_approval_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Clock:
    """The app's notion of today (WIB); tests move it to cross deadlines and windows."""

    def __init__(self):
        from ekinerja_common import clock

        self.today: date = clock.today()

    def __call__(self) -> date:
        return self.today


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app(keys, migrated_template, clock, tmp_path):
    with database_from(migrated_template) as url:
        settings = Settings(service="approval", database_url=url, queue_prefix=queue_prefix(),
                            extra={"APPROVAL_EVIDENCE_DIR": str(tmp_path / "evidence"),
                                   "APPROVAL_EVIDENCE_MAX_BYTES": str(64 * 1024)})
        app = create_app(settings, keys.verifier, today_fn=clock)
        rt = app.extensions["runtime"]
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


class Api:
    """Calls as someone: ``api.post("/decisions", "kabid", json=...)``. ``who`` is a Feed key (or
    None for a token without an employee); roles default to pegawai."""

    def __init__(self, client, keys, feed, runtime):
        self.client, self.keys, self.feed, self.runtime = client, keys, feed, runtime

    def headers(self, who: str | None, *roles: str) -> dict[str, str]:
        return self.keys.headers(self.feed.id(who) if who else None, *(roles or ("pegawai",)))

    def get(self, path: str, who: str | None, *roles: str, **kw):
        return self.client.get(path, headers=self.headers(who, *roles), **kw)

    def post(self, path: str, who: str | None, *roles: str, **kw):
        return self.client.post(path, headers=self.headers(who, *roles), **kw)

    def put(self, path: str, who: str | None, *roles: str, **kw):
        return self.client.put(path, headers=self.headers(who, *roles), **kw)

    def delete(self, path: str, who: str | None, *roles: str, **kw):
        return self.client.delete(path, headers=self.headers(who, *roles), **kw)

    def outbox(self) -> list[dict]:
        import json

        from sqlalchemy import select

        from ekinerja_common.outbox import OUTBOX

        table = self.runtime.metadata.tables[OUTBOX]
        with self.runtime.engine.connect() as conn:
            return [json.loads(b) for b in conn.execute(select(table.c.body).order_by(table.c.seq)).scalars()]

    def count(self, model) -> int:
        from sqlalchemy import func, select

        with self.runtime.session_factory() as s:
            return s.scalar(select(func.count()).select_from(model))

    def entry(self, key: str) -> str:
        return self.feed.id(f"E:{key}")

    def name_of(self, entry_id: str) -> str:
        names = {v: k for k, v in self.feed.ids.items()}
        return names[entry_id]


@pytest.fixture
def api(client, keys, feed, runtime):
    return Api(client, keys, feed, runtime)
