"""The event catalogue: the one place that says which events exist, who publishes them, what their
``data`` holds (a pydantic model per type: fields, types, which are optional) and which services
consume them.

The relay and the consumers declare the broker topology from this table, so a queue is bound to
every key it needs before the first message is published; ``consumers`` must name exactly the
services whose ``inbox.HANDLERS`` handle the type (tests/rules/test_subscriptions.py). The README's
catalogue and ``docs/events/*.schema.json`` are generated from it::

    python -m ekinerja_common.events              # the README table
    python -m ekinerja_common.events schemas DIR  # one JSON Schema per event type

Write time: every event is checked against its model when it is written to the outbox (as JSON,
strictly: a producer bug fails the business transaction instead of poisoning every consumer later;
a field the model does not declare is refused too, so the catalogue stays complete). Read time: a
consumer's handler gets the parsed model (dates, times and decimals as Python values); data that
does not fit is :class:`~ekinerja_common.errors.Unrecoverable` (dead-lettered at once). Models
ignore unknown fields when reading, so a producer may add an optional field before its consumers
know it.

The wire format is the producers' JSON as before: dates ``YYYY-MM-DD``, times ``HH:MM``, decimals
as strings, timestamps ISO 8601 as each producer spells them. Every aggregate event carries
``version`` so that consumers can ignore a stale update arriving late.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, PlainValidator, Strict, ValidationError,
                      WithJsonSchema, model_validator)

from .envelope import Envelope

SERVICES = ("identity", "organization", "activity", "approval", "payroll")


# -- field types: what the JSON spells, and what a consumer gets ---------------------------------

class Instant(datetime):
    """A timestamp that remembers the producer's spelling (``...Z`` or ``...+00:00``, with or
    without microseconds), so that parsing and writing an event gives the same bytes back."""

    text: str


def _instant(value: Any) -> Instant:
    if isinstance(value, Instant):
        return value
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO 8601 timestamp: {text!r}") from None
    else:
        raise ValueError(f"a timestamp must be an ISO 8601 string, not {type(value).__name__}")
    out = Instant(value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond,
                  value.tzinfo, fold=value.fold)
    out.text = text
    return out


Timestamp = Annotated[Instant, PlainValidator(_instant), PlainSerializer(lambda v: v.text, return_type=str),
                      WithJsonSchema({"type": "string", "format": "date-time"})]


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise ValueError("a time of day must be a string HH:MM")
    return time.fromisoformat(value)


ClockTime = Annotated[time, BeforeValidator(_clock),
                      PlainSerializer(lambda t: t.strftime("%H:%M") if not (t.second or t.microsecond) else t.isoformat(),
                                      return_type=str),
                      WithJsonSchema({"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"})]


def _decimal_text(value: Any) -> Decimal:
    # Decimals travel as strings; a JSON number would carry float noise into money and percents.
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError("a decimal must be a string such as \"1.5\"")
    try:
        parsed = Decimal(value)
    except ArithmeticError:
        raise ValueError(f"not a decimal: {value!r}") from None
    if not parsed.is_finite():
        raise ValueError(f"not a decimal: {value!r}")
    return parsed


DecimalText = Annotated[Decimal, PlainValidator(_decimal_text), PlainSerializer(str, return_type=str),
                        WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"})]
Day = Annotated[date, Strict(False)]
Int = Annotated[int, Strict()]
Text = Annotated[str, Strict()]


class EventData(BaseModel):
    """Base of every event's ``data``. Reading ignores fields it does not know (a newer producer);
    writing refuses them (check_event), so every field a producer sends is declared here."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# -- the models ----------------------------------------------------------------------------------

class EmployeeData(EventData):
    employee_id: Text
    nip: Text
    name: Text
    employee_kind: Text
    status: Text
    golongan: Text | None
    active: bool
    version: Int
    # Absent in events from before the disbursement list: a consumer keeps what it has.
    bank_account: Text | None = None


class PlacementData(EventData):
    placement_id: Text
    employee_id: Text
    position_id: Text
    start_date: Day
    end_date: Day | None
    kind: Literal["definitive", "plt"]
    version: Int


class AccountRevoked(EventData):
    account_id: Text
    token_version: Int
    reason: Text
    revoked_at: Timestamp


class UnitData(EventData):
    unit_id: Text
    code: Text
    name: Text
    kind: Text
    parent_id: Text | None
    version: Int
    active: bool = True


class PositionData(EventData):
    position_id: Text
    code: Text
    name: Text
    kind: Text
    kelas_jabatan: Int
    parent_id: Text | None
    unit_id: Text | None
    factor: DecimalText | None
    version: Int
    eselon: Text | None = None
    valid_from: Day | None = None
    # organization sends a post it abolishes once more with active false (abolished true).
    active: bool = True
    abolished: bool = False


