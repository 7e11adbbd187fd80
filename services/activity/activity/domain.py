"""Rules of a daily activity entry, free of any framework (DOMAIN.md "Daily activity").

Everything the rules need arrives as plain values (the duty, the placements, the employee's other
entries that day, whether the month is locked, today's date, the policy), so the same function
serves the preview, the submission and the unit tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping

from ekinerja_common.errors import Conflict, FieldErrors, Text, Unrecoverable, ValidationFailed

STATUSES = ("draft", "submitted", "approved", "rejected", "returned", "withdrawn", "overturned")
# A withdrawn or rejected entry no longer claims its time slot or its minutes. A draft does claim
# its slot: it is a submission in the making, and the day's list is checked as a whole.
# "overturned" = rejected, then the appeal overturned the rejection: the minutes count.
DEAD_STATUSES = ("withdrawn", "rejected")
STATUS_OF_DECISION_EVENT = {"activity.approved": "approved", "activity.rejected": "rejected", "activity.returned": "returned"}
# The statuses whose version approval may still decide (this service does not know yet).
DECIDABLE = ("submitted",)
# What the employee may still change: nothing the supervisor (or the appeal) has settled.
EDITABLE = ("draft", "submitted", "returned", "withdrawn")
SUBMITTABLE = ("draft", "returned", "withdrawn")
# Which figure of the month an entry's minutes count in (GET /me/month). Withdrawn counts nowhere.
MONTH_BUCKETS = {"draft": "draft", "submitted": "pending", "approved": "approved", "overturned": "approved",
                 "returned": "returned", "rejected": "rejected"}


@dataclass(frozen=True)
class EntryRules:
    """The numbers of the regent regulation this service applies. They are policy data (DOMAIN.md:
    versioned by year, set by the agency); these defaults are the only place they are written.

    The submission window is BKD's yearly policy data (``PUT /entry-policies/{year}``, audited):
    the stored year's value reaches the rules as ``Facts.submission_window_days``; the default
    here holds for a year BKD has not set. It is deliberately not an environment variable any
    more: changing it must be a recorded decision, not a restart."""

    submission_window_days: int = 5  # an entry for day D is accepted until D + 5 inclusive
    daily_ceiling_minutes: int = 450
    # A returned entry may be revised and resubmitted until R + 5 (R = the day it was returned),
    # even when the activity date's own window has passed: the delay was the supervisor's.
    revision_window_days: int = 5
    evidence_max_bytes: int = 5 * 1024 * 1024
    evidence_max_files: int = 5  # per entry

    @classmethod
    def from_settings(cls, extra: Mapping[str, str]) -> "EntryRules":
        """Overrides from ``ACTIVITY_DAILY_CEILING_MINUTES`` and friends until the yearly policy
        carries them as data too (the submission window already does)."""
        base = cls()
        return cls(
            daily_ceiling_minutes=int(extra.get("ACTIVITY_DAILY_CEILING_MINUTES", base.daily_ceiling_minutes)),
            revision_window_days=int(extra.get("ACTIVITY_REVISION_WINDOW_DAYS", base.revision_window_days)),
            evidence_max_bytes=int(extra.get("ACTIVITY_EVIDENCE_MAX_BYTES", base.evidence_max_bytes)),
            evidence_max_files=int(extra.get("ACTIVITY_EVIDENCE_MAX_FILES", base.evidence_max_files)),
        )


MAX_SUBMISSION_WINDOW_DAYS = 60  # beyond two months an entry is no longer a daily record


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
    """Another claim of the same employee on the same day: a live entry, or a version of one that
    approval may still decide (slots of one ``entry_id`` are alternatives: only one survives)."""

    start_time: time
    end_time: time
    credited_minutes: int
    entry_id: str | None = None


@dataclass(frozen=True)
class Facts:
    """What the database knows that the rules need."""

    duty: Duty | None
    placements: tuple[Placement, ...] = ()
    others: tuple[Slot, ...] = ()
    period_locked: bool = False
    # Set for the revision of a returned entry that keeps its date: the last day it may be
    # resubmitted although the activity date's window has passed.
    revision_deadline: date | None = None
    # The activity date's year's window as BKD stored it; None: the EntryRules default.
    submission_window_days: int | None = None
    # BKD's late-entry permission covering this person and activity date: the last day it may be
    # used to enter the date although its window has passed (None: no permission).
    late_entry_until: date | None = None

    def window_days(self, policy: "EntryRules") -> int:
        return policy.submission_window_days if self.submission_window_days is None else self.submission_window_days

    def waived_until(self) -> date | None:
        """The last day the window does not apply: a revision's own deadline or a permission."""
        days = [d for d in (self.revision_deadline, self.late_entry_until) if d is not None]
        return max(days) if days else None


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


