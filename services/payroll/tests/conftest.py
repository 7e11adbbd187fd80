import pytest

from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope
from ekinerja_common.events import CATALOGUE, check_event
from ekinerja_common.testing import TestKeys, fresh_database, queue_prefix

from payroll.app import create_app
from payroll.inbox import HANDLERS


@pytest.fixture(scope="session")
def keys():
    return TestKeys()


@pytest.fixture
def app(keys):
    with fresh_database("payroll") as url:
        app = create_app(Settings(service="payroll", database_url=url, queue_prefix=queue_prefix()), keys.verifier)
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
    """The real consumer's exactly-once apply, fed envelopes directly instead of from the broker."""
    return Consumer(runtime.settings, runtime.session_factory, runtime.metadata, HANDLERS)


class Events:
    """Builds events as their producers publish them (catalogue-checked) and applies them through
    the consumer. Each method returns the consumer's outcome: handled, duplicate or ignored."""

    def __init__(self, consumer: Consumer):
        self.consumer = consumer

    def send(self, event_type: str, data: dict, id: str | None = None) -> str:
        producer = CATALOGUE[event_type].producer
        check_event(event_type, producer, data)
        return self.consumer.apply(Envelope(type=event_type, source=producer, data=data, correlation_id="test",
                                            **({"id": id} if id else {})))

    def employee(self, employee_id: str, *, golongan: str, status: str = "PNS", kind: str = "PNS", active: bool = True,
                 version: int = 1, name: str = "Pegawai", nip: str = "198609262015051001", **kw) -> str:
        extra = {"bank_account": kw.pop("bank_account")} if "bank_account" in kw else {}
        return self.send("employee.registered" if version == 1 else "employee.updated", {
            "employee_id": employee_id, "nip": nip, "name": name, "employee_kind": kind, "status": status,
            "golongan": golongan, "active": active, "version": version, **extra}, **kw)

    def position(self, position_id: str, *, kelas: int, factor: str = "1", unit_id: str = "unit-dinkominfo",
                 version: int = 1, **kw) -> str:
        return self.send("position.created" if version == 1 else "position.updated", {
            "position_id": position_id, "code": f"P-{position_id[:8]}", "name": f"Jabatan kelas {kelas}",
            "kind": "pelaksana", "kelas_jabatan": kelas, "parent_id": None, "unit_id": unit_id, "factor": factor,
            "version": version}, **kw)

    def unit(self, unit_id: str, *, code: str, name: str, kind: str = "opd", parent_id: str | None = None,
             active: bool = True, version: int = 1, **kw) -> str:
        return self.send("unit.created" if version == 1 else "unit.updated", {
            "unit_id": unit_id, "code": code, "name": name, "kind": kind, "parent_id": parent_id, "active": active,
            "version": version}, **kw)

    def placement(self, placement_id: str, employee_id: str, position_id: str, start: str, end: str | None = None, *,
                  kind: str = "definitive", version: int = 1, **kw) -> str:
        return self.send("employee.placed", {
            "placement_id": placement_id, "employee_id": employee_id, "position_id": position_id,
            "start_date": start, "end_date": end, "kind": kind, "version": version}, **kw)

    def decision(self, verdict: str, entry_id: str, employee_id: str, day: str, minutes: int, *, version: int = 1,
                 **kw) -> str:
        data = {"entry_id": entry_id, "employee_id": employee_id, "date": day, "credited_minutes": minutes,
                "decided_by": "supervisor-1", "decided_at": f"{day}T16:00:00+07:00", "version": version,
                "submission_version": version - 1}
        if verdict != "approved":
            data["reason"] = "Uraian tidak sesuai"
        return self.send(f"activity.{verdict}", data, **kw)

    def appeal_decided(self, appeal_id: str, employee_id: str, entries: list[tuple[str, str, int]], outcome: str, *,
                       version: int = 2, entry_version: int = 2, **kw) -> str:
        """``entries``: (entry_id, day, credited minutes) of the appealed rejections; an overturn is
        numbered ``entry_version``, above the rejection (decision() numbers it 1 by default)."""
        return self.send("appeal.decided", {
            "appeal_id": appeal_id, "entry_ids": [e[0] for e in entries], "employee_id": employee_id,
            "outcome": outcome, "decided_by": "atasan-atasan", "decided_at": "2026-08-12T10:00:00+07:00",
            "version": version,
            "entries": [{"entry_id": e, "date": day, "credited_minutes": minutes, "submission_version": 0,
                         "version": entry_version} for e, day, minutes in entries]}, **kw)

    def attendance(self, employee_id: str, day: str, deduction_pct: str, codes: list[str], *, version: int = 1,
                   **kw) -> str:
        return self.send("attendance.recorded", {
            "employee_id": employee_id, "date": day, "codes": codes, "deduction_pct": deduction_pct,
            "version": version}, **kw)

    def calendar(self, year: int, *, holidays: list[str] = (), collective_leave: list[str] = (), version: int = 1,
                 working_weekdays: list[int] | None = (1, 2, 3, 4, 5), target_minutes_per_day: int | None = 300,
                 **kw) -> str:
        """calendar.updated as activity publishes it (``None`` leaves an optional field out)."""
        data = {"year": year, "holidays": list(holidays), "collective_leave": list(collective_leave), "version": version}
        if working_weekdays is not None:
            data["working_weekdays"] = list(working_weekdays)
        if target_minutes_per_day is not None:
            data["target_minutes_per_day"] = target_minutes_per_day
        return self.send("calendar.updated", data, **kw)


@pytest.fixture
def events(consumer):
    return Events(consumer)
