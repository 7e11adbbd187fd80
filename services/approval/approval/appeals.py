"""Service layer of appeals (keberatan) and the appeals board (majelis banding), DOMAIN.md
"Appeals (keberatan) and the appeals board".

An appeal concerns the rejections of one supervisor (the *original decider*). Its first level is
that supervisor's own supervisor on the entries' date; the board hears it when nobody sits there,
when the supervisor's rejection rate is abnormal (at filing), when the first level lets its
deadline pass (the escalation job) or when the employee escalates. Any one seated board member
decides for the board (see docs/api.md, "Appeals": the quorum choice). Every step is a row of
the append-only trail.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable, Sequence

from sqlalchemy import and_, exists, false, or_, select, true, tuple_
from sqlalchemy.orm import Session

from ekinerja_common.auth import Principal
from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import Conflict, DomainError, FieldErrors, Forbidden, NotFound, Text, ValidationFailed
from ekinerja_common.uow import UnitOfWork
from ekinerja_common import evidence
from ekinerja_common.clock import wib_date

from . import domain, repository, services
from .domain import APPEAL_NOT_FOUND, BOARD, CLOSED, FIRST_LEVEL, OPEN, OVERTURNED
from .orm import (Appeal, AppealComment, AppealDecision, AppealEntry, AppealEvidence, AppealTrail, BoardAudit, BoardMember,
                  DeciderMonth, Decision, Employee, ValidationItem, new_id)

# Trail steps.
FILED, COMMENTED, EVIDENCE_ADDED, ESCALATED, DECIDED = "filed", "commented", "evidence_added", "escalated", "decided"

# How the caller stands to an appeal.
APPELLANT, ORIGINAL, FIRST, SEATED, ADMIN = "appellant", "original_decider", "first_level", "board", "admin"
READERS = frozenset({APPELLANT, ORIGINAL, FIRST, SEATED, ADMIN})
# The trail: the employee, the deciders and BKD (the original supervisor reads the appeal they
# are asked to answer, not its audit trail).
TRAIL_READERS = frozenset({APPELLANT, FIRST, SEATED, ADMIN})


def _trail(session: Session, appeal: Appeal, step: str, actor_id: str | None, details: dict[str, Any],
           request_id: str | None) -> None:
    session.add(AppealTrail(appeal_id=appeal.id, step=step, level=appeal.level, actor_id=actor_id, at=utcnow(),
                            details=json.dumps(details, sort_keys=True, ensure_ascii=False), request_id=request_id))


def entry_ids_of(session: Session, appeal_id: str) -> list[str]:
    return list(session.scalars(select(AppealEntry.entry_id).where(AppealEntry.appeal_id == appeal_id)
                                .order_by(AppealEntry.entry_date, AppealEntry.entry_id)))


# -- filing ------------------------------------------------------------------------------------------

NOT_YOURS = ("Kegiatan tidak ditemukan", "Entry not found")


def _latest_rejections(session: Session, entry_ids: Sequence[str]) -> dict[str, Decision]:
    """The rejection each entry stands under (its latest reject decision)."""
    out: dict[str, Decision] = {}
    for d in session.scalars(select(Decision).where(repository.in_ids(session, Decision.entry_id, entry_ids), Decision.decision == "reject")
                             .order_by(Decision.decided_at, Decision.version)):
        out[d.entry_id] = d
    return out


def file_appeals(uow: UnitOfWork, caller_id: str, *, entry_ids: Sequence[str] | None, month: tuple[int, int] | None,
                 reasons: str, today: date, request_id: str | None = None) -> list[Appeal]:
    """File appeals against rejections of the caller's entries: the listed ones, or all of a
    month's still unappealed rejections within the window. One appeal per rejecting supervisor
    (and first level), since each has its own first level and its own comments; usually one."""
    s = uow.session
    reasons = domain.check_text("reasons", reasons, "Alasan keberatan wajib diisi", "Reasons for the appeal are required")
    policy = services.policy_for(s, today.year)  # the filing's: board rates, first-level days
    if entry_ids is not None:
        domain.check_entry_ids(entry_ids)
        wanted = list(entry_ids)
    else:
        assert month is not None
        first = date(month[0], month[1], 1)
        wanted = list(s.scalars(select(ValidationItem.entry_id).where(
            ValidationItem.employee_id == caller_id, ValidationItem.status == domain.REJECTED,
            ValidationItem.date >= first, ValidationItem.date < domain.first_of_next_month(first))))
    # Locked first, then checked: a concurrent filing of the same entry waits here and then sees
    # this one's appeal, instead of both passing the check.
    items = services.lock_items(s, wanted)
    rejections = _latest_rejections(s, list(items))
    appealed = set(s.scalars(select(AppealEntry.entry_id).where(repository.in_ids(s, AppealEntry.entry_id, items)))) if items else set()
    # The window is the one of the rejection's year: a rejection of 20 December under a 30-day
    # window stays appealable in January, whatever the next year's policy says.
    rejected_on = {entry_id: wib_date(r.decided_at) for entry_id, r in rejections.items()}
    policies = services.policies_for(s, {d.year for d in rejected_on.values()})

    def problem(item: ValidationItem | None) -> tuple[str, str] | None:
        if item is None or item.employee_id != caller_id:
            return NOT_YOURS
        if item.entry_id in appealed:
            return "Kegiatan ini sudah diajukan keberatan", "This entry has already been appealed"
        if item.status != domain.REJECTED or item.entry_id not in rejections:
            return "Hanya kegiatan yang ditolak yang dapat diajukan keberatan", "Only rejected entries can be appealed"
        on = rejected_on[item.entry_id]
        window = policies[on.year].appeal_window_days
        if not domain.within_window(on, today, window):
            return (f"Batas waktu keberatan ({window} hari setelah penolakan) telah lewat",
                    f"The appeal window ({window} days after the rejection) has closed")
        return None

    chosen: list[ValidationItem] = []
    if entry_ids is not None:
        errors, unknown = FieldErrors(), False
        for n, entry_id in enumerate(entry_ids):
            p = problem(items.get(entry_id))
            if p:
                errors.add(f"entry_ids.{n}", *p)
                unknown = unknown or p is NOT_YOURS
            else:
                chosen.append(items[entry_id])
        if unknown:
            # Someone else's entry is as good as none: 404, every problem still listed.
            raise DomainError("not_found", Text("Kegiatan tidak ditemukan", "Entry not found"), errors.errors, status=404)
        errors.raise_if_any("appeal_invalid")
    else:
        chosen = sorted((i for i in items.values() if problem(i) is None), key=lambda i: (i.date, i.entry_id))
        if not chosen:
            raise ValidationFailed({"month": Text("Tidak ada kegiatan ditolak bulan ini yang masih dapat diajukan keberatan",
                                                  "No rejected entry of this month can still be appealed")}, "appeal_invalid")

    # The first level is whoever stands above the rejecting decider in the employee's line on the
    # entry's date (the shared supervisor rule): the supervisor's supervisor, or the next one up
    # when the decider was the one the entry had escalated to; the board when there is nobody.
    lines = repository.lines_for(s, {(caller_id, i.date) for i in chosen}, levels=3)
    groups: dict[tuple[str, str | None], list[ValidationItem]] = defaultdict(list)
    for item in chosen:
        decider = rejections[item.entry_id].decided_by
        first_level = repository.above(lines[(caller_id, item.date)], decider)
        groups[(decider, first_level if first_level != caller_id else None)].append(item)
    stats = {(r.decided_by, r.year, r.month): r for r in s.scalars(select(DeciderMonth).where(
        tuple_(DeciderMonth.decided_by, DeciderMonth.year, DeciderMonth.month).in_(
            {(rejections[i.entry_id].decided_by, i.date.year, i.date.month) for i in chosen})))}

    now = utcnow()
    appeals = []
    for (decider, first_level), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        rates = [stats[k] for k in {(decider, i.date.year, i.date.month) for i in group} if k in stats]
        abnormal = [r for r in rates if domain.rejection_rate_abnormal(r.rejected, r.approved + r.rejected + r.returned, policy)]
        board_reason = domain.BOARD_NO_FIRST_LEVEL if first_level is None else domain.BOARD_REJECTION_RATE if abnormal else None
        appeal = Appeal(
            id=new_id(), employee_id=caller_id, original_decider_id=decider,
            # Straight to the board: there is no first level to hear it (nor to be conflicted).
            first_level_decider_id=None if board_reason else first_level,
            level=BOARD if board_reason else FIRST_LEVEL, status=OPEN, outcome=None, reasons=reasons,
            month=f"{month[0]:04d}-{month[1]:02d}" if month else None, filed_at=now, filed_on=today,
            first_level_due=None if board_reason else today + timedelta(days=policy.first_level_days),
            board_reason=board_reason, escalated_at=now if board_reason else None, version=1)
        s.add(appeal)
        s.flush()
        s.add_all([AppealEntry(appeal_id=appeal.id, entry_id=i.entry_id, entry_date=i.date, rejected_by=decider,
                               rejected_at=rejections[i.entry_id].decided_at,
                               rejection_reason=rejections[i.entry_id].reason) for i in group])
        ids = [i.entry_id for i in group]
        _trail(s, appeal, FILED, caller_id, {"entry_ids": ids, "reasons": reasons, "month": appeal.month}, request_id)
        if board_reason:
            details: dict[str, Any] = {"reason": board_reason}
            if abnormal:
                details["rejection_rates"] = [{"year": r.year, "month": r.month, "rejected": r.rejected,
                                               "decisions": r.approved + r.rejected + r.returned} for r in abnormal]
            _trail(s, appeal, ESCALATED, None, details, request_id)
        uow.publish("appeal.filed", {"appeal_id": appeal.id, "entry_ids": ids, "employee_id": caller_id,
                                     "filed_at": services.iso_utc(now), "version": appeal.version, "level": appeal.level})
        appeals.append(appeal)
    s.flush()
    return appeals


# -- who stands where ----------------------------------------------------------------------------------

def active_member(session: Session, employee_id: str, on: date) -> bool:
    return session.scalar(select(exists().where(
        BoardMember.employee_id == employee_id, BoardMember.from_date <= on,
        or_(BoardMember.to_date.is_(None), BoardMember.to_date >= on)))) or False


def relations(session: Session, appeal: Appeal, who: Principal, today: date) -> set[str]:
    """How the caller stands to this appeal (role and object both checked)."""
    rel: set[str] = set()
    me = who.employee_id
    if who.has("admin_bkd"):
        rel.add(ADMIN)
    if me and who.has("pegawai"):
        if me == appeal.employee_id:
            rel.add(APPELLANT)
        if me == appeal.original_decider_id:
            rel.add(ORIGINAL)
        if me == appeal.first_level_decider_id:
            rel.add(FIRST)
    if me and who.has("majelis") and appeal.level == BOARD and not domain.conflicted(me, appeal):
        decided_it = session.scalar(select(exists().where(
            AppealDecision.appeal_id == appeal.id, AppealDecision.level == BOARD, AppealDecision.decided_by == me)))
        if decided_it or active_member(session, me, today):
            rel.add(SEATED)
    return rel


def _appeal(session: Session, appeal_id: str, lock: bool = False) -> Appeal:
    appeal = session.get(Appeal, appeal_id, with_for_update=lock)
    if appeal is None:
        raise NotFound(APPEAL_NOT_FOUND)
    return appeal


def readable(session: Session, appeal_id: str, who: Principal, today: date, trail: bool = False) -> tuple[Appeal, set[str]]:
    """The appeal and the caller's standing, or 404 for anyone who may not read it (existence
    itself is private)."""
    appeal = _appeal(session, appeal_id)
    rel = relations(session, appeal, who, today)
    if not rel & (TRAIL_READERS if trail else READERS):
        raise NotFound(APPEAL_NOT_FOUND)
    return appeal, rel


def _acting(session: Session, appeal_id: str, who: Principal, today: date, need: str, refusal: Text,
            code: str) -> tuple[Appeal, set[str]]:
    """The appeal locked for a change by someone standing as ``need``: 404 for whoever may not
    even read it, 403 for a reader in another capacity."""
    appeal = _appeal(session, appeal_id, lock=True)
    rel = relations(session, appeal, who, today)
    if not rel & READERS:
        raise NotFound(APPEAL_NOT_FOUND)
    if need not in rel:
        raise Forbidden(refusal, code)
    return appeal, rel


# -- steps -----------------------------------------------------------------------------------------------

def comment(uow: UnitOfWork, appeal_id: str, who: Principal, text: str, today: date,
            request_id: str | None = None) -> AppealComment:
    """The original supervisor's comments, shown to whoever decides (while the appeal is open)."""
    appeal, _ = _acting(uow.session, appeal_id, who, today, ORIGINAL,
                        Text("Hanya atasan yang menolak kegiatan ini yang memberi tanggapan",
                             "Only the supervisor whose rejection is appealed comments"), "not_original_decider")
    text = domain.check_text("text", text, "Tanggapan wajib diisi", "The comment is required")
    domain.check_open(appeal)
    assert who.employee_id is not None
    row = AppealComment(appeal_id=appeal.id, author_id=who.employee_id, text=text, created_at=utcnow())
    uow.session.add(row)
    _trail(uow.session, appeal, COMMENTED, who.employee_id, {"comment_id": row.id, "text": text}, request_id)
    uow.session.flush()
    return row