def _check_date(errors: FieldErrors, day: date, today: date, facts: Facts, policy: EntryRules) -> None:
    waived_until = facts.waived_until()
    n = facts.window_days(policy)
    if day > today:
        errors.add("date", "Tanggal kegiatan tidak boleh di masa depan", "The activity date cannot be in the future")
    elif facts.period_locked:
        errors.add("date", "Periode bulan ini sudah dikunci oleh BPKAD", "This month's period has been locked by BPKAD")
    elif waived_until is not None and today <= waived_until:
        pass
    elif today > day + timedelta(days=n):
        errors.add("date", f"Batas waktu pengisian ({n} hari setelah tanggal kegiatan) sudah lewat; "
                           "minta izin pengisian susulan kepada BKD bila ada alasan yang sah",
                   f"The submission window ({n} days after the activity date) has passed; "
                   "ask BKD for a late-entry permission if there is a valid reason")


def _check_duty(errors: FieldErrors, duty: Duty | None, day: date, placements: Iterable[Placement]) -> None:
    if duty is None:
        errors.add("duty_id", "Uraian tugas tidak dikenal", "Unknown duty")
    elif duty.retired:
        errors.add("duty_id", "Uraian tugas ini sudah tidak berlaku", "This duty has been retired")
    elif duty.position_id not in positions_on(placements, day):
        errors.add("duty_id", "Uraian tugas ini bukan tugas jabatan Anda pada tanggal tersebut",
                   "This duty does not belong to your position on that date")


def _claimed_minutes(others: Iterable[Slot]) -> int:
    """The day's minutes already claimed: an entry with several possible versions counts with its
    largest (whichever approval settles on must fit under the ceiling)."""
    largest: dict[object, int] = {}
    for n, o in enumerate(others):
        key = o.entry_id if o.entry_id is not None else n
        largest[key] = max(largest.get(key, 0), o.credited_minutes)
    return sum(largest.values())


def _check_day_load(errors: FieldErrors, draft: Draft, credited: int, others: Iterable[Slot], policy: EntryRules) -> None:
    others = list(others)
    clash = next((o for o in others if draft.start_time < o.end_time and o.start_time < draft.end_time), None)
    if clash is not None:
        span = f"{_hhmm(clash.start_time)}–{_hhmm(clash.end_time)}"
        errors.add("start_time", f"Waktu kegiatan bertumpang tindih dengan kegiatan lain ({span})",
                   f"The time overlaps another entry ({span})")
    total = credited + _claimed_minutes(others)
    if total > policy.daily_ceiling_minutes:
        errors.add("credited_minutes",
                   f"Jumlah menit hari ini menjadi {total}, melebihi batas harian {policy.daily_ceiling_minutes} menit",
                   f"The day's total would be {total} minutes, above the daily ceiling of {policy.daily_ceiling_minutes}")


def assess(draft: Draft, facts: Facts, today: date, policy: EntryRules = EntryRules()) -> Assessment:
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
    _check_date(errors, draft.date, today, facts, policy)
    _check_duty(errors, facts.duty, draft.date, facts.placements)
    credited = None
    if times_ok and facts.duty is not None:
        credited = credited_minutes(max(draft.volume, 0), facts.duty.norma_waktu, draft.start_time, draft.end_time)
    if times_ok:
        _check_day_load(errors, draft, credited or 0, facts.others, policy)
    return Assessment(credited, errors.errors)


def assess_batch(drafts: list[Draft], facts: list[Facts], today: date, policy: EntryRules = EntryRules()) -> list[Assessment]:
    """A day's list entered at once: each item is judged as if the ones before it in the list had
    been submitted just before it, so overlaps and the daily ceiling count the list's own items
    too. Every item is judged (none stops at the first bad one), so every error can be shown."""
    results: list[Assessment] = []
    for i, (draft, fact) in enumerate(zip(drafts, facts)):
        earlier = tuple(
            Slot(d.start_time, d.end_time, r.credited_minutes or 0)
            for d, r in zip(drafts[:i], results)
            if d.date == draft.date and d.end_time > d.start_time
        )
        results.append(assess(draft, replace(fact, others=fact.others + earlier), today, policy))
    return results


def check_withdrawable(status: str) -> None:
    """Only an entry the supervisor has not decided yet can be taken back."""
    if status != "submitted":
        raise Conflict("not_withdrawable",
                       Text("Hanya kegiatan yang masih menunggu validasi yang dapat ditarik",
                            "Only an entry still awaiting validation can be withdrawn"))


def check_editable(status: str) -> None:
    """Approved, rejected and overturned entries are settled: their record never changes again."""
    if status not in EDITABLE:
        raise Conflict("not_editable",
                       Text("Kegiatan yang sudah divalidasi tidak dapat diubah",
                            "An entry that has been decided can no longer be changed"))


