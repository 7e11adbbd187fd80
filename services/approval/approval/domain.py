"""Rules of supervisor validation, deadlines and appeals, free of any framework (DOMAIN.md
"Supervisor validation and deadlines", "Appeals (keberatan) and the appeals board (majelis
banding)"). Who supervises whom is the rule every service shares, ``ekinerja_common.supervision``."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from typing import Any, Mapping, Protocol, Sequence

from ekinerja_common.errors import Conflict, DomainError, FieldErrors, Forbidden, Text, ValidationFailed

PENDING, WITHDRAWN, REJECTED, OVERTURNED = "pending", "withdrawn", "rejected", "overturned"
# decision (the URL verb) -> the item's status afterwards
STATUS_AFTER = {"approve": "approved", "reject": "rejected", "return": "returned"}
REASON_REQUIRED = frozenset({"reject", "return"})
# Statuses whose credited minutes count for the month: approved by the supervisor, or a rejection
# an appeal overturned (DOMAIN.md: "overturned (the minutes count)").
COUNTED = frozenset({"approved", OVERTURNED})
# Settled for good: no later change of the employee's reopens these (an appeal may overturn a
# rejection). A return is not final: a newer change replaces it.
FINAL = frozenset({"approved", REJECTED, OVERTURNED})
# The decision row an overturning appeal leaves in the entry's history.
OVERTURN = "overturn"
MAX_BULK = 1000


def check_reason(decision: str, reason: str | None) -> str | None:
    """Rejection and return need a written reason (DOMAIN.md); approval takes none."""
    cleaned = (reason or "").strip()
    if decision in REASON_REQUIRED and not cleaned:
        raise ValidationFailed({"reason": Text("Alasan wajib diisi untuk menolak atau mengembalikan kegiatan",
                                               "A reason is required to reject or return an entry")})
    return cleaned or None


def authority_problem(employee_id: str, supervisor_id: str | None, caller_id: str | None,
                      escalated_to: str | None = None) -> Forbidden | None:
    """Why ``caller_id`` may not decide this employee's entry, or None. The supervisor on the
    entry's date decides; once the deadline escalated the entry, so may the supervisor's own
    supervisor (``escalated_to``). Nobody decides their own entry, whatever post they hold."""
    if caller_id is not None and caller_id == employee_id:
        return Forbidden(Text("Anda tidak dapat memvalidasi kegiatan Anda sendiri", "You cannot decide your own entry"),
                         "own_entry")
    if caller_id is None or caller_id not in (supervisor_id, escalated_to):
        return Forbidden(Text("Anda bukan atasan langsung pegawai ini pada tanggal kegiatan",
                              "You are not this employee's supervisor on the date of the entry"), "not_supervisor")
    return None


def state_problem(status: str, period_locked: bool) -> Conflict | None:
    """Why an entry in this state cannot be decided by its supervisor, or None."""
    if status == WITHDRAWN:
        return Conflict("withdrawn", Text("Kegiatan ini sudah ditarik kembali oleh pegawai",
                                          "The employee has withdrawn this entry"))
    if status != PENDING:
        return Conflict("already_decided", Text("Kegiatan ini sudah divalidasi", "This entry has already been decided"))
    if period_locked:
        return Conflict("period_locked", Text("Periode TPP bulan ini sudah dikunci", "The TPP period of this month is locked"))
    return None


def check_may_decide(employee_id: str, supervisor_id: str | None, caller_id: str | None,
                     escalated_to: str | None = None) -> None:
    problem = authority_problem(employee_id, supervisor_id, caller_id, escalated_to)
    if problem is not None:
        raise problem


def check_decidable(status: str, period_locked: bool) -> None:
    problem = state_problem(status, period_locked)
    if problem is not None:
        raise problem


ENTRY_NOT_FOUND = Text("Kegiatan tidak ditemukan", "Entry not found")


def check_entry_ids(entry_ids: Sequence[str], field: str = "entry_ids") -> None:
    """A list of entries names each at most once (a repeated id is almost always a client bug,
    and deciding it "twice" in one request has no meaning)."""
    errors = FieldErrors()
    first: dict[str, int] = {}
    for n, entry_id in enumerate(entry_ids):
        if entry_id in first:
            errors.add(f"{field}.{n}", f"Sama dengan {field}.{first[entry_id]}", f"Duplicate of {field}.{first[entry_id]}")
        else:
            first[entry_id] = n
    errors.raise_if_any()


class BulkRefused(DomainError):
    """A bulk decision of which at least one entry cannot be decided: nothing was decided. Every
    refused entry is listed (``fields`` "entry_ids.<index>" with the message; ``entries`` with the
    machine-readable code of each), so the supervisor fixes the list at once.

    The status is the gravest class present: 403 when any entry is not the caller's to decide,
    else 422 when an id names no entry, else 409 (already decided, withdrawn, locked month)."""

    def __init__(self, problems: Sequence[tuple[int, str, DomainError]]):
        statuses = {p.status for _, _, p in problems}
        status = 403 if 403 in statuses else 422 if 404 in statuses else 409
        super().__init__(
            "decisions_refused",
            Text(f"Tidak ada yang diputuskan: {len(problems)} kegiatan tidak dapat diputuskan",
                 f"Nothing was decided: {len(problems)} entries cannot be decided"),
            {f"entry_ids.{n}": p.text for n, _, p in problems}, status=status)
        self.entries = [{"index": n, "entry_id": entry_id, "code": p.code} for n, entry_id, p in problems]

    def as_json(self) -> dict:
        out = super().as_json()
        out["error"]["entries"] = self.entries
        return out


# -- policy ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ValidationRules:
    """BKD's rules for validation deadlines and appeals, one document per year (DOMAIN.md: policy
    data, never a constant in code). The defaults below are what a year uses until admin_bkd
    stores its own; each cites its source."""

    # "by the 5th day of the following month" (DOMAIN.md, Supervisor validation and deadlines).
    # At most 28 so that every month has that day.
    validation_deadline_day: int = 5
    # "files an appeal ... within 14 days" of the rejection (PP 30/2019 art. 59 model).
    appeal_window_days: int = 14
    # Days the first level (the supervisor's supervisor) has before the board takes the appeal.
    first_level_days: int = 10
    # The board hears an appeal at once when the rejecting supervisor rejected more than this
    # percentage of at least ``board_min_decisions`` decisions on the month's entries.
    board_rejection_rate_pct: int = 50
    board_min_decisions: int = 10

    def as_json(self) -> dict[str, int]:
        return asdict(self)


DEFAULT_POLICY = ValidationRules()

_POLICY_BOUNDS = {
    "validation_deadline_day": (1, 28),
    "appeal_window_days": (1, 365),
    "first_level_days": (1, 90),
    "board_rejection_rate_pct": (0, 100),
    "board_min_decisions": (1, 100_000),
}


def check_policy(values: Mapping[str, Any]) -> ValidationRules:
    """A full policy document, every field checked, every bad one reported."""
    errors = FieldErrors()
    for f in fields(ValidationRules):
        low, high = _POLICY_BOUNDS[f.name]
        value = values.get(f.name)
        if not isinstance(value, int) or isinstance(value, bool):
            errors.add(f.name, "Wajib diisi dengan bilangan bulat", "Required, a whole number")
        elif not low <= value <= high:
            errors.add(f.name, f"Harus antara {low} dan {high}", f"Must be between {low} and {high}")
    errors.raise_if_any()
    return ValidationRules(**{f.name: values[f.name] for f in fields(ValidationRules)})


# -- deadlines ------------------------------------------------------------------------------------

def first_of_next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def first_of_previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def validation_deadline(entry_date: date, deadline_day: int) -> date:
    """The last day on which the supervisor validates an entry in time: the policy's day of the
    month after the entry's month."""
    return first_of_next_month(entry_date).replace(day=deadline_day)