def add_evidence(uow: UnitOfWork, store: evidence.EvidenceStore, appeal_id: str, who: Principal,
                 upload: tuple[str, bytes] | None, today: date, request_id: str | None = None) -> AppealEvidence:
    """Attach an evidence file (client's name, bytes) to an own open appeal. The file is written
    before the row; the caller deletes it again if the transaction does not commit."""
    # The standing is checked before the upload itself: a stranger learns nothing from a 422.
    appeal, _ = _acting(uow.session, appeal_id, who, today, APPELLANT,
                        Text("Hanya pegawai yang mengajukan keberatan yang melampirkan bukti",
                             "Only the employee who appealed attaches evidence"), "not_appellant")
    domain.check_open(appeal)
    if upload is None:
        raise ValidationFailed({"file": Text("Unggah berkas pada kolom 'file' (multipart/form-data)",
                                             "Upload the file in the 'file' field (multipart/form-data)")})
    filename, data = upload
    content_type = evidence.check_upload(filename, data, store.max_bytes)
    stored = store.save(data)
    assert who.employee_id is not None
    row = AppealEvidence(id=stored.id, appeal_id=appeal.id, filename=evidence.display_name(filename),
                         content_type=content_type, size=stored.size, sha256=stored.sha256,
                         uploaded_by=who.employee_id, uploaded_at=utcnow())
    uow.session.add(row)
    _trail(uow.session, appeal, EVIDENCE_ADDED, who.employee_id,
           {"evidence_id": row.id, "filename": row.filename, "size": row.size, "sha256": row.sha256}, request_id)
    uow.session.flush()
    return row


