"""HTTP entry point of the approval service: parse, authorize, call the service layer, map
results to JSON. Supervisors are employees (role pegawai); what they may see or decide depends on
whom they supervise on each entry's date, which the service layer checks per object. BKD
(admin_bkd) sets the policy, appoints the appeals board and reads the late-validation report.
Appeals and the board live in :mod:`approval.appeals_app`."""
from __future__ import annotations

import base64
import dataclasses
import json
import os

from collections import defaultdict
from datetime import date, time
from typing import Callable, Literal

from flask import Blueprint, g
from pydantic import ConfigDict, Field

from ekinerja_common.auth import TokenVerifier
from ekinerja_common.auth_store import verifier_for
from ekinerja_common.config import Settings
from ekinerja_common.evidence import DEFAULT_MAX_BYTES, EvidenceStore
from ekinerja_common.errors import FieldErrors, Text, ValidationFailed
from ekinerja_common.web import accepts, create_base_app, principal
from ekinerja_common import clock, idempotency

from . import domain, repository, services
from .appeals_app import bp as appeals_bp
from .http import MONTH_PATTERN, EntryId, Strict, admin, employee, item_json, parse_month, query, runtime, today
from .orm import Decision, Employee
from .repository import QueueFilter, QueueKey, QueueRow
from .runtime import build_runtime

bp = Blueprint("approval", __name__)

class ReasonIn(Strict):
    # Blank or missing is refused by the domain rule, with a message saying a reason is required.
    reason: str = Field(default="", max_length=2000)


class DecisionsIn(Strict):
    decision: Literal["approve", "return", "reject"]
    reason: str | None = Field(default=None, max_length=2000)
    entry_ids: list[EntryId] = Field(min_length=1, max_length=domain.MAX_BULK)


class QueueQuery(Strict):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)
    employee_id: str | None = Field(default=None, max_length=36)
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    month: str | None = Field(default=None, pattern=MONTH_PATTERN)
    # Paging (docs/api.md, "Paging"): a page of `limit` items starting after `cursor`.
    limit: int | None = Field(default=None, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=500)


class IdsQuery(Strict):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)
    employee_id: str | None = Field(default=None, max_length=36)
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    month: str | None = Field(default=None, pattern=MONTH_PATTERN)


class MonthQuery(Strict):
    month: str = Field(pattern=MONTH_PATTERN)


class PolicyIn(Strict):
    validation_deadline_day: int
    appeal_window_days: int
    first_level_days: int
    board_rejection_rate_pct: int
    board_min_decisions: int


def caller_id() -> str | None:
    p = principal()
    p.require("pegawai")
    return p.employee_id


def decision_json(d: Decision) -> dict:
    return {"decision": d.decision, "reason": d.reason, "decided_by": d.decided_by,
            "decided_at": services.iso_utc(d.decided_at), "version": d.version}


def groups_json(rows: list[QueueRow], minutes: dict[tuple[str, int, int], int]) -> list[dict]:
    """The queue grouped by person and day (rows arrive in that order). Each person carries the
    month-to-date approved minutes of every month they have pending entries in."""
    groups: list[dict] = []
    by_person: dict[str, dict] = {}
    pending_by_month: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        item = r.item
        person = by_person.get(item.employee_id)
        if person is None:
            person = by_person[item.employee_id] = {
                "employee_id": item.employee_id, "employee_name": r.employee_name, "nip": r.nip,
                "pending_entries": 0, "pending_minutes": 0,
                "months": [], "days": []}
            groups.append(person)
        day = item.date.isoformat()
        if not person["days"] or person["days"][-1]["date"] != day:
            person["days"].append({"date": day, "entry_ids": [], "pending_minutes": 0, "escalated": False})
        slot = person["days"][-1]
        slot["entry_ids"].append(item.entry_id)
        slot["pending_minutes"] += item.credited_minutes or 0
        slot["escalated"] = slot["escalated"] or r.escalation is not None
        person["pending_entries"] += 1
        person["pending_minutes"] += item.credited_minutes or 0
        pending_by_month[(item.employee_id, day[:7])] += item.credited_minutes or 0
    for (employee_id, month), pending in sorted(pending_by_month.items()):
        y, m = parse_month(month)
        by_person[employee_id]["months"].append(
            {"month": month, "approved_minutes": minutes.get((employee_id, y, m), 0), "pending_minutes": pending})
    return groups


