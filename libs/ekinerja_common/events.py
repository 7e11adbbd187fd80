"""The event catalogue: the one place that says which events exist, who publishes them, which
fields their ``data`` must carry and which services consume them.

The relay and the consumers declare the broker topology from this table, so a queue is bound to
every key it needs before the first message is published. The README's catalogue is generated
from it (``python -m ekinerja_common.events``).

Fields marked in ``required`` are checked when an event is written to the outbox: a producer bug
fails the business transaction instead of poisoning every consumer later. Every aggregate event
carries ``version`` so that consumers can ignore a stale update arriving late.
"""
from __future__ import annotations

from dataclasses import dataclass

SERVICES = ("identity", "organization", "activity", "approval", "payroll")


@dataclass(frozen=True)
class EventType:
    name: str
    producer: str
    consumers: tuple[str, ...]
    required: tuple[str, ...]
    description: str


_EMPLOYEE = ("employee_id", "nip", "name", "employee_kind", "status", "golongan", "active", "version")
_POSITION = ("position_id", "code", "name", "kind", "kelas_jabatan", "parent_id", "unit_id", "factor", "version")
_UNIT = ("unit_id", "code", "name", "kind", "parent_id", "version")
# ``submission_version`` is the version of the activity.submitted the decision judged (approval
# numbers the decision itself one above it, ``version``).
_DECISION = ("entry_id", "employee_id", "date", "credited_minutes", "decided_by", "decided_at", "version",
             "submission_version")