def _to_board(session: Session, appeal: Appeal, reason: str, actor_id: str | None, request_id: str | None,
              details: dict[str, Any] | None = None) -> None:
    # Open again at the board; a first-level decision stays in appeal_decisions and the trail.
    appeal.level, appeal.status, appeal.outcome = BOARD, OPEN, None
    appeal.decided_by = appeal.decided_at = appeal.decided_on = None
    appeal.board_reason, appeal.escalated_at = reason, utcnow()
    appeal.version += 1
    _trail(session, appeal, ESCALATED, actor_id, {"reason": reason, **(details or {})}, request_id)


def escalate(uow: UnitOfWork, appeal_id: str, who: Principal, today: date, request_id: str | None = None) -> Appeal:
    """The employee takes the appeal to the board (see :func:`domain.check_may_escalate`)."""
    appeal, _ = _acting(uow.session, appeal_id, who, today, APPELLANT,
                        Text("Hanya pegawai yang mengajukan keberatan yang dapat meneruskannya ke majelis",
                             "Only the employee who appealed can take it to the board"), "not_appellant")
    domain.check_may_escalate(appeal, today, services.policy_for(uow.session, escalation_year(appeal, today)))
    _to_board(uow.session, appeal, domain.BOARD_EMPLOYEE, who.employee_id, request_id)
    uow.session.flush()
    return appeal


