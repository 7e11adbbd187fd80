"""Service layer of daily activity: each function is one use case, run inside a unit of work (or,
for reads, a session), and publishes the events its change causes in the same transaction. Every
change of an entry's status or minutes also moves the employee's month summary (summary.Deltas)
in that same transaction."""
from __future__ import annotations

import contextlib
import dataclasses
import functools
from datetime import date, timedelta, timezone
from decimal import Decimal
from typing import Iterator

from sqlalchemy import (String, and_, bindparam, case, delete, exists, func, insert, literal, literal_column, or_, select,
                        union_all)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ekinerja_common.auth import Principal
from ekinerja_common.envelope import utcnow
from ekinerja_common.outbox import OUTBOX
from ekinerja_common.errors import Conflict, NotFound, Text, ValidationFailed
from ekinerja_common.runtime import Runtime
from ekinerja_common.uow import UnitOfWork
from ekinerja_common import evidence
from ekinerja_common import clock, discipline

from . import domain, entry_facts, repository, summary
from .orm import (CONTENT_FIELDS, ClosedPeriod, DeductionTable, Duty, EmployeeLock, Entry, EntryClaim, Evidence, LeaveRecord,
                  MonthSummary, Placement, WorkCalendarRow, new_id)
from .summary import COLUMNS as SUMMARY_COLUMNS, Deltas

ENTRY_NOT_FOUND = Text("Kegiatan tidak ditemukan", "Entry not found")
EVIDENCE_NOT_FOUND = Text("Bukti tidak ditemukan", "Evidence not found")


def entry_data(e: Entry) -> dict:
    return {
        "entry_id": e.id, "employee_id": e.employee_id, "date": e.date.isoformat(),
        "start_time": e.start_time.strftime("%H:%M"), "end_time": e.end_time.strftime("%H:%M"),
        "duty_id": e.duty_id, "duty_description": e.duty_description, "volume": e.volume,
        "output_unit": e.output_unit, "credited_minutes": e.credited_minutes, "description": e.description,
        "version": e.version,
    }


def _placements(session: Session, employee_id: str, day: date) -> list[Placement]:
    return list(session.scalars(
        select(Placement).where(Placement.employee_id == employee_id, Placement.start_date <= day,
                                or_(Placement.end_date.is_(None), Placement.end_date >= day))
        .order_by(case((Placement.kind == "definitive", 0), else_=1), Placement.start_date)
    ))


def _facts(session: Session, employee_id: str, draft: domain.Draft, exclude_id: str | None = None,
           revision_deadline: date | None = None) -> domain.Facts:
    """What the rules need, in one statement (entry_facts)."""
    return entry_facts.one(session, employee_id, draft, exclude_id, revision_deadline)


def duties_on(session: Session, employee_id: str, day: date) -> tuple[list[Placement], list[Duty]]:
    """The posts the employee holds on ``day`` (definitive first) and their live duties."""
    placements = _placements(session, employee_id, day)
    positions = {p.position_id for p in placements}
    duties = list(session.scalars(
        select(Duty).where(Duty.position_id.in_(positions), Duty.status == "published").order_by(Duty.description)
    )) if positions else []
    return placements, duties


def preview_entry(session: Session, employee_id: str, draft: domain.Draft, today: date,
                  policy: domain.EntryRules) -> domain.Assessment:
    return domain.assess(draft, _facts(session, employee_id, draft), today, policy)


def preview_edit(session: Session, employee_id: str, entry_id: str, draft: domain.Draft, today: date,
                 policy: domain.EntryRules) -> domain.Assessment | None:
    """The rules an edit of ``entry_id`` to ``draft`` would break, judged as edit_entry judges it
    (its own slot and earlier versions excluded, a returned entry's revision window); None when
    the caller has no such editable entry (the view answers that, 404 / 409)."""
    entry = session.get(Entry, entry_id)
    if entry is None or entry.employee_id != employee_id or entry.status not in domain.EDITABLE:
        return None
    facts = _facts(session, employee_id, draft, exclude_id=entry.id,
                   revision_deadline=_revision_deadline(entry, draft.date, policy))
    return domain.assess(draft, facts, today, policy)


