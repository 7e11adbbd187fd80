import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope
from ekinerja_common.events import CATALOGUE
from ekinerja_common.outbox import OUTBOX
from ekinerja_common.testing import TestKeys, fresh_database, queue_prefix

from activity import clock
from activity.app import create_app
from activity.inbox import HANDLERS


@pytest.fixture(scope="session")
def keys():
    return TestKeys()


@pytest.fixture
def app(keys):
    with fresh_database("activity") as url:
        app = create_app(Settings(service="activity", database_url=url, queue_prefix=queue_prefix()), keys.verifier)
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

    def lock(self, year, month):
        return self("tpp.period_locked", {"year": year, "month": month, "locked_at": "2026-12-05T03:00:00Z",
                                          "locked_by": "bpkad-1"})

    def decision(self, event_type, entry, version, reason=None, decided_by="atasan-1") -> Envelope:
        """A decision envelope (not applied: tests apply it, sometimes twice)."""
        data = {"entry_id": entry["id"], "employee_id": entry["employee_id"], "date": entry["date"],
                "credited_minutes": entry["credited_minutes"], "decided_by": decided_by,
                "decided_at": "2026-11-28T02:00:00+00:00", "version": version}
        if reason is not None:
            data["reason"] = reason
        return self.envelope(event_type, data)


@pytest.fixture
def feed(consumer):
    return Feed(consumer)


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