def decide(uow: UnitOfWork, appeal_id: str, who: Principal, outcome: str, reasoning: str, today: date,
           request_id: str | None = None) -> Appeal:
    """Decide an open appeal: its first-level decider, or any one seated board member once the
    board hears it. Overturned entries count as approved: ``appeal.decided`` carries each entry
    with its new version, so activity shows it ``overturned`` and payroll counts it (a locked month
    then becomes payroll's correction, its cause naming the appeal)."""
    s = uow.session
    appeal = _appeal(s, appeal_id, lock=True)
    rel = relations(s, appeal, who, today)
    if not rel & READERS:
        raise NotFound(APPEAL_NOT_FOUND)
    if (FIRST if appeal.level == FIRST_LEVEL else SEATED) not in rel:
        raise Forbidden(Text("Anda tidak berwenang memutus keberatan ini pada tingkat ini",
                             "You may not decide this appeal at its current level"), "not_appeal_decider")
    if outcome not in domain.OUTCOMES:
        raise ValidationFailed({"outcome": Text("Putusan harus upheld atau overturned", "Outcome must be upheld or overturned")})
    reasoning = domain.check_text("reasoning", reasoning, "Pertimbangan putusan wajib diisi", "The reasoning is required")
    domain.check_open(appeal)
    assert who.employee_id is not None
    me, now = who.employee_id, utcnow()
    ids = entry_ids_of(s, appeal.id)
    items = services.lock_items(s, ids)
    rejections = _latest_rejections(s, ids)
    if outcome == OVERTURNED:
        # Nothing but an appeal changes a rejected entry, so this guards against damage only.
        errors = FieldErrors()
        for n, entry_id in enumerate(ids):
            if entry_id not in items or items[entry_id].status != domain.REJECTED or entry_id not in rejections:
                errors.add(f"entry_ids.{n}", "Kegiatan ini tidak lagi berstatus ditolak", "This entry is no longer rejected")
        if errors.errors:
            raise Conflict("entries_changed", Text("Kegiatan keberatan ini telah berubah", "The appealed entries have changed"),
                           errors.errors)
        overturned = []
        for entry_id in ids:
            item = items[entry_id]
            item.status = OVERTURNED
            item.version += 1
            s.add(Decision(id=new_id(), entry_id=entry_id, decision=domain.OVERTURN, reason=reasoning, decided_by=me,
                           decided_at=now, request_id=request_id, version=item.version))
            overturned.append(item)
        s.flush()
        repository.count_minutes(s, [(i.employee_id, i.date, i.credited_minutes or 0) for i in overturned])
    level = appeal.level
    appeal.status, appeal.outcome = CLOSED, outcome
    appeal.decided_by, appeal.decided_at, appeal.decided_on = me, now, today
    appeal.version += 1
    s.add(AppealDecision(appeal_id=appeal.id, level=level, outcome=outcome, reasoning=reasoning, decided_by=me,
                         decided_at=now, version=appeal.version))
    _trail(s, appeal, DECIDED, me, {"outcome": outcome, "reasoning": reasoning, "entry_ids": ids}, request_id)
    # The one announcement of the outcome: an overturn is a decision on the rejected submission
    # (submission_version), numbered above the rejection (version), so activity and payroll take it
    # as they take any decision and a late rejection cannot undo it.
    uow.publish("appeal.decided", {
        "appeal_id": appeal.id, "entry_ids": ids, "employee_id": appeal.employee_id, "outcome": outcome,
        "decided_by": me, "decided_at": services.iso_utc(now), "version": appeal.version, "level": level,
        "entries": [{"entry_id": i, "date": items[i].date.isoformat(), "credited_minutes": items[i].credited_minutes,
                     "submission_version": rejections[i].version - 1 if i in rejections else None,
                     "version": items[i].version} for i in ids if i in items]})
    s.flush()
    return appeal


