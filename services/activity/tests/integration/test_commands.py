"""The operator commands run the same use cases as the endpoints (here on SQLite, as the
single-machine run would)."""
import json
import uuid

import pytest

from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope

from activity import commands
from activity.inbox import HANDLERS
from activity.runtime import build_runtime


@pytest.fixture
def rt(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/activity.db"
    monkeypatch.setenv("ACTIVITY_DATABASE_URL", url)
    runtime = build_runtime(Settings(service="activity", database_url=url))
    runtime.migrate()
    yield runtime
    runtime.engine.dispose()


def test_import_and_close_day_from_the_command_line(rt, tmp_path, capsys):
    consumer = Consumer(rt.settings, rt.session_factory, rt.metadata, HANDLERS)
    people = []
    for nip in ("198609262015051001", "199001012019032002"):
        emp = str(uuid.uuid4())
        people.append(emp)
        consumer.apply(Envelope("employee.registered", "identity", {
            "employee_id": emp, "nip": nip, "name": "x", "employee_kind": "PNS", "status": "PNS", "golongan": "III/a",
            "active": True, "version": 1}))
        consumer.apply(Envelope("employee.placed", "identity", {
            "placement_id": str(uuid.uuid4()), "employee_id": emp, "position_id": "p", "start_date": "2026-01-01",
            "end_date": None, "kind": "definitive", "version": 1}))
    good = tmp_path / "okt.csv"
    good.write_text("nip,date,check_in,check_out\n198609262015051001,2026-10-05,07:40,16:00\n")
    commands.import_attendance([str(good), "--actor", "operator"])
    report = json.loads(capsys.readouterr().out)
    assert (report["changed"], report["events"]) == (1, 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("nip,date,check_in,check_out\n123,2026-10-05,07:40,16:00\n")
    with pytest.raises(SystemExit):
        commands.import_attendance([str(bad)])
    assert "lines.2.nip" in json.loads(capsys.readouterr().err)["error"]["fields"]
    commands.close_day(["2026-10-05"])
    assert json.loads(capsys.readouterr().out) == {"date": "2026-10-05", "changed": 1}
    with pytest.raises(SystemExit):
        commands.close_day(["2026-10-10"])  # a Saturday