def queue_filter(q: QueueQuery | IdsQuery) -> QueueFilter:
    first, last = q.from_, q.to
    if q.month:
        m_first, m_last = month_range(q.month)
        first = max(first, m_first) if first else m_first
        last = min(last, m_last) if last else m_last
    errors = FieldErrors()
    if q.from_ and q.to and q.from_ > q.to:
        errors.add("to", "Tidak boleh sebelum tanggal 'from'", "Must not be before 'from'")
    errors.raise_if_any()
    return QueueFilter(employee_id=q.employee_id, first=first, last=last)


def month_range(raw: str) -> tuple[date, date]:
    y, m = parse_month(raw)
    first = date(y, m, 1)
    return first, date.fromordinal(domain.first_of_next_month(first).toordinal() - 1)


def encode_cursor(key: QueueKey) -> str:
    missing, name, employee_id, day, start, entry_id = key
    raw = json.dumps([missing, name, employee_id, day.isoformat(), start.isoformat(), entry_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> QueueKey:
    """The queue position a cursor names; anything this service did not hand out is a 422."""
    try:
        missing, name, employee_id, day, start, entry_id = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        key = (missing, name, employee_id, date.fromisoformat(day), time.fromisoformat(start), entry_id)
        if not (isinstance(missing, bool) and all(isinstance(v, str) for v in (name, employee_id, entry_id))):
            raise ValueError
        return key
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ValidationFailed({"cursor": Text("Penanda halaman tidak valid; muat ulang dari halaman pertama",
                                               "Invalid page cursor; start again from the first page")})


def people_of(months: list[repository.PersonMonth]) -> list[dict]:
    """``people`` of a queue page — per person of the (date-filtered) queue: what waits, since
    when, and per month the pending and the month-to-date approved minutes, what a supervisor
    needs to pick whom to validate or to approve a person's whole month without loading their
    entries — from the queue counted per person and month (people in queue order)."""
    people: dict[str, dict] = {}
    for pm in months:
        p = people.get(pm.employee_id)
        if p is None:
            p = people[pm.employee_id] = {
                "employee_id": pm.employee_id, "employee_name": pm.employee_name, "nip": pm.nip, "pending_entries": 0,
                "pending_minutes": 0, "escalated_entries": 0, "oldest_date": pm.oldest.isoformat(), "months": []}
        p["pending_entries"] += pm.entries
        p["pending_minutes"] += pm.minutes
        p["escalated_entries"] += pm.escalated
        p["oldest_date"] = min(p["oldest_date"], pm.oldest.isoformat())
        p["months"].append({"month": f"{pm.year:04d}-{pm.month:02d}", "pending_entries": pm.entries,
                            "pending_minutes": pm.minutes, "approved_minutes": 0})
    return list(people.values())


def queue_page(s, me: str, q: QueueQuery, flt: QueueFilter) -> dict:
    """One page of the queue (``limit`` items after ``cursor``), the totals of the whole filtered
    queue and its people. ``people`` leaves the person filter out (the list to pick from).

    The queue is counted per person and month first (read from ``queue_counts`` when the dates
    filter whole months, else one GROUP BY); the page then reads only the items of the people it
    spans, from the person the cursor names on."""
    after = decode_cursor(q.cursor) if q.cursor else None
    limit = q.limit or 50
    whole = repository.whole_months(flt)
    if whole is not None:  # the common case (no dates, or a month): from the queue's counts
        months, minutes = repository.counted_months(s, me, *whole)
    else:
        months = repository.queue_months(s, me, dataclasses.replace(flt, employee_id=None))
        minutes = repository.approved_minutes(s, {(pm.employee_id, pm.year, pm.month) for pm in months})
    people = people_of(months)
    for p in people:
        for m in p["months"]:
            y, mo = parse_month(m["month"])
            m["approved_minutes"] = minutes.get((p["employee_id"], y, mo), 0)
    chosen = [p for p in people if flt.employee_id is None or p["employee_id"] == flt.employee_id]
    # People wholly before the cursor are skipped; then as many as the page (and one more item) needs.
    ahead = [p for p in chosen
             if after is None or repository.person_key(p["employee_name"], p["employee_id"]) >= after[:3]]
    span, count = [], 0
    for n, p in enumerate(ahead):
        if count > limit:
            break
        span.append(p["employee_id"])
        # The cursor's own person may be mostly behind it: it counts for nothing, the next people
        # make up the page (and one item more, to know whether another page follows).
        if not (n == 0 and after is not None and p["employee_id"] == after[2]):
            count += p["pending_entries"]
    rows = repository.queue_rows_of(s, me, flt, span) if span else []
    if after is not None:
        rows = [r for r in rows if repository.queue_key(r) > after]
    page = rows[:limit]
    more = len(rows) > limit or len(span) < len(ahead)
    return {
        "items": [item_json(r.item, r.employee_name, r.nip, r.escalation) for r in page],
        "total": sum(p["pending_entries"] for p in chosen),
        "next_cursor": encode_cursor(repository.queue_key(page[-1])) if more and page else None,
        "totals": {"entries": sum(p["pending_entries"] for p in chosen),
                   "minutes": sum(p["pending_minutes"] for p in chosen),
                   "people": len(chosen),
                   "escalated": sum(p["escalated_entries"] for p in chosen)},
        "people": people,
    }


@bp.get("/queue")
def queue():
    """The caller's validation queue: pending entries of everyone they supervise on each entry's
    date, plus entries the deadline escalated to them (``escalated``).

    Filters: ``employee_id``, ``from``/``to`` (YYYY-MM-DD, inclusive), ``month`` (YYYY-MM).
    ``items`` in order of employee, date and start time.

    Paged (``limit`` 1–500 and/or ``cursor``): ``{items, total, next_cursor, totals, people}`` —
    one page, the next page's cursor (null on the last), the totals of the filtered queue and per
    person their pending entries and months (``people`` ignores the person filter). Without
    either, the whole queue and ``groups`` (by person and day, with month-to-date minutes)."""
    me = caller_id()
    q = query(QueueQuery)
    flt = queue_filter(q)
    paged = q.limit is not None or q.cursor is not None
    if me is None:
        return ({"items": [], "total": 0, "next_cursor": None, "people": [],
                 "totals": {"entries": 0, "minutes": 0, "people": 0, "escalated": 0}} if paged
                else {"items": [], "groups": []})
    with runtime().session_factory() as s:
        if paged:
            return queue_page(s, me, q, flt)
        rows = repository.queue_view(s, me, flt)
        minutes = repository.approved_minutes(s, {(r.item.employee_id, r.item.date.year, r.item.date.month) for r in rows})
        return {"items": [item_json(r.item, r.employee_name, r.nip, r.escalation) for r in rows],
                "groups": groups_json(rows, minutes)}


@bp.get("/queue/entry-ids")
def queue_entry_ids():
    """Every entry id of the filtered queue, in queue order (same filters as GET /queue): what a
    supervisor's "approve the whole filtered list" sends to POST /decisions, 1,000 at a time."""
    me = caller_id()
    flt = queue_filter(query(IdsQuery))
    if me is None:
        return {"entry_ids": [], "total": 0}
    with runtime().session_factory() as s:
        ids = [r.item.entry_id for r in repository.queue_view(s, me, flt)]
    return {"entry_ids": ids, "total": len(ids)}


@bp.get("/entries/<entry_id>")
def get_entry(entry_id: str):
    """One entry with its decision history (the employee, their supervisor on that date, whoever
    the deadline escalated it to, whoever decided it)."""
    me = caller_id()
    with runtime().session_factory() as s:
        item, history, escalation = services.visible_entry(s, entry_id, me)
        person = s.get(Employee, item.employee_id)
        return {**item_json(item, person and person.name, person and person.nip, escalation),
                "decisions": [decision_json(d) for d in history]}


def _decide(entry_id: str, decision: str, reason: str | None = None):
    me = caller_id()
    with runtime().uow(g.request_id) as uow:
        item, record = services.decide(uow, entry_id, decision, me, reason, g.request_id)
        person = uow.session.get(Employee, item.employee_id)
        escalation = repository.escalations_of(uow.session, [item.entry_id]).get(item.entry_id)
        return idempotency.commit(uow, {**item_json(item, person and person.name, person and person.nip, escalation),
                                        "decision": decision_json(record)})


@bp.post("/entries/<entry_id>/approve")
@idempotency.idempotent
def approve(entry_id: str):
    """Approve an entry (its supervisor on the entry's date); publishes activity.approved."""
    return _decide(entry_id, "approve")


@bp.post("/entries/<entry_id>/reject")
@idempotency.idempotent
@accepts(ReasonIn)
def reject(entry_id: str, body: ReasonIn):
    """Reject an entry with a mandatory reason; publishes activity.rejected."""
    return _decide(entry_id, "reject", body.reason)


@bp.post("/entries/<entry_id>/return")
@idempotency.idempotent
@accepts(ReasonIn)
def return_entry(entry_id: str, body: ReasonIn):
    """Return an entry for revision with a mandatory reason; publishes activity.returned."""
    return _decide(entry_id, "return", body.reason)


@bp.post("/decisions")
@idempotency.idempotent
@accepts(DecisionsIn)
def decide_many(body: DecisionsIn):
    """One decision on up to 1,000 entries, all or nothing.

    Every entry is checked (the caller's to decide, still pending, month not locked); if any fails,
    nothing is decided and the answer (403, else 422 for unknown ids, else 409) lists each failure
    as ``fields["entry_ids.<n>"]`` and ``entries[{index, entry_id, code}]``. One event per entry."""
    me = caller_id()
    with runtime().uow(g.request_id) as uow:
        decided = services.decide_many(uow, body.entry_ids, body.decision, me, body.reason, g.request_id)
        first = decided[0][1]
        return idempotency.commit(uow, {
            "decision": body.decision, "decided": len(decided), "decided_by": first.decided_by,
            "decided_at": services.iso_utc(first.decided_at),
            "entries": [{"entry_id": i.entry_id, "status": i.status, "version": i.version} for i, _ in decided]})


@bp.get("/reports/late-validations")
def late_validations():
    """Late validations of ``?month=YYYY-MM`` per supervisor (admin_bkd): entries of that month
    the supervisor had not validated by the deadline, and how many are still pending."""
    admin()
    q = query(MonthQuery)
    y, m = parse_month(q.month)
    with runtime().session_factory() as s:
        return {"month": q.month, "supervisors": services.late_validations(s, y, m)}


@bp.get("/reports/rejection-rates")
def rejection_rates():
    """How each supervisor decided the entries of ``?month=YYYY-MM``: approved, rejected, returned,
    the rejection rate, and ``board_trigger`` when it is above the policy's threshold (the rate
    that sends an appeal straight to the appeals board). Roles admin_bkd and majelis."""
    principal().require("admin_bkd", "majelis")
    q = query(MonthQuery)
    y, m = parse_month(q.month)
    with runtime().session_factory() as s:
        return {"month": q.month, **services.rejection_rates(s, y, m)}


@bp.get("/reports/pending")
def pending_validations():
    """Entries of ``?month=YYYY-MM`` still awaiting their supervisor's decision, per employee,
    with the month's validation deadline and whether it has passed. Roles admin_bkd and bpkad
    (who must not pay a month whose minutes are still being validated without knowing it)."""
    principal().require("admin_bkd", "bpkad")
    q = query(MonthQuery)
    y, m = parse_month(q.month)
    with runtime().session_factory() as s:
        return services.pending_validations(s, y, m, today())


def _year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise ValidationFailed({"year": Text("Tahun tidak valid", "Invalid year")})
    return year


@bp.get("/policies/<int:year>")
def get_policy(year: int):
    """The year's validation and appeal policy (defaults until BKD stores one); any logged-in user."""
    principal()
    with runtime().session_factory() as s:
        return services.policy_view(s, _year(year))


@bp.put("/policies/<int:year>")
@accepts(PolicyIn)
def put_policy(year: int, body: PolicyIn):
    """Replace the year's policy (admin_bkd); every change is audited."""
    who = admin()
    with runtime().uow(g.request_id) as uow:
        view = services.put_policy(uow, _year(year), body.model_dump(), who.account_id)
        uow.commit()
    return view


def evidence_store_from(extra: dict[str, str]) -> EvidenceStore:
    """``APPROVAL_EVIDENCE_DIR`` (default ``$EKINERJA_DATA_DIR/approval-evidence``) and
    ``APPROVAL_EVIDENCE_MAX_BYTES`` (default 5 MiB)."""
    root = extra.get("APPROVAL_EVIDENCE_DIR") or os.path.join(
        os.environ.get("EKINERJA_DATA_DIR", os.path.join(os.getcwd(), "var")), "approval-evidence")
    return EvidenceStore(root, int(extra.get("APPROVAL_EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES)))


def create_app(settings: Settings | None = None, verifier: TokenVerifier | None = None,
               today_fn: Callable[[], date] | None = None):
    rt = build_runtime(settings)
    verifier = verifier or verifier_for(rt)
    app = create_base_app("approval", verifier, rt.check_ready, "E-Kinerja approval (BKD, validasi atasan)",
                          "The supervisor's validation queue and decisions on daily activity entries, deadlines and "
                          "escalation, appeals (keberatan) and the appeals board (majelis banding).")
    app.extensions["runtime"] = rt
    app.extensions["clock"] = today_fn or (lambda: clock.today())  # looked up per call: tests may move it
    app.extensions["evidence_store"] = evidence_store_from(rt.settings.extra)
    app.register_blueprint(bp)
    app.register_blueprint(appeals_bp)
    return app