def move_overdue_to_board(uow: UnitOfWork, today: date, request_id: str | None = None) -> int:
    """The escalation job's part for appeals: open first-level appeals past their due date go to
    the board. Rows another run holds are skipped (it is moving them); a moved appeal no longer
    matches, so a second run changes nothing."""
    overdue = uow.session.scalars(
        select(Appeal).where(Appeal.level == FIRST_LEVEL, Appeal.status == OPEN, Appeal.first_level_due < today)
        .order_by(Appeal.id).with_for_update(skip_locked=True)).all()
    for appeal in overdue:
        _to_board(uow.session, appeal, domain.BOARD_DEADLINE, None, request_id,
                  {"first_level_due": appeal.first_level_due.isoformat() if appeal.first_level_due else None})
    uow.session.flush()
    return len(overdue)


# -- reading ----------------------------------------------------------------------------------------------

# What the caller can do next on an appeal (GET /appeals: my_actions; ?needs_action=true).
DECIDE, COMMENT, ESCALATE, ADD_EVIDENCE = "decide", "comment", "escalate", "add_evidence"


def escalation_year(appeal: Appeal, today: date) -> int:
    """Whose window applies to taking an appeal to the board: the policy of the year of the first
    level's decision (as a filing's is the rejection's year)."""
    return (appeal.decided_on or today).year