def late_before(today: date, previous_month_deadline_day: int) -> date:
    """Entries dated before the returned day are past their deadline on ``today``.

    Last month's entries are late once today is past their deadline day (the policy of last
    month's year); anything older is late whatever the policy says, since the deadline day is at
    most the 28th of the following month."""
    if today.day > previous_month_deadline_day:
        return today.replace(day=1)
    return first_of_previous_month(today)


# -- appeals --------------------------------------------------------------------------------------

FIRST_LEVEL, BOARD = "first_level", "board"
OPEN, CLOSED = "open", "decided"
UPHELD = "upheld"
OUTCOMES = (UPHELD, OVERTURNED)
# Why the board hears an appeal.
BOARD_NO_FIRST_LEVEL = "no_first_level"  # nobody sits above the rejecting supervisor
BOARD_REJECTION_RATE = "rejection_rate"  # the supervisor's rejection rate is abnormal
BOARD_DEADLINE = "deadline"  # the first level did not decide in time
BOARD_EMPLOYEE = "employee"  # the employee escalated


class AppealState(Protocol):
    employee_id: str
    original_decider_id: str
    first_level_decider_id: str | None
    level: str
    status: str
    outcome: str | None
    decided_on: date | None


APPEAL_NOT_FOUND = Text("Keberatan tidak ditemukan", "Appeal not found")


def within_window(start: date, today: date, window_days: int) -> bool:
    """Whether ``today`` is at most ``window_days`` after ``start`` (the window's last day counts)."""
    return today <= start + timedelta(days=window_days)


def rejection_rate_abnormal(rejected: int, total: int, policy: ValidationRules) -> bool:
    """More than the policy's percentage of at least its minimum number of decisions (compared in
    integers: no rounding decides a borderline case)."""
    return total >= policy.board_min_decisions and rejected * 100 > policy.board_rejection_rate_pct * total


def check_text(field: str, value: str | None, id_text: str, en_text: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise ValidationFailed({field: Text(id_text, en_text)})
    return cleaned


def conflicted(member_id: str, appeal: AppealState) -> bool:
    """A board member never sits on their own appeal, nor on one against their own decision: the
    rejection appealed, or the first level's (which the board reviews)."""
    return member_id in (appeal.employee_id, appeal.original_decider_id, appeal.first_level_decider_id)


def check_open(appeal: AppealState) -> None:
    if appeal.status != OPEN:
        raise Conflict("appeal_decided", Text("Keberatan ini sudah diputus", "This appeal has already been decided"))


def check_may_escalate(appeal: AppealState, today: date, policy: ValidationRules) -> None:
    """The employee may take an appeal to the board while the first level has not decided it, or
    within the appeal window after the first level upheld the rejection. The board's decision is
    final, and an overturned rejection leaves nothing to appeal."""
    if appeal.level == BOARD:
        if appeal.status == OPEN:
            raise Conflict("already_at_board", Text("Keberatan ini sudah ditangani majelis banding",
                                                    "The appeals board already hears this appeal"))
        raise Conflict("appeal_final", Text("Putusan majelis banding bersifat final", "The board's decision is final"))
    if appeal.status == OPEN:
        return
    if appeal.outcome != UPHELD:
        raise Conflict("appeal_final", Text("Keberatan ini sudah dikabulkan", "This appeal was already granted"))
    assert appeal.decided_on is not None
    if not within_window(appeal.decided_on, today, policy.appeal_window_days):
        raise Conflict("window_closed", Text(
            f"Batas waktu {policy.appeal_window_days} hari untuk mengajukan ke majelis banding telah lewat",
            f"The {policy.appeal_window_days}-day window to take this appeal to the board has closed"))