def preview_batch(session: Session, employee_id: str, drafts: list[domain.Draft | None], today: date,
                  policy: domain.EntryRules) -> list[domain.Assessment | None]:
    """The rules each draft of a list would break, judged as create_entries judges a batch (each
    against the earlier ones); None for the items that could not be drafted at all."""
    items = [d for d in drafts if d is not None]
    if not items:
        return [None] * len(drafts)
    judged = iter(domain.assess_batch(items, entry_facts.read(session, employee_id, items).facts, today, policy))
    return [next(judged) if d is not None else None for d in drafts]


def lock_employee(session: Session, employee_id: str) -> None:
    """Serialize this employee's entry changes until the transaction ends. Taken first, before
    any entry row, by the web requests and by the event handlers that change entries alike."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # One round trip: an upsert whose conflict branch updates the row locks it as FOR UPDATE
    # would, and it waits for a concurrent first insert of the same row, so no one slips through
    # while the row is being created; SQLite's BEGIN IMMEDIATE already serializes writers.
    stmt = insert(EmployeeLock).values(employee_id=employee_id)
    session.execute(stmt.on_conflict_do_update(index_elements=[EmployeeLock.employee_id],
                                               set_={"employee_id": stmt.excluded.employee_id}))


def _copy_draft(entry: Entry, draft: domain.Draft, duty: domain.Duty, credited: int) -> None:
    """What the employee claimed, with the duty's details as they are now: a later change or
    retirement of the duty never rewrites a claim already made."""
    entry.date = draft.date
    entry.start_time = draft.start_time
    entry.end_time = draft.end_time
    entry.duty_id = duty.duty_id
    entry.duty_description = duty.description
    entry.output_unit = duty.output_unit
    entry.norma_waktu = duty.norma_waktu
    entry.volume = draft.volume
    entry.description = draft.description.strip()
    entry.credited_minutes = credited


def _new_entry(employee_id: str, draft: domain.Draft, duty: domain.Duty, credited: int, status: str,
               now) -> Entry:
    """The row of a new entry with every column set here (it is written by a Core INSERT, not a
    flush: the ORM's defaults would not run)."""
    entry = Entry(id=new_id(), employee_id=employee_id, status=status, reason=None, decision_version=0,
                  decided_by=None, decided_at=None, version=1, submitted_version=0 if status == "draft" else 1,
                  appeal_id=None, appeal_version=0, appeal_outcome=None, awaiting_confirmation=False,
                  superseded_change=None, created_at=now, updated_at=now)
    _copy_draft(entry, draft, duty, credited)
    return entry


_ENTRY_COLUMNS = tuple(c.key for c in Entry.__table__.columns)
_OUTBOX_COLUMNS = ("id", "type", "body", "correlation_id", "created_at", "attempts")  # uow.publish_row's row


def _entry_row(entry: Entry) -> dict:
    return {name: getattr(entry, name) for name in _ENTRY_COLUMNS}


@functools.lru_cache(maxsize=256)
def _pg_write(entries: int, events: int, months: int):
    """A submission's whole write in one PostgreSQL statement: take the employee's lock *if* its
    row is still the version the facts were read with (``seen``), and only then insert the
    entries, add to the month summaries and write the outbox rows (each fed by the lock's
    RETURNING, so nothing is written without the lock, and the summary rows are locked after the
    employee's, in the order every writer keeps). Returns one row when written, none when another
    writer took the lock since the read — the conflict branch has then locked the row for us
    (ON CONFLICT DO UPDATE locks the row also when its WHERE is false), so a second read sees
    everything that writer committed and nobody can change it before the second write.

    The version is the row's ``xmin`` (the transaction that wrote it): lock_employee's upsert
    writes a new row version, so every writer of entries — including a process of the previous
    release during a rolling deploy — changes it, without a column that each must remember to
    bump. Built once per shape (entries, events, months), so SQLAlchemy compiles it once."""
    locks = EmployeeLock.__table__
    take = postgresql.insert(locks).values(employee_id=bindparam("employee_id"))
    lock = (take.on_conflict_do_update(
        index_elements=[locks.c.employee_id], set_={"employee_id": take.excluded.employee_id},
        where=literal_column("employee_locks.xmin::text", String) == bindparam("seen", type_=String))
        .returning(locks.c.employee_id).cte("employee_lock"))

    def fed_by_lock(table, columns, n: int, prefix: str):
        rows = [select(*(bindparam(f"{prefix}{i}_{c}", type_=table.c[c].type) for c in columns)).select_from(lock)
                for i in range(n)]
        return postgresql.insert(table).from_select(list(columns), rows[0] if n == 1 else union_all(*rows))

    writes = [fed_by_lock(Entry.__table__, _ENTRY_COLUMNS, entries, "e").cte("new_entries")]
    if months:
        writes.append(summary.upsert("postgresql", fed_by_lock(MonthSummary.__table__,
                                                               ("employee_id", "year", "month", *SUMMARY_COLUMNS),
                                                               months, "s")).cte("month_figures"))
    if events:
        writes.append(fed_by_lock(Entry.metadata.tables[OUTBOX], _OUTBOX_COLUMNS, events, "o").cte("events"))
    return select(lock.c.employee_id).add_cte(*writes)


def _write_pg(session: Session, employee_id: str, seen: str | None, entries: list[dict], events: list[dict],
              months: list[dict]) -> bool:
    params: dict = {"employee_id": employee_id, "seen": seen}
    for prefix, rows in (("e", entries), ("o", events), ("s", months)):
        for i, row in enumerate(rows):
            params.update({f"{prefix}{i}_{c}": v for c, v in row.items()})
    return session.connection().execute(_pg_write(len(entries), len(events), len(months)), params).first() is not None


class Contended(Exception):
    """A submission at once (create_entries with ``at_once``) found that another writer of the
    employee's entries came between its read and its write: nothing was written; the caller runs
    it again in a transaction of its own."""


@contextlib.contextmanager
def at_once(runtime: Runtime, correlation_id: str | None) -> Iterator[UnitOfWork | None]:
    """A unit of work without a transaction of its own, for a submission whose whole write is one
    statement (_pg_write, atomic by itself): on PostgreSQL in autocommit, which saves the BEGIN and
    COMMIT round trips; None on SQLite (its engine opens every transaction with BEGIN IMMEDIATE).
    Its events are written by that statement too, so they still commit with the entries."""
    if runtime.engine.dialect.name != "postgresql":
        yield None
        return
    with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn, Session(bind=conn) as s:
        yield UnitOfWork.joining(s, runtime.metadata, runtime.service, correlation_id)


def create_entries(uow: UnitOfWork, employee_id: str, drafts: list[domain.Draft], today: date,
                   policy: domain.EntryRules, *, as_draft: bool = False, batch: bool = False,
                   at_once: bool = False) -> list[Entry]:
    """Store new entries, as drafts or submitted. A batch (a day's list) is all-or-nothing: every
    problem of every item is reported as ``entries.<i>.<field>``, and the items are checked
    against each other too (overlap, daily ceiling).

    Two concurrent submissions of one employee must not both take the same slot (or both fit
    under the ceiling): each is judged after the other's entries are visible. On PostgreSQL that
    costs two statements: the facts with the lock row's version, then the write, which takes the
    lock only if the version is unchanged (_pg_write); if another writer came between, the facts
    are read again under the lock now held, and judged again — or, ``at_once`` (a unit of work of
    services.at_once: no transaction, so no lock stays held), Contended is raised for the caller to
    run it again in a transaction. On SQLite the lock comes first (BEGIN IMMEDIATE serializes
    writers there anyway) and the writes are separate statements."""
    session = uow.session
    pg = session.get_bind().dialect.name == "postgresql"
    if not pg:
        lock_employee(session, employee_id)
    for _ in range(2):
        facts = entry_facts.read(session, employee_id, drafts, lock_version=pg)
        results = domain.assess_batch(drafts, facts.facts, today, policy)
        errors = {(f"entries.{i}.{name}" if batch else name): text
                  for i, r in enumerate(results) for name, text in r.errors.items()}
        if errors:
            raise ValidationFailed(errors)
        now = utcnow()
        deltas = Deltas()
        entries = []
        for draft, fact, result in zip(drafts, facts.facts, results):
            assert fact.duty is not None and result.credited_minutes is not None  # guaranteed by a valid assessment
            entry = _new_entry(employee_id, draft, fact.duty, result.credited_minutes,
                               "draft" if as_draft else "submitted", now)
            deltas.entry(employee_id, entry.date, entry.status, entry.credited_minutes, 1)
            entries.append(entry)
        published = len(uow.published)
        if not pg:
            session.execute(insert(Entry.__table__), [_entry_row(e) for e in entries])
            deltas.write(session)
            for entry in entries:
                if entry.status == "submitted":
                    uow.publish("activity.submitted", entry_data(entry))
            return entries
        events = [uow.publish_row("activity.submitted", entry_data(e)) for e in entries if e.status == "submitted"]
        if _write_pg(session, employee_id, facts.lock_version, [_entry_row(e) for e in entries], events,
                     deltas.rows()):
            return entries
        del uow.published[published:]  # not written: judged again on what the other writer stored
        if at_once:
            raise Contended(employee_id)
    raise AssertionError("the employee's lock, held since the second read, changed")  # pragma: no cover


def submit_entry(uow: UnitOfWork, employee_id: str, draft: domain.Draft, today: date,
                 policy: domain.EntryRules) -> Entry:
    return create_entries(uow, employee_id, [draft], today, policy)[0]


def own_entry(session: Session, employee_id: str, entry_id: str, lock: bool = False) -> Entry:
    """The caller's entry; someone else's is reported as missing, since its existence is private."""
    entry = session.get(Entry, entry_id, with_for_update=True if lock else None)
    if entry is None or entry.employee_id != employee_id:
        raise NotFound(ENTRY_NOT_FOUND)
    return entry


def _changeable(uow: UnitOfWork, employee_id: str, entry_id: str) -> Entry:
    """The caller's entry, locked, in a month that is still open."""
    lock_employee(uow.session, employee_id)
    # The row lock orders this against a decision arriving through the consumer at the same time.
    entry = own_entry(uow.session, employee_id, entry_id, lock=True)
    if repository.is_locked(uow.session, entry.date):
        raise domain.period_locked_error()
    return entry


def _revision_deadline(entry: Entry, draft_date: date, policy: domain.EntryRules) -> date | None:
    """A returned entry keeps its date's claim for a while after the return (domain.EntryRules)."""
    if entry.status != "returned" or draft_date != entry.date or entry.decided_at is None:
        return None
    decided_at = entry.decided_at
    if decided_at.tzinfo is None:  # SQLite hands back the stored UTC without its zone
        decided_at = decided_at.replace(tzinfo=timezone.utc)
    returned_on = decided_at.astimezone(clock.WIB).date()
    return returned_on + timedelta(days=policy.revision_window_days)


def _claim(session: Session, entry: Entry) -> None:
    """Before the employee replaces or withdraws a pending entry, keep the announced version: approval
    may have decided it already (its decision would restore it, see inbox.on_decision)."""
    if entry.status not in domain.DECIDABLE:
        return
    key = (entry.id, entry.submitted_version)
    if session.get(EntryClaim, key) is None:
        session.add(EntryClaim(entry_id=entry.id, version=entry.submitted_version, employee_id=entry.employee_id,
                               **{name: getattr(entry, name) for name in CONTENT_FIELDS}))
    entry.awaiting_confirmation = True


def restore_claim(session: Session, entry: Entry, version: int) -> None:
    """Put back the content of submission ``version``, which approval decided after the employee had
    changed it (the decision stands). Without a claim the entry still holds that content."""
    claim = session.get(EntryClaim, (entry.id, version))
    if claim is None:
        if entry.submitted_version == version and entry.status in domain.DECIDABLE:
            return
        raise domain.DecisionDamage(f"no claim of entry {entry.id} at version {version}")
    for name in CONTENT_FIELDS:
        setattr(entry, name, getattr(claim, name))


def release_claims(session: Session, entry: Entry, through: int | None) -> None:
    """Approval will never decide these versions (``through`` and below; None = all): their slots
    are free again."""
    c = EntryClaim.__table__.c
    condition = c.entry_id == entry.id if through is None else and_(c.entry_id == entry.id, c.version <= through)
    session.execute(delete(EntryClaim.__table__).where(condition))
    entry.awaiting_confirmation = session.scalar(
        select(exists().where(c.entry_id == entry.id))) if through is not None else False


def _as_draft(entry: Entry) -> domain.Draft:
    return domain.Draft(entry.date, entry.start_time, entry.end_time, entry.duty_id, entry.volume, entry.description)


def _announce(uow: UnitOfWork, entry: Entry) -> None:
    entry.version = domain.next_change_version(entry.version, entry.status)
    entry.submitted_version = entry.version
    entry.status = "submitted"
    entry.reason = None


def edit_entry(uow: UnitOfWork, employee_id: str, entry_id: str, draft: domain.Draft, today: date,
               policy: domain.EntryRules) -> Entry:
    """Change an entry the supervisor has not settled. A pending entry stays pending and is
    announced again (approval replaces what it shows); a draft, returned or withdrawn entry is
    only saved (submit it with submit_existing)."""
    entry = _changeable(uow, employee_id, entry_id)
    domain.check_editable(entry.status)
    if _as_draft(entry) == dataclasses.replace(draft, description=draft.description.strip()):
        return entry  # nothing changed: no new version, nothing announced
    facts = _facts(uow.session, employee_id, draft, exclude_id=entry.id,
                   revision_deadline=_revision_deadline(entry, draft.date, policy))
    result = domain.assess(draft, facts, today, policy)
    result.raise_if_invalid()
    assert facts.duty is not None and result.credited_minutes is not None
    before = (entry.date, entry.status, entry.credited_minutes)
    _claim(uow.session, entry)  # before the content changes: approval may be deciding this version now
    _copy_draft(entry, draft, facts.duty, result.credited_minutes)
    if entry.status == "submitted":
        _announce(uow, entry)
    else:
        entry.version += 1
    entry.updated_at = utcnow()
    deltas = Deltas()
    deltas.entry_change(employee_id, before, (entry.date, entry.status, entry.credited_minutes))
    uow.session.flush()
    deltas.write(uow.session)
    if entry.status == "submitted":
        uow.publish("activity.submitted", entry_data(entry))
    return entry


def submit_existing(uow: UnitOfWork, employee_id: str, entry_id: str, today: date, policy: domain.EntryRules) -> Entry:
    """Send a draft, a revised returned entry or a withdrawn entry (again) to the supervisor.
    Every rule is checked again, against the duty as it is now."""
    entry = _changeable(uow, employee_id, entry_id)
    domain.check_submittable(entry.status)
    draft = _as_draft(entry)
    facts = _facts(uow.session, employee_id, draft, exclude_id=entry.id,
                   revision_deadline=_revision_deadline(entry, entry.date, policy))
    result = domain.assess(draft, facts, today, policy)
    result.raise_if_invalid()
    assert facts.duty is not None and result.credited_minutes is not None
    before = (entry.date, entry.status, entry.credited_minutes)
    _copy_draft(entry, draft, facts.duty, result.credited_minutes)
    _announce(uow, entry)
    entry.updated_at = utcnow()
    deltas = Deltas()
    deltas.entry_change(employee_id, before, (entry.date, entry.status, entry.credited_minutes))
    uow.session.flush()
    deltas.write(uow.session)
    uow.publish("activity.submitted", entry_data(entry))
    return entry


def withdraw_entry(uow: UnitOfWork, employee_id: str, entry_id: str) -> Entry:
    """A withdrawal is a request: the slot stays taken (EntryClaim) until approval confirms that the
    supervisor had not decided first (activity.change_accepted)."""
    entry = _changeable(uow, employee_id, entry_id)
    domain.check_withdrawable(entry.status)
    deltas = Deltas()
    deltas.entry_change(employee_id, (entry.date, entry.status, entry.credited_minutes), None)
    _claim(uow.session, entry)
    entry.version = domain.next_change_version(entry.version, entry.status)
    entry.status = "withdrawn"
    entry.updated_at = utcnow()
    uow.session.flush()
    deltas.write(uow.session)
    uow.publish("activity.withdrawn", {"entry_id": entry.id, "employee_id": entry.employee_id,
                                       "date": entry.date.isoformat(), "version": entry.version})
    return entry


def delete_draft(uow: UnitOfWork, employee_id: str, entry_id: str) -> list[str]:
    """Remove a draft (never announced, so no one else knows it). Returns the evidence ids whose
    files the caller removes once the transaction has committed."""
    entry = _changeable(uow, employee_id, entry_id)
    domain.check_deletable(entry.status)
    deltas = Deltas()
    deltas.entry_change(employee_id, (entry.date, entry.status, entry.credited_minutes), None)
    files = list(uow.session.scalars(select(Evidence).where(Evidence.entry_id == entry.id)))
    for row in files:
        uow.session.delete(row)
    uow.session.delete(entry)
    uow.session.flush()
    deltas.write(uow.session)
    return [row.id for row in files]


# -- evidence -----------------------------------------------------------------------------------

def add_entry_evidence(uow: UnitOfWork, store: evidence.EvidenceStore, employee_id: str, entry_id: str,
                       filename: str, data: bytes, policy: domain.EntryRules) -> Evidence:
    """Attach a file to an own entry that is still editable. The file is written only after every
    check passed; if the row cannot be stored, the file goes again."""
    entry = _changeable(uow, employee_id, entry_id)
    domain.check_editable(entry.status)
    count = uow.session.scalar(select(func.count()).select_from(Evidence).where(Evidence.entry_id == entry.id))
    if count >= policy.evidence_max_files:
        raise Conflict("too_many_evidence",
                       Text(f"Maksimal {policy.evidence_max_files} berkas bukti per kegiatan",
                            f"At most {policy.evidence_max_files} evidence files per entry"))
    content_type = evidence.check_upload(filename, data, policy.evidence_max_bytes)
    return repository.store_evidence(uow, store, data, Evidence(employee_id=employee_id, entry_id=entry.id,
                                                      filename=evidence.display_name(filename),
                                                      content_type=content_type, uploaded_by=employee_id))


def remove_entry_evidence(uow: UnitOfWork, employee_id: str, entry_id: str, evidence_id: str) -> str:
    entry = _changeable(uow, employee_id, entry_id)
    domain.check_editable(entry.status)
    row = uow.session.get(Evidence, evidence_id)
    if row is None or row.entry_id != entry.id:
        raise NotFound(EVIDENCE_NOT_FOUND)
    uow.session.delete(row)
    uow.session.flush()
    return row.id


def _may_see(session: Session, who: Principal, employee_id: str, day: date, bkd_too: bool) -> bool:
    if who.employee_id is not None and who.employee_id == employee_id:
        return True
    if who.has("majelis") or (bkd_too and who.has("admin_bkd")):
        return True
    return who.employee_id is not None and who.employee_id in repository.supervisors_of(session, employee_id, day)


def visible_entry(session: Session, who: Principal, entry_id: str) -> Entry:
    """An entry for its evidence: the employee, their supervisor (and the one above, who hears
    escalations and first-level appeals) on the entry's date, or the appeals board. Anyone else
    learns nothing, not even that it exists."""
    entry = session.get(Entry, entry_id)
    if entry is None or not _may_see(session, who, entry.employee_id, entry.date, bkd_too=False):
        raise NotFound(ENTRY_NOT_FOUND)
    return entry


def entry_evidence(session: Session, entry_id: str) -> list[Evidence]:
    return list(session.scalars(select(Evidence).where(Evidence.entry_id == entry_id).order_by(Evidence.uploaded_at)))


def visible_evidence(session: Session, who: Principal, evidence_id: str) -> Evidence:
    """An evidence file for the same audience as its entry; a leave's evidence also for BKD."""
    row = session.get(Evidence, evidence_id)
    if row is not None and row.entry_id is not None:
        entry = session.get(Entry, row.entry_id)
        if entry is not None and _may_see(session, who, entry.employee_id, entry.date, bkd_too=False):
            return row
    elif row is not None and row.leave_id is not None:
        leave = session.get(LeaveRecord, row.leave_id)
        if leave is not None and _may_see(session, who, leave.employee_id, leave.start_date, bkd_too=True):
            return row
    raise NotFound(EVIDENCE_NOT_FOUND)


# -- the month at a glance ----------------------------------------------------------------------

def _month_query():
    """Built once: the summary row (outer-joined to a one-row anchor, so a month with no row yet
    still answers), the calendar's version, the lock flag and the year's deduction table, in one
    statement (each was a round trip of its own: issue 13)."""
    summary = MonthSummary.__table__
    e, y, m = bindparam("employee_id"), bindparam("year"), bindparam("month")
    anchor = select(literal(1).label("one")).subquery("anchor")
    return (select(*(summary.c[c] for c in SUMMARY_COLUMNS),
                   select(WorkCalendarRow.version).where(WorkCalendarRow.year == y).scalar_subquery().label("calendar_version"),
                   exists().where(ClosedPeriod.year == y, ClosedPeriod.month == m).label("locked"),
                   select(DeductionTable.deductions).where(DeductionTable.year == y).scalar_subquery()
                   .label("deductions"),
                   select(DeductionTable.policy_version).where(DeductionTable.year == y).scalar_subquery()
                   .label("deductions_version"))
            .select_from(anchor.outerjoin(summary, and_(summary.c.employee_id == e, summary.c.year == y,
                                                        summary.c.month == m))))


_MONTH_QUERY = _month_query()


def _working_dates(cal, year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    after = (first + timedelta(days=32)).replace(day=1)
    return [first + timedelta(n) for n in range((after - first).days) if cal.is_working_day(first + timedelta(n))]


def minutes_json(figures: dict) -> dict:
    """The month's minutes by status, from its summary row: the one figure of approved (and
    pending, returned, rejected, draft) minutes every page shows (the browser does not add up
    entries itself)."""
    return {"approved": figures["approved_minutes"], "pending": figures["pending_minutes"],
            "returned": figures["returned_minutes"], "rejected": figures["rejected_minutes"],
            "draft": figures["draft_minutes"]}


def month_minutes(session: Session, employee_id: str, year: int, month: int) -> dict:
    """``minutes_json`` of one employee-month (all zero before its first change)."""
    row = session.get(MonthSummary, (employee_id, year, month))
    return minutes_json({c: (getattr(row, c) or 0) if row else 0 for c in SUMMARY_COLUMNS})


def month_view(session: Session, employee_id: str, year: int, month: int) -> dict:
    """GET /me/month: the employee's summary row, the calendar's version and the lock flag in one
    round trip, then the month's attendance codes (at most a month of rows by primary key) to
    price them with the year's deduction table."""
    # Core execution on the session's connection: the ORM's statement path costs more than the read.
    row = session.connection().execute(_MONTH_QUERY, {"employee_id": employee_id, "year": year, "month": month}).one()
    cal = repository.calendar_at(session, year, row.calendar_version)
    working_days = cal.working_days(month)
    target = working_days * cal.target_minutes_per_day
    figures = {c: getattr(row, c) or 0 for c in SUMMARY_COLUMNS}  # no row yet: all zero
    # Priced now with BPKAD's table of the year, from the month's codes, exactly as payroll's
    # compute prices them (ekinerja_common.discipline): the two never show different figures.
    # (The summary's own deduction_pct is the sum as each day was priced when recorded.)
    table, table_version = repository.deduction_table_of(row.deductions, row.deductions_version)
    deduction = (discipline.price(repository.month_code_days(session, employee_id, year, month), table)[0]
                 if figures["attendance_days"] else Decimal(0))
    productivity = domain.productivity_pct(figures["approved_minutes"], target)
    return {
        "month": f"{year:04d}-{month:02d}",
        "minutes": minutes_json(figures),
        "working_days": working_days,
        # The month's working days themselves (the calendar's), for a day-by-day chart.
        "working_dates": [d.isoformat() for d in _working_dates(cal, year, month)],
        "target_minutes_per_day": cal.target_minutes_per_day,
        "target_minutes": target,
        "productivity_pct": str(productivity) if productivity is not None else None,
        "attendance": {
            "recorded_days": figures["attendance_days"],
            "late_days": figures["late_days"],
            "early_days": figures["early_days"],
            "absent_days": figures["absent_days"],
            "excused_days": figures["excused_days"],
            "deduction_pct": str(deduction.quantize(Decimal("0.01"))),
        },
        "discipline_pct": str(domain.discipline_pct(deduction)),
        "period_locked": bool(row.locked),
        "calendar_version": cal.version,
        "calendar_is_default": cal.is_default,
        "deductions_policy_version": table_version,
        # The TPP policy (base per kelas jabatan, split, status factor, sanctions, tax) is BPKAD's
        # and lives in payroll; this service does not copy it, so it shows no money figure.
        "tpp_estimate": None,
        "tpp_note": {
            "message": "Perkiraan TPP dihitung oleh BPKAD: lihat GET /api/payroll/runs/{tahun}/{bulan}/me",
            "message_en": "The TPP figure is computed by BPKAD: see GET /api/payroll/runs/{year}/{month}/me",
        },
    }
