"""An attendance correction after BPKAD locked the month becomes a rapel (issue 9 item 2): activity
accepts it (it used to answer 409 period_locked), announces the new version, and payroll turns it
into a correction line of its next open month whose cause names the day and its codes.

Both services run against their own real PostgreSQL database; the events travel as the relay
would carry them (the envelopes activity wrote to its outbox, applied through payroll's
idempotent consumer, and payroll's lock back to activity).
"""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope
from ekinerja_common.outbox import OUTBOX
from ekinerja_common.testing import TestKeys, fresh_database, queue_prefix

import activity.app
import activity.inbox
import payroll.app
import payroll.inbox

EMP, NIP, POST = "emp-rapel", "198609262015051001", "post-9"
BKD = ("admin_bkd",)


@pytest.fixture
def stack():
    keys = TestKeys()
    with fresh_database("rapel_act") as act_url, fresh_database("rapel_pay") as pay_url:
        apps = {}
        for name, module, url in (("activity", activity.app, act_url), ("payroll", payroll.app, pay_url)):
            app = module.create_app(Settings(service=name, database_url=url, queue_prefix=queue_prefix()), keys.verifier)
            app.extensions["runtime"].migrate()
            apps[name] = app
        yield Stack(keys, apps)
        for app in apps.values():
            app.extensions["runtime"].engine.dispose()


class Stack:
    def __init__(self, keys, apps):
        self.keys, self.apps = keys, apps
        self.carried: dict[str, int] = {"activity": 0, "payroll": 0}
        self.consumers = {name: Consumer(app.extensions["runtime"].settings, app.extensions["runtime"].session_factory,
                                         app.extensions["runtime"].metadata, inbox.HANDLERS)
                          for (name, app), inbox in zip(apps.items(), (activity.inbox, payroll.inbox))}

    def client(self, name):
        return self.apps[name].test_client()

    def send(self, to: str, event_type: str, source: str, data: dict) -> None:
        assert self.consumers[to].apply(Envelope(type=event_type, source=source, data=data)) == "handled"

    def carry(self, source: str, to: str) -> list[Envelope]:
        """The events ``source`` wrote since the last carry, applied by ``to`` as its consumer would."""
        rt = self.apps[source].extensions["runtime"]
        table = rt.metadata.tables[OUTBOX]
        with rt.engine.connect() as conn:
            bodies = conn.execute(select(table.c.body).order_by(table.c.seq)).scalars().all()
        new = [Envelope.from_json(b) for b in bodies[self.carried[source]:]]
        self.carried[source] = len(bodies)
        for env in new:
            self.consumers[to].apply(env)  # a type ``to`` has no handler for is acked and ignored
        return new


def import_day(stack, check_in: str) -> dict:
    body = f"nip,date,check_in,check_out,code\n{NIP},2026-10-05,{check_in},16:05,\n"
    r = stack.client("activity").post("/attendance/import", data={"file": (io.BytesIO(body.encode()), "presensi.csv")},
                                      headers=stack.keys.headers("bkd-1", *BKD), content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def bpkad(stack, path, body=None):
    r = stack.client("payroll").post(path, headers=stack.keys.headers(None, "bpkad", account_id="bpkad-1"),
                                     **({"json": body} if body is not None else {}))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_a_corrected_day_of_a_locked_month_is_paid_back_next_month_naming_the_day_and_codes(stack):
    employee = {"employee_id": EMP, "nip": NIP, "name": "Ani", "employee_kind": "PNS", "status": "PNS",
                "golongan": "III/b", "active": True, "version": 1}
    placement = {"placement_id": "pl-1", "employee_id": EMP, "position_id": POST, "start_date": "2020-01-01",
                 "end_date": None, "kind": "definitive", "version": 1}
    for to in ("activity", "payroll"):
        stack.send(to, "employee.registered", "identity", employee)
        stack.send(to, "employee.placed", "identity", placement)
    stack.send("payroll", "position.created", "organization", {
        "position_id": POST, "code": "P-9", "name": "Analis", "kind": "pelaksana", "kelas_jabatan": 9,
        "parent_id": None, "unit_id": "unit-a", "factor": "1", "version": 1})

    # Monday 5 October: the device says 08:15 (TL2, 1 %). October is computed and locked with it.
    import_day(stack, "08:15")
    stack.carry("activity", "payroll")
    october = bpkad(stack, "/runs/2026/10/compute")
    assert october["lines"][0]["inputs"]["attendance_days_by_code"] == {"TL2": 1}
    # BPKAD reviewed the run's warnings (no salary file, no calendar stored, …) and pays anyway.
    bpkad(stack, "/runs/2026/10/lock", {"acknowledged_warnings": [w["code"] for w in october["warnings"]]})
    stack.carry("payroll", "activity")

    # The device was wrong: she was on time. Accepted after the lock, announced as version 2.
    report = import_day(stack, "07:25")
    assert (report["changed"], report["locked_month_days"], report["events"]) == (1, 1, 1)
    [event] = stack.carry("activity", "payroll")
    assert (event.type, event.data["codes"], event.data["version"]) == ("attendance.recorded", [], 2)

    # November's run pays October's difference: discipline 99 % -> 100 % of the 40 % share.
    november = bpkad(stack, "/runs/2026/11/compute")
    [correction] = november["corrections"]
    assert (correction["for_year"], correction["for_month"], correction["gross"]) == (2026, 10, 20_000)
    [change] = correction["cause"]["changes"]
    assert change["event_type"] == "attendance.recorded" and change["event_id"] == event.id
    assert change["day"] == "2026-10-05"
    assert change["detail"] == {"codes": [], "previous_codes": ["TL2"]}
    assert json.dumps(correction["cause"])  # plain JSON, as tpp.correction_issued carries it
