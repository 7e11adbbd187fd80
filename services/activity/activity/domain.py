"""Rules of a daily activity entry, free of any framework (DOMAIN.md "Daily activity").

Everything the rules need arrives as plain values (the duty, the placements, the employee's other
entries that day, whether the month is locked, today's date, the policy), so the same function
serves the preview, the submission and the unit tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Iterable, Mapping

from ekinerja_common.errors import Conflict, FieldErrors, Text, ValidationFailed

STATUSES = ("submitted", "approved", "rejected", "returned", "withdrawn")
# A withdrawn or rejected entry no longer claims its time slot or its minutes.
DEAD_STATUSES = ("withdrawn", "rejected")
DECISIONS = {"activity.approved": "approved", "activity.rejected": "rejected", "activity.returned": "returned"}


@dataclass(frozen=True)
class Policy:
    """The numbers of the regent regulation this service applies. They are policy data (DOMAIN.md:
    versioned by year, set by the agency); these defaults are the only place they are written."""

    submission_window_days: int = 5  # an entry for day D is accepted until D + 5 inclusive
    daily_ceiling_minutes: int = 450

    @classmethod
    def from_settings(cls, extra: Mapping[str, str]) -> "Policy":
        """Overrides from ``ACTIVITY_SUBMISSION_WINDOW_DAYS`` / ``ACTIVITY_DAILY_CEILING_MINUTES``
        until the yearly policy reaches this service as data."""
        base = cls()
        return cls(
            submission_window_days=int(extra.get("ACTIVITY_SUBMISSION_WINDOW_DAYS", base.submission_window_days)),
            daily_ceiling_minutes=int(extra.get("ACTIVITY_DAILY_CEILING_MINUTES", base.daily_ceiling_minutes)),
        )


@dataclass(frozen=True)
class Draft:
    """What the employee typed."""

    date: date
    start_time: time
    end_time: time
    duty_id: str
    volume: int
    description: str


@dataclass(frozen=True)
class Duty:
    duty_id: str
    position_id: str
    description: str
    output_unit: str
    norma_waktu: int
    retired: bool = False


@dataclass(frozen=True)
class Placement:
    position_id: str
    start_date: date
    end_date: date | None  # inclusive; None = still holds the post
    kind: str = "definitive"  # or "plt": acting holder, whose duties count the same


@dataclass(frozen=True)
class Slot:
    """Another live entry of the same employee on the same day."""

    start_time: time
    end_time: time
    credited_minutes: int


@dataclass(frozen=True)
class Facts:
    """What the database knows that the rules need."""

    duty: Duty | None
    placements: tuple[Placement, ...] = ()
    others: tuple[Slot, ...] = ()
    period_locked: bool = False


@dataclass(frozen=True)
class Assessment:
    credited_minutes: int | None
    errors: dict[str, Text] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def minutes_between(start: time, end: time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def credited_minutes(volume: int, norma_waktu: int, start: time, end: time) -> int:
    """The output's standard time, but never more than the time actually spent."""
    return max(0, min(volume * norma_waktu, minutes_between(start, end)))


def positions_on(placements: Iterable[Placement], day: date) -> set[str]:
    """Every post held on ``day``, definitive or Plt."""
    return {p.position_id for p in placements if p.start_date <= day and (p.end_date is None or day <= p.end_date)}


def _hhmm(t: time) -> str:
    return t.strftime("%H:%M")


def _check_date(errors: FieldErrors, day: date, today: date, locked: bool, policy: Policy) -> None:
    if day > today:
        errors.add("date", "Tanggal kegiatan tidak boleh di masa depan", "The activity date cannot be in the future")
    elif locked:
        errors.add("date", "Periode bulan ini sudah dikunci oleh BPKAD", "This month's period has been locked by BPKAD")
    elif today > day + timedelta(days=policy.submission_window_days):
        n = policy.submission_window_days
        errors.add("date", f"Batas waktu pengisian ({n} hari setelah tanggal kegiatan) sudah lewat",
                   f"The submission window ({n} days after the activity date) has passed")


def _check_duty(errors: FieldErrors, duty: Duty | None, day: date, placements: Iterable[Placement]) -> None:
    if duty is None:
        errors.add("duty_id", "Uraian tugas tidak dikenal", "Unknown duty")
    elif duty.retired:
        errors.add("duty_id", "Uraian tugas ini sudah tidak berlaku", "This duty has been retired")
    elif duty.position_id not in positions_on(placements, day):
        errors.add("duty_id", "Uraian tugas ini bukan tugas jabatan Anda pada tanggal tersebut",
                   "This duty does not belong to your position on that date")


def _check_day_load(errors: FieldErrors, draft: Draft, credited: int, others: Iterable[Slot], policy: Policy) -> None:
    others = list(others)
    clash = next((o for o in others if draft.start_time < o.end_time and o.start_time < draft.end_time), None)
    if clash is not None:
        span = f"{_hhmm(clash.start_time)}–{_hhmm(clash.end_time)}"
        errors.add("start_time", f"Waktu kegiatan bertumpang tindih dengan kegiatan lain ({span})",
                   f"The time overlaps another entry ({span})")
    total = credited + sum(o.credited_minutes for o in others)
    if total > policy.daily_ceiling_minutes:
        errors.add("credited_minutes",
                   f"Jumlah menit hari ini menjadi {total}, melebihi batas harian {policy.daily_ceiling_minutes} menit",
                   f"The day's total would be {total} minutes, above the daily ceiling of {policy.daily_ceiling_minutes}")


def assess(draft: Draft, facts: Facts, today: date, policy: Policy = Policy()) -> Assessment:
    """Credited minutes of ``draft`` and every rule it breaks, all at once."""
    errors = FieldErrors()
    times_ok = draft.end_time > draft.start_time
    if not times_ok:
        errors.add("end_time", "Jam selesai harus setelah jam mulai (pada hari yang sama)",
                   "The end time must be after the start time (on the same day)")
    if draft.volume <= 0:
        errors.add("volume", "Volume harus bilangan bulat lebih dari 0", "Volume must be a whole number above 0")
    if not draft.description.strip():
        errors.add("description", "Uraian kegiatan wajib diisi", "Description is required")
    _check_date(errors, draft.date, today, facts.period_locked, policy)
    _check_duty(errors, facts.duty, draft.date, facts.placements)
    credited = None
    if times_ok and facts.duty is not None:
        credited = credited_minutes(max(draft.volume, 0), facts.duty.norma_waktu, draft.start_time, draft.end_time)
    if times_ok:
        _check_day_load(errors, draft, credited or 0, facts.others, policy)
    return Assessment(credited, errors.errors)


def check_withdrawable(status: str) -> None:
    """Only an entry the supervisor has not decided yet can be taken back."""
    if status != "submitted":
        raise Conflict("not_withdrawable",
                       Text("Hanya kegiatan yang masih menunggu validasi yang dapat ditarik",
                            "Only an entry still awaiting validation can be withdrawn"))
