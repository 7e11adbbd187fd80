"""The typed event contracts (issue 12): a pydantic model per catalogue entry, checked strictly
when an event is written, parsed for the handler when it is read, and the documentation (README
table, docs/events/*.schema.json) generated from the models."""
from __future__ import annotations

import json
from datetime import date, time, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine
from sqlalchemy.orm import sessionmaker

from ekinerja_common import events
from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope
from ekinerja_common.errors import Unrecoverable
from ekinerja_common.outbox import add_messaging_tables

ROOT = Path(__file__).resolve().parents[3]

SUBMITTED = {"entry_id": "e1", "employee_id": "emp", "date": "2026-07-01", "start_time": "08:00",
             "end_time": "09:30", "duty_id": "d", "duty_description": "Menyusun laporan", "volume": 1,
             "output_unit": "laporan", "credited_minutes": 90, "description": "x", "version": 1}


def test_the_committed_json_schemas_are_the_generated_ones():
    """``python -m ekinerja_common.events schemas docs/events`` renews them."""
    committed = {p.name: p.read_text() for p in (ROOT / "docs" / "events").glob("*.schema.json")}
    assert committed == events.schema_files()


def test_the_readme_event_table_is_the_generated_one():
    """``python -m ekinerja_common.events`` prints it."""
    assert events.markdown_table() in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("change, problem", [
    ({"volume": "1"}, "volume"),                  # a number as a string
    ({"date": "2026-02-30"}, "date"),             # not a day
    ({"start_time": "8 pagi"}, "start_time"),
    ({"credited_minutes": 1.5}, "credited_minutes"),
    ({"entry_id": None}, "entry_id"),
])
def test_a_producer_bug_fails_at_write_time(change, problem):
    with pytest.raises(ValueError, match=problem):
        events.check_event("activity.submitted", "activity", {**SUBMITTED, **change})


def test_a_field_the_model_does_not_declare_is_refused_at_write_time():
    with pytest.raises(ValueError, match="does not declare.*'colour'"):
        events.check_event("activity.submitted", "activity", {**SUBMITTED, "colour": "red"})


def test_decimals_travel_as_strings():
    data = {"employee_id": "e", "date": "2026-07-01", "codes": ["TL1"], "deduction_pct": "0.5", "version": 1}
    events.check_event("attendance.recorded", "activity", data)
    with pytest.raises(ValueError, match="deduction_pct"):
        events.check_event("attendance.recorded", "activity", {**data, "deduction_pct": 0.5})


def test_the_handler_gets_parsed_values():
    env = Envelope(type="activity.submitted", source="activity", data=SUBMITTED)
    event = events.parse(env)
    assert event.id == env.id and event.type == "activity.submitted"
    d = event.data
    assert d.date == date(2026, 7, 1) and d.start_time == time(8, 0) and d.volume == 1
    attendance = events.parse(Envelope(type="attendance.recorded", source="activity", data={
        "employee_id": "e", "date": "2026-07-01", "codes": [], "deduction_pct": "1.50", "version": 3}))
    assert attendance.data.deduction_pct == Decimal("1.50")


@pytest.mark.parametrize("spelling", ["2026-07-01T03:00:00Z", "2026-07-01T03:00:00.000123Z",
                                      "2026-07-01T03:00:00.123456+00:00", "2026-07-01T10:00:00+07:00"])
def test_a_round_trip_gives_the_producer_s_json_back(spelling):
    data = {"entry_id": "e", "employee_id": "x", "date": "2026-07-01", "credited_minutes": 30, "decided_by": "s",
            "decided_at": spelling, "version": 2, "submission_version": 1}
    parsed = events.parse(Envelope(type="activity.approved", source="approval", data=data)).data
    assert parsed.decided_at.astimezone(timezone.utc).hour == 3
    assert json.loads(parsed.model_dump_json(exclude_unset=True)) == data
    # The producer may hand over the model: the same JSON goes into the outbox.
    assert events.as_data("activity.approved", parsed) == data


def test_an_optional_field_left_out_stays_off_the_wire():
    employee = events.EmployeeData(employee_id="e", nip="1", name="A", employee_kind="pns", status="aktif",
                                   golongan=None, active=True, version=1)
    assert "bank_account" not in events.as_data("employee.registered", employee)
    with pytest.raises(ValueError, match="carries UnitData, not EmployeeData"):
        events.as_data("unit.created", employee)


def test_data_that_does_not_fit_its_model_is_unrecoverable():
    """No retry changes a payload: the consumer refuses it at once (dead letter), the handler
    never sees it."""
    metadata = MetaData()
    add_messaging_tables(metadata)
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    seen = []
    consumer = Consumer(Settings(service="approval", database_url="sqlite://"), sessionmaker(engine), metadata,
                        {"activity.submitted": lambda uow, event: seen.append(event)})
    bad = Envelope(type="activity.submitted", source="activity", data={**SUBMITTED, "volume": "banyak"})
    with pytest.raises(Unrecoverable, match="volume"):
        consumer.apply(bad)
    assert consumer.apply(Envelope(type="activity.submitted", source="activity", data=SUBMITTED)) == "handled"
    assert [e.data.entry_id for e in seen] == ["e1"]


def test_a_handler_publishes_through_its_unit_of_work():
    metadata = MetaData()
    add_messaging_tables(metadata)
    engine = create_engine("sqlite://")
    metadata.create_all(engine)

    def confirm(uow, event):
        uow.publish("activity.change_accepted", events.ChangeAccepted(
            entry_id=event.data.entry_id, employee_id=event.data.employee_id, version=event.data.version,
            status="pending"))

    consumer = Consumer(Settings(service="approval", database_url="sqlite://"), sessionmaker(engine), metadata,
                        {"activity.submitted": confirm})
    env = Envelope(type="activity.submitted", source="activity", data=SUBMITTED, correlation_id="req-9")
    assert consumer.apply(env) == "handled"
    with engine.connect() as c:
        row = c.execute(metadata.tables["outbox"].select()).one()
    assert row.type == "activity.change_accepted" and row.correlation_id == "req-9"
    assert json.loads(row.body)["data"] == {"entry_id": "e1", "employee_id": "emp", "version": 1, "status": "pending"}


def test_the_suite_round_trips_every_event_it_writes():
    """conftest.py at the root turns it on: every producer's payload in every test is parsed and
    written back, and must give the same JSON (the wire format did not change)."""
    assert events.CHECK_ROUND_TRIP
    with pytest.raises(AssertionError, match="wire format"):
        # A model that would respell the producer's JSON is caught (here: a time with seconds
        # spelled as a producer never would).
        events.check_event("activity.submitted", "activity", {**SUBMITTED, "start_time": "08:00:00"})