class DutyPublished(EventData):
    duty_id: Text
    position_id: Text
    description: Text
    output_unit: Text
    norma_waktu: Int
    version: Int
    yearly_volume: Int | None = None


class DutyRetired(EventData):
    duty_id: Text
    position_id: Text
    version: Int


class ActivitySubmitted(EventData):
    entry_id: Text
    employee_id: Text
    date: Day
    start_time: ClockTime
    end_time: ClockTime
    duty_id: Text
    duty_description: Text
    volume: Int
    output_unit: Text
    credited_minutes: Int
    description: Text
    version: Int


class ActivityWithdrawn(EventData):
    entry_id: Text
    employee_id: Text
    date: Day
    version: Int


class ChangeAccepted(EventData):
    entry_id: Text
    employee_id: Text
    version: Int
    status: Literal["pending", "withdrawn"]


class ActivityDecided(EventData):
    """activity.approved / rejected / returned."""

    entry_id: Text
    employee_id: Text
    date: Day
    credited_minutes: Int
    decided_by: Text
    decided_at: Timestamp
    # The decision's own number, one above the submission it judged (``submission_version``).
    version: Int
    submission_version: Int


class ActivityJudged(ActivityDecided):
    """activity.rejected / returned: a reason is mandatory."""

    reason: Text


class AppealFiled(EventData):
    appeal_id: Text
    entry_ids: list[Text]
    employee_id: Text
    filed_at: Timestamp
    version: Int
    # Who hears it: the rejecting supervisor's supervisor, or the appeals board.
    level: Literal["first_level", "board"] | None = None


class AppealedEntry(EventData):
    entry_id: Text
    date: Day
    credited_minutes: Int
    # The version of the rejected submission (None if approval holds no rejection of it).
    submission_version: Int | None
    version: Int


class AppealDecided(EventData):
    appeal_id: Text
    entry_ids: list[Text]
    employee_id: Text
    outcome: Literal["upheld", "overturned"]
    decided_by: Text
    decided_at: Timestamp
    version: Int
    entries: list[AppealedEntry]
    level: Literal["first_level", "board"] | None = None


class AttendanceRecorded(EventData):
    employee_id: Text
    date: Day
    codes: list[Text]
    deduction_pct: DecimalText
    version: Int


class CalendarUpdated(EventData):
    year: Int
    holidays: list[Day]
    collective_leave: list[Day]
    version: Int
    # Absent in older events: Monday to Friday, and the shared default target.
    working_weekdays: Annotated[list[Annotated[int, Strict(), Field(ge=1, le=7)]], Field(min_length=1)] | None = None
    target_minutes_per_day: Annotated[int, Strict(), Field(ge=1, le=24 * 60)] | None = None

    @model_validator(mode="after")
    def _days_of_the_year(self) -> "CalendarUpdated":
        strays = [d.isoformat() for d in (*self.holidays, *self.collective_leave) if d.year != self.year]
        if strays:
            raise ValueError(f"the calendar of {self.year} lists days of another year: {strays}")
        return self


class PeriodLocked(EventData):
    year: Int
    month: Int
    locked_at: Timestamp
    locked_by: Text
    run_version: Int | None = None


class DeductionsUpdated(EventData):
    year: Int
    deductions_pct: dict[str, DecimalText]
    policy_version: Int


class CorrectionIssued(EventData):
    correction_id: Text
    employee_id: Text
    year: Int
    month: Int
    for_year: Int
    for_month: Int
    amount: Int
    cause: dict[str, Any]
    gross: Int | None = None
    pph: Int | None = None
    bpjs: Int | None = None


# -- the catalogue -------------------------------------------------------------------------------

@dataclass(frozen=True)
class EventType:
    name: str
    producer: str
    consumers: tuple[str, ...]
    model: type[EventData]
    description: str

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.model.model_fields.items() if f.is_required())

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.model.model_fields.items() if not f.is_required())


_PEOPLE = ("activity", "approval", "payroll")
_EVERYONE_ELSE = ("organization", "activity", "approval", "payroll")