def actions(appeal: Appeal, rel: set[str], today: date, policy_of: Callable[[int], domain.ValidationRules],
            commented: bool) -> list[str]:
    """The steps open to the caller now, by the same rules the steps themselves check: decide at
    the appeal's level, comment as the rejecting supervisor (until a comment is in), escalate to
    the board and add evidence as the employee. ``policy_of``: a year's validation rules."""
    out: list[str] = []
    if appeal.status == OPEN and (FIRST if appeal.level == FIRST_LEVEL else SEATED) in rel:
        out.append(DECIDE)
    if appeal.status == OPEN and ORIGINAL in rel and not commented:
        out.append(COMMENT)
    if APPELLANT in rel:
        try:
            domain.check_may_escalate(appeal, today, policy_of(escalation_year(appeal, today)))
            out.append(ESCALATE)
        except DomainError:
            pass
        if appeal.status == OPEN:
            out.append(ADD_EVIDENCE)
    return out


def commented(session: Session, appeal_ids: Sequence[str]) -> set[str]:
    """The appeals that have the rejecting supervisor's comment."""
    if not appeal_ids:
        return set()
    return set(session.scalars(select(AppealComment.appeal_id).distinct()
                               .where(repository.in_ids(session, AppealComment.appeal_id, appeal_ids))))


def names(session: Session, employee_ids: set[str | None]) -> dict[str, tuple[str, str]]:
    """Employee id → (name, NIP), from the read model (for the people an appeal names)."""
    ids = [i for i in employee_ids if i]
    if not ids:
        return {}
    return {e.employee_id: (e.name, e.nip) for e in session.scalars(
        select(Employee).where(repository.in_ids(session, Employee.employee_id, ids)))}


def entries_of(session: Session, appeal_ids: Sequence[str]) -> dict[str, list[str]]:
    """The entry ids of each appeal, in date order (one query for a whole list)."""
    out: dict[str, list[str]] = defaultdict(list)
    if appeal_ids:
        for appeal_id, entry_id in session.execute(
                select(AppealEntry.appeal_id, AppealEntry.entry_id)
                .where(repository.in_ids(session, AppealEntry.appeal_id, appeal_ids))
                .order_by(AppealEntry.entry_date, AppealEntry.entry_id)):
            out[appeal_id].append(entry_id)
    return out


def listing(session: Session, who: Principal, today: date, status: str | None = None) -> list[tuple[Appeal, set[str]]]:
    """The appeals the caller may read, newest first, each with the caller's standing."""
    me = who.employee_id
    if who.has("admin_bkd"):
        cond: Any = None
    else:
        conds = []
        if me and who.has("pegawai"):
            conds += [Appeal.employee_id == me, Appeal.original_decider_id == me, Appeal.first_level_decider_id == me]
        if me and who.has("majelis"):
            decided_it = exists().where(AppealDecision.appeal_id == Appeal.id, AppealDecision.level == BOARD,
                                        AppealDecision.decided_by == me)
            seated = and_(Appeal.level == BOARD, Appeal.employee_id != me, Appeal.original_decider_id != me,
                          or_(Appeal.first_level_decider_id.is_(None), Appeal.first_level_decider_id != me))
            conds.append(and_(seated, true() if active_member(session, me, today) else decided_it))
        cond = or_(*conds) if conds else false()
    query = select(Appeal).order_by(Appeal.filed_at.desc(), Appeal.id)
    if cond is not None:
        query = query.where(cond)
    if status is not None:
        query = query.where(Appeal.status == status)
    out = []
    for appeal in session.scalars(query):
        rel = relations(session, appeal, who, today)
        if rel & READERS:
            out.append((appeal, rel))
    return out


@dataclass
class AppealParts:
    entries: list[tuple[AppealEntry, ValidationItem | None]]
    comments: list[AppealComment]
    evidence: list[AppealEvidence]
    decisions: list[AppealDecision]