def check_submittable(status: str) -> None:
    if status not in SUBMITTABLE:
        raise Conflict("not_submittable",
                       Text("Hanya draf, kegiatan yang dikembalikan atau yang ditarik yang dapat diajukan",
                            "Only a draft, a returned or a withdrawn entry can be submitted"))


def check_deletable(status: str) -> None:
    # Anything once announced to approval stays, so that both services keep the same history.
    if status != "draft":
        raise Conflict("not_deletable",
                       Text("Hanya draf yang dapat dihapus", "Only a draft can be deleted"))


def next_change_version(version: int, status: str) -> int:
    """The version a change of an announced entry (a resubmission, an edit of a pending entry, a
    withdrawal) is announced with.

    Approval numbers its decision on submission v as v + 1. While the entry is pending, approval
    may have decided it already without this service knowing yet; the change must then outrank a
    return (so approval takes the change over it), hence the jump of 2. From any other state one
    step is enough: the last decision, if any, is already known here."""
    return version + (2 if status == "submitted" else 1)


# Decisions approval never reopens: once one exists, approval takes no later change of the entry
# (an appeal may still overturn a rejection). A return is not final: a newer change replaces it.
FINAL_DECISIONS = frozenset({"approved", "rejected", "overturned"})


@dataclass(frozen=True)
class Settlement:
    """What one of approval's decisions means for the entry as this service holds it.

    ``apply``: take the decision. ``restore``: first put back the content of that submission (a
    claim), because the employee changed or withdrew the entry after announcing it and approval
    decided before the change arrived. ``superseded``: which change of the employee's that undid
    ("edit" / "withdraw"). ``release_through``: claims up to this version are over (approval
    will never decide them); None = all of them."""

    apply: bool
    restore: int | None = None
    superseded: str | None = None
    release_through: int | None = None


class DecisionDamage(Unrecoverable):
    """A decision about a version this service never announced: damaged data, not a race, so
    the consumer dead-letters it at once rather than retrying."""


def settle(decided: str, version: int, submission_version: int, *, status: str, decision_version: int,
           submitted_version: int) -> Settlement:
    """Who owns an entry once approval decided: **approval's decision stands**.

    Approval takes no change after an approval or a rejection, and this service follows it: an
    edit or withdrawal the employee made meanwhile is superseded and the decided submission's
    content comes back. A return, though, yields to a newer change (approval re-queues it), so a
    return on replaced content is ignored here. Every service so ends in the same state whatever
    the order in which the employee's changes and the supervisor's decisions cross."""
    if version <= decision_version:
        return Settlement(apply=False, release_through=submission_version)  # a late, older decision
    if status == "draft" or submission_version > submitted_version:
        raise DecisionDamage(f"a decision on submission {submission_version}, last announced {submitted_version}")
    replaced = status == "withdrawn" or (status == "submitted" and submission_version < submitted_version)
    if not replaced:
        return Settlement(apply=True, release_through=None if decided in FINAL_DECISIONS else submission_version)
    if decided not in FINAL_DECISIONS:
        return Settlement(apply=False, release_through=submission_version)
    return Settlement(apply=True, restore=submission_version,
                      superseded="withdraw" if status == "withdrawn" else "edit", release_through=None)


SUPERSEDED = {
    "edit": Text("Atasan sudah memutus kegiatan ini sebelum perubahan Anda diterima, sehingga perubahan "
                 "tidak berlaku; yang diputus adalah isi sebelumnya.",
                 "Your supervisor decided this entry before your change arrived, so the change did not take "
                 "effect; the earlier content was decided."),
    "withdraw": Text("Atasan sudah memutus kegiatan ini sebelum penarikan Anda diterima, sehingga penarikan "
                     "tidak berlaku.",
                     "Your supervisor decided this entry before your withdrawal arrived, so the withdrawal did "
                     "not take effect."),
}


def period_locked_error() -> Conflict:
    return Conflict("period_locked",
                    Text("Periode bulan ini sudah dikunci oleh BPKAD; data bulan tersebut tidak dapat diubah",
                         "This month has been locked by BPKAD; its data can no longer be changed"))


# -- the month at a glance (GET /me/month) ----------------------------------------------------

_CENT = Decimal("0.01")


def productivity_pct(approved_minutes: int, target_minutes: int) -> Decimal | None:
    """min(approved, target) / target, in percent (DOMAIN.md); None when the month has no
    working day and so no target."""
    if target_minutes <= 0:
        return None
    share = Decimal(min(approved_minutes, target_minutes)) / Decimal(target_minutes) * 100
    return share.quantize(_CENT, ROUND_HALF_UP)


def discipline_pct(deduction_sum: Decimal) -> Decimal:
    """max(0, 100 - sum of the month's deductions), in percent (DOMAIN.md)."""
    return max(Decimal(0), Decimal(100) - deduction_sum).quantize(_CENT, ROUND_HALF_UP)