CATALOGUE: dict[str, EventType] = {
    e.name: e
    for e in [
        EventType("employee.registered", "identity", _PEOPLE, EmployeeData,
                  "A new employee (PNS/PPPK) exists: NIP, name, status, golongan, bank account for the "
                  "disbursement list."),
        EventType("employee.updated", "identity", _PEOPLE, EmployeeData,
                  "Full new state of an employee's personnel record."),
        EventType("employee.placed", "identity", _EVERYONE_ELSE, PlacementData,
                  "A placement in a position (kind definitive or plt), effective from start_date to end_date "
                  "(inclusive, null = open); re-sent with a higher version when it changes or ends."),
        EventType("account.revoked", "identity", _EVERYONE_ELSE, AccountRevoked,
                  "Access tokens of the account issued before now are void (reason: deactivated, roles_removed, "
                  "password_reset, password_changed): every service refuses a token whose ver claim is lower "
                  "than token_version."),
        EventType("unit.created", "organization", ("activity", "payroll"), UnitData,
                  "A unit (opd, bidang or subbidang) with its code, name and parent unit."),
        EventType("unit.updated", "organization", ("activity", "payroll"), UnitData,
                  "Full new state of a unit (renamed, or dissolved: active false)."),
        EventType("position.created", "organization", ("identity", "activity", "approval", "payroll"), PositionData,
                  "A position (jabatan) with its parent position, kelas jabatan and unit."),
        EventType("position.updated", "organization", ("identity", "activity", "approval", "payroll"), PositionData,
                  "Full new state of a position (abolished: active false)."),
        EventType("duty.published", "organization", ("activity",), DutyPublished,
                  "A duty (uraian tugas) of a position with its norma waktu in minutes per unit of output."),
        EventType("duty.retired", "organization", ("activity",), DutyRetired,
                  "A duty no longer accepts new entries."),
        EventType("activity.submitted", "activity", ("approval",), ActivitySubmitted,
                  "An employee submitted a daily activity entry for validation."),
        EventType("activity.withdrawn", "activity", ("approval",), ActivityWithdrawn,
                  "The employee withdrew a pending entry (a request: approval confirms it with "
                  "activity.change_accepted, unless the supervisor decided first)."),
        EventType("activity.change_accepted", "approval", ("activity",), ChangeAccepted,
                  "Approval took the employee's change of a pending entry (a revision, status pending, or a "
                  "withdrawal, status withdrawn) at this version: no decision on an earlier version will come. "
                  "A change that arrives after the supervisor approved or rejected is not taken and gets no "
                  "answer but that decision, which stands."),
        EventType("activity.approved", "approval", ("activity", "payroll"), ActivityDecided,
                  "The supervisor approved an entry; its credited minutes count. Final: approval takes no "
                  "later change of the entry."),
        EventType("activity.rejected", "approval", ("activity", "payroll"), ActivityJudged,
                  "The supervisor rejected an entry (reason mandatory). Final but for an appeal."),
        EventType("activity.returned", "approval", ("activity", "payroll"), ActivityJudged,
                  "The supervisor returned an entry for revision (reason mandatory)."),
        EventType("appeal.filed", "approval", ("activity",), AppealFiled,
                  "An employee appealed rejected entries."),
        EventType("appeal.decided", "approval", ("activity", "payroll"), AppealDecided,
                  "An appeal was decided: upheld (rejection stands) or overturned (the minutes count). The one "
                  "announcement of an overturn: entries lists each entry with date, credited_minutes, "
                  "submission_version and its new version."),
        EventType("attendance.recorded", "activity", ("payroll",), AttendanceRecorded,
                  "A day's attendance with its discipline codes and deduction (percent)."),
        EventType("calendar.updated", "activity", ("payroll",), CalendarUpdated,
                  "BKD changed a year's work calendar: working weekdays (ISO 1-7), holidays, collective leave "
                  "(cuti bersama) and the daily target."),
        EventType("tpp.period_locked", "payroll", ("activity", "approval"), PeriodLocked,
                  "BPKAD locked a month: it never changes again."),
        EventType("tpp.deductions_updated", "payroll", ("activity",), DeductionsUpdated,
                  "BPKAD changed a year's discipline deduction table (percent per code) in the TPP policy; "
                  "activity prices attendance codes with the latest of each year."),
        EventType("tpp.correction_issued", "payroll", (), CorrectionIssued,
                  "A change to a locked month became a correction line in an open month (no service consumes "
                  "it yet: it is there for the record and for a future consumer)."),
    ]
}

D = TypeVar("D", bound=EventData)


@dataclass(frozen=True)
class Event(Generic[D]):
    """What a handler gets: the envelope's facts and its ``data`` parsed into the type's model."""

    envelope: Envelope
    data: D

    @property
    def id(self) -> str:
        return self.envelope.id

    @property
    def type(self) -> str:
        return self.envelope.type

    @property
    def occurred_at(self) -> str:
        return self.envelope.occurred_at

    @property
    def correlation_id(self) -> str | None:
        return self.envelope.correlation_id


def consumed_by(service: str) -> list[str]:
    return sorted(name for name, e in CATALOGUE.items() if service in e.consumers)