def parts(session: Session, appeal_id: str) -> AppealParts:
    entries = session.execute(
        select(AppealEntry, ValidationItem).outerjoin(ValidationItem, ValidationItem.entry_id == AppealEntry.entry_id)
        .where(AppealEntry.appeal_id == appeal_id).order_by(AppealEntry.entry_date, AppealEntry.entry_id)).all()
    return AppealParts(
        entries=[(e, i) for e, i in entries],
        comments=list(session.scalars(select(AppealComment).where(AppealComment.appeal_id == appeal_id)
                                      .order_by(AppealComment.created_at))),
        evidence=list(session.scalars(select(AppealEvidence).where(AppealEvidence.appeal_id == appeal_id)
                                      .order_by(AppealEvidence.uploaded_at))),
        decisions=list(session.scalars(select(AppealDecision).where(AppealDecision.appeal_id == appeal_id)
                                       .order_by(AppealDecision.decided_at, AppealDecision.version))),
    )


def trail(session: Session, appeal_id: str) -> list[AppealTrail]:
    return list(session.scalars(select(AppealTrail).where(AppealTrail.appeal_id == appeal_id).order_by(AppealTrail.seq)))


def evidence_row(session: Session, appeal_id: str, evidence_id: str) -> AppealEvidence:
    row = session.get(AppealEvidence, evidence_id)
    if row is None or row.appeal_id != appeal_id:
        raise NotFound(Text("Berkas bukti tidak ditemukan", "Evidence not found"))
    return row


# -- the board -------------------------------------------------------------------------------------------------

def appoint(uow: UnitOfWork, actor: Principal, employee_id: str, from_date: date, to_date: date | None,
            request_id: str | None = None) -> BoardMember:
    """Appoint an employee to the board for a period (admin_bkd; audited). Identity grants the
    majelis role; this says when they sit."""
    s = uow.session
    errors = FieldErrors()
    if s.get(Employee, employee_id) is None:
        errors.add("employee_id", "Pegawai tidak dikenal", "Unknown employee")
    if to_date is not None and to_date < from_date:
        errors.add("to_date", "Tidak boleh sebelum from_date", "Must not be before from_date")
    errors.raise_if_any()
    overlapping = s.scalar(select(BoardMember.id).where(
        BoardMember.employee_id == employee_id,
        or_(BoardMember.to_date.is_(None), BoardMember.to_date >= from_date),
        *([BoardMember.from_date <= to_date] if to_date is not None else [])).with_for_update())
    if overlapping:
        raise Conflict("already_member", Text("Pegawai ini sudah menjadi anggota majelis pada periode tersebut",
                                              "This employee is already a board member in that period"),
                       {"employee_id": Text("Masa keanggotaan bertumpang tindih", "Overlapping appointment")})
    now = utcnow()
    row = BoardMember(id=new_id(), employee_id=employee_id, from_date=from_date, to_date=to_date,
                      appointed_by=actor.account_id, appointed_at=now)
    s.add(row)
    s.add(BoardAudit(member_id=row.id, action="appointed", employee_id=employee_id, from_date=from_date, to_date=to_date,
                     actor_id=actor.account_id, at=now, request_id=request_id))
    s.flush()
    return row


def remove(uow: UnitOfWork, actor: Principal, member_id: str, today: date, request_id: str | None = None) -> BoardMember:
    """End an appointment: the member no longer sits from today (one not begun yet never sits).
    The row stays as history; the removal is audited."""
    s = uow.session
    row = s.get(BoardMember, member_id, with_for_update=True)
    if row is None:
        raise NotFound(Text("Keanggotaan majelis tidak ditemukan", "Board membership not found"))
    if row.to_date is not None and (row.to_date < today or row.to_date < row.from_date):
        raise Conflict("already_ended", Text("Keanggotaan ini sudah berakhir", "This membership has already ended"))
    yesterday = today - timedelta(days=1)
    row.to_date = yesterday if row.from_date <= yesterday else row.from_date - timedelta(days=1)
    row.ended_by, row.ended_at = actor.account_id, utcnow()
    s.add(BoardAudit(member_id=row.id, action="removed", employee_id=row.employee_id, from_date=row.from_date,
                     to_date=row.to_date, actor_id=actor.account_id, at=row.ended_at, request_id=request_id))
    s.flush()
    return row


def members(session: Session) -> list[tuple[BoardMember, Employee | None]]:
    return [(m, e) for m, e in session.execute(
        select(BoardMember, Employee).outerjoin(Employee, Employee.employee_id == BoardMember.employee_id)
        .order_by(BoardMember.from_date, BoardMember.id))]