CATALOGUE: dict[str, EventType] = {
    e.name: e
    for e in [
        EventType("employee.registered", "identity", ("organization", "activity", "approval", "payroll"), _EMPLOYEE,
                  "A new employee (PNS/PPPK) exists: NIP, name, status, golongan; also carries bank_account "
                  "(string or null) for the disbursement list."),
        EventType("employee.updated", "identity", ("organization", "activity", "approval", "payroll"), _EMPLOYEE,
                  "Full new state of an employee's personnel record, bank_account (string or null) included."),
        EventType("employee.placed", "identity", ("organization", "activity", "approval", "payroll"),
                  ("placement_id", "employee_id", "position_id", "start_date", "end_date", "kind", "version"),
                  "A placement in a position (kind definitive or plt), effective from start_date to end_date "
                  "(inclusive, null = open); re-sent with a higher version when it changes or ends."),
        EventType("account.revoked", "identity", ("organization", "activity", "approval", "payroll"),
                  ("account_id", "token_version", "reason", "revoked_at"),
                  "Access tokens of the account issued before now are void (reason: deactivated, roles_removed, "
                  "password_reset, password_changed): every service refuses a token whose ver claim is lower "
                  "than token_version."),
        EventType("unit.created", "organization", ("activity", "payroll"), _UNIT,
                  "A unit (opd, bidang or subbidang) with its code, name and parent unit; also carries active."),
        EventType("unit.updated", "organization", ("activity", "payroll"), _UNIT,
                  "Full new state of a unit (renamed, or dissolved: active false)."),
        EventType("position.created", "organization", ("identity", "activity", "approval", "payroll"), _POSITION,
                  "A position (jabatan) with its parent position, kelas jabatan and unit."),
        EventType("position.updated", "organization", ("identity", "activity", "approval", "payroll"), _POSITION,
                  "Full new state of a position."),
        EventType("duty.published", "organization", ("activity", "approval"),
                  ("duty_id", "position_id", "description", "output_unit", "norma_waktu", "version"),
                  "A duty (uraian tugas) of a position with its norma waktu in minutes per unit of output."),
        EventType("duty.retired", "organization", ("activity", "approval"),
                  ("duty_id", "position_id", "version"),
                  "A duty no longer accepts new entries."),
        EventType("activity.submitted", "activity", ("approval",),
                  ("entry_id", "employee_id", "date", "start_time", "end_time", "duty_id", "duty_description",
                   "volume", "output_unit", "credited_minutes", "description", "version"),
                  "An employee submitted a daily activity entry for validation."),
        EventType("activity.withdrawn", "activity", ("approval",),
                  ("entry_id", "employee_id", "date", "version"),
                  "The employee withdrew a pending entry (a request: approval confirms it with "
                  "activity.change_accepted, unless the supervisor decided first)."),
        EventType("activity.change_accepted", "approval", ("activity",),
                  ("entry_id", "employee_id", "version", "status"),
                  "Approval took the employee's change of a pending entry (a revision, status pending, or a "
                  "withdrawal, status withdrawn) at this version: no decision on an earlier version will come. "
                  "A change that arrives after the supervisor approved or rejected is not taken and gets no "
                  "answer but that decision, which stands."),
        EventType("activity.approved", "approval", ("activity", "payroll"), _DECISION,
                  "The supervisor approved an entry; its credited minutes count. Final: approval takes no "
                  "later change of the entry."),
        EventType("activity.rejected", "approval", ("activity", "payroll"), _DECISION + ("reason",),
                  "The supervisor rejected an entry (reason mandatory). Final but for an appeal."),
        EventType("activity.returned", "approval", ("activity", "payroll"), _DECISION + ("reason",),
                  "The supervisor returned an entry for revision (reason mandatory)."),
        EventType("appeal.filed", "approval", ("activity",),
                  ("appeal_id", "entry_ids", "employee_id", "filed_at", "version"),
                  "An employee appealed rejected entries."),
        EventType("appeal.decided", "approval", ("activity", "payroll"),
                  ("appeal_id", "entry_ids", "employee_id", "outcome", "decided_by", "decided_at", "version",
                   "entries"),
                  "An appeal was decided: upheld (rejection stands) or overturned (the minutes count). The one "
                  "announcement of an overturn: entries lists each entry with date, credited_minutes, "
                  "submission_version and its new version."),
        EventType("attendance.recorded", "activity", ("payroll",),
                  ("employee_id", "date", "codes", "deduction_pct", "version"),
                  "A day's attendance with its discipline codes and deduction (percent, decimal string)."),
        EventType("calendar.updated", "activity", ("payroll",),
                  ("year", "holidays", "collective_leave", "version"),
                  "BKD changed a year's work calendar: holidays and collective leave (cuti bersama) as "
                  "YYYY-MM-DD lists; also carries working_weekdays (ISO 1-7) and target_minutes_per_day."),
        EventType("tpp.period_locked", "payroll", ("activity", "approval"),
                  ("year", "month", "locked_at", "locked_by"),
                  "BPKAD locked a month: it never changes again."),
        EventType("tpp.deductions_updated", "payroll", ("activity",),
                  ("year", "deductions_pct", "policy_version"),
                  "BPKAD changed a year's discipline deduction table (percent per code, decimal strings) in "
                  "the TPP policy; activity prices attendance codes with the latest of each year."),
        EventType("tpp.correction_issued", "payroll", ("activity", "approval"),
                  ("correction_id", "employee_id", "year", "month", "for_year", "for_month", "amount", "cause"),
                  "A change to a locked month became a correction line in an open month."),
    ]
}


def consumed_by(service: str) -> list[str]:
    return sorted(name for name, e in CATALOGUE.items() if service in e.consumers)


def check_event(event_type: str, source: str, data: dict) -> None:
    """Refuse an event the catalogue does not know, from the wrong producer or missing fields."""
    spec = CATALOGUE.get(event_type)
    if spec is None:
        raise ValueError(f"unknown event type {event_type!r}; add it to ekinerja_common.events.CATALOGUE")
    if spec.producer != source:
        raise ValueError(f"{event_type} is published by {spec.producer}, not {source}")
    missing = [f for f in spec.required if f not in data]
    if missing:
        raise ValueError(f"{event_type} lacks fields {missing}")


def markdown_table() -> str:
    rows = ["| event | from | consumed by | data | meaning |", "|---|---|---|---|---|"]
    for e in CATALOGUE.values():
        rows.append(f"| `{e.name}` | {e.producer} | {', '.join(e.consumers)} | {', '.join(e.required)} | {e.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