def _spec(event_type: str) -> EventType:
    spec = CATALOGUE.get(event_type)
    if spec is None:
        raise ValueError(f"unknown event type {event_type!r}; add it to ekinerja_common.events.CATALOGUE")
    return spec


def _problems(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or '(data)'}: {e['msg']}" for e in exc.errors()]


# Set by the test suite (tests' conftest): every event written is also parsed and written back,
# and must give the same JSON — the wire format stays what the producers wrote.
CHECK_ROUND_TRIP = False


def check_event(event_type: str, source: str, data: dict) -> None:
    """Refuse an event the catalogue does not know, from the wrong producer, missing fields, with a
    field of the wrong type or one its model does not declare."""
    spec = _spec(event_type)
    if spec.producer != source:
        raise ValueError(f"{event_type} is published by {spec.producer}, not {source}")
    missing = [f for f in spec.required if f not in data]
    if missing:
        raise ValueError(f"{event_type} lacks fields {missing}")
    unknown = sorted(set(data) - set(spec.model.model_fields))
    if unknown:
        raise ValueError(f"{event_type} has fields its model does not declare: {unknown} "
                         f"(add them to ekinerja_common.events.{spec.model.__name__})")
    text = json.dumps(data)
    try:
        parsed = spec.model.model_validate_json(text, strict=True)
    except ValidationError as exc:
        raise ValueError(f"{event_type} data does not fit {spec.model.__name__}: {_problems(exc)}") from None
    if CHECK_ROUND_TRIP:
        back = json.loads(parsed.model_dump_json(exclude_unset=True))
        if back != json.loads(text):
            raise AssertionError(f"{event_type}: the model would change the wire format: {text} -> {back}")


def as_data(event_type: str, data: dict | EventData) -> dict:
    """The JSON object of ``data`` (a producer may hand over the model instance; the fields it left
    unset stay off the wire, as a dict would leave them out)."""
    if isinstance(data, EventData):
        model = _spec(event_type).model
        if not isinstance(data, model):
            raise ValueError(f"{event_type} carries {model.__name__}, not {type(data).__name__}")
        return json.loads(data.model_dump_json(exclude_unset=True))
    return data


def parse(env: Envelope) -> Event:
    """The envelope with its data parsed; ValueError (a ValidationError) when it does not fit."""
    return Event(env, _spec(env.type).model.model_validate(env.data))


# -- generated documentation ---------------------------------------------------------------------

def _type_name(annotation: Any, schema: dict) -> str:
    kind = schema.get("type") or next((s.get("type") for s in schema.get("anyOf", []) if s.get("type") != "null"), "")
    fmt = schema.get("format") or next((s.get("format") for s in schema.get("anyOf", []) if s.get("format")), None)
    if kind == "string" and fmt in ("date", "date-time"):
        return fmt
    if kind == "array":
        return "list"
    return {"string": "string", "integer": "int", "boolean": "bool", "object": "object"}.get(kind, kind or "object")


def _fields(model: type[EventData]) -> str:
    props = model.model_json_schema()["properties"]
    out = []
    for name, f in model.model_fields.items():
        schema = props[name]
        nullable = any(s.get("type") == "null" for s in schema.get("anyOf", []))
        out.append(f"{name}{'' if f.is_required() else '?'}{' (null)' if nullable else ''}")
    return ", ".join(out)


def markdown_table() -> str:
    rows = ["| event | from | consumed by | data (`?` optional, `(null)` may be null) | meaning |",
            "|---|---|---|---|---|"]
    for e in CATALOGUE.values():
        schema = f"[{_fields(e.model)}](docs/events/{e.name}.schema.json)"
        rows.append(f"| `{e.name}` | {e.producer} | {', '.join(e.consumers) or '—'} | {schema} | {e.description} |")
    return "\n".join(rows)


def json_schema(event_type: str) -> dict:
    spec = _spec(event_type)
    schema = spec.model.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{event_type}.schema.json",
            **schema, "title": event_type, "description": spec.description,
            "x-producer": spec.producer, "x-consumers": list(spec.consumers)}


def schema_files() -> dict[str, str]:
    """File name -> content of every event's JSON Schema (docs/events/)."""
    return {f"{name}.schema.json": json.dumps(json_schema(name), indent=2, sort_keys=True) + "\n"
            for name in CATALOGUE}


def main(argv: list[str]) -> int:
    if argv[:1] == ["schemas"] and len(argv) == 2:
        out = Path(argv[1])
        out.mkdir(parents=True, exist_ok=True)
        files = schema_files()
        for stale in out.glob("*.schema.json"):
            if stale.name not in files:
                stale.unlink()
        for name, content in files.items():
            (out / name).write_text(content)
        print(f"wrote {len(files)} schemas to {out}")
        return 0
    if not argv:
        print(markdown_table())
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
