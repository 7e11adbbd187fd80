"""HTTP entry points of appeals (keberatan) and the appeals board (majelis banding): parse, call
:mod:`approval.appeals`, map to JSON. Who may do what is decided per appeal by the service layer
(the caller's standing to it); whoever may not read an appeal gets 404."""
from __future__ import annotations

import json
from datetime import date
from typing import Literal

from flask import Blueprint, current_app, g, request, send_file
from pydantic import Field

from ekinerja_common import idempotency
from ekinerja_common.errors import NotFound, Text, ValidationFailed
from ekinerja_common.web import accepts, principal

from . import appeals, domain, services
from .http import MONTH_PATTERN, EntryId, Strict, admin, employee, item_json, parse_month, query, runtime, today
from ekinerja_common.evidence import EvidenceStore
from .orm import Appeal, AppealTrail, BoardMember, Employee

bp = Blueprint("appeals", __name__)


class AppealIn(Strict):
    entry_ids: list[EntryId] | None = Field(default=None, min_length=1, max_length=domain.MAX_BULK)
    month: str | None = Field(default=None, pattern=MONTH_PATTERN)
    reasons: str = Field(default="", max_length=5000)


class CommentIn(Strict):
    text: str = Field(default="", max_length=5000)


class DecideIn(Strict):
    outcome: Literal["upheld", "overturned"]
    reasoning: str = Field(default="", max_length=5000)


class MemberIn(Strict):
    employee_id: str = Field(min_length=1, max_length=36)
    from_date: date
    to_date: date | None = None


class ListQuery(Strict):
    status: Literal["open", "decided"] | None = None
    # Only the appeals waiting for the caller to do something (decide, comment, escalate, …).
    needs_action: bool = False


def evidence_store() -> EvidenceStore:
    return current_app.extensions["evidence_store"]


def appeal_json(a: Appeal, rel: set[str] | None = None) -> dict:
    out = {
        "id": a.id, "employee_id": a.employee_id, "original_decider_id": a.original_decider_id,
        "first_level_decider_id": a.first_level_decider_id, "level": a.level, "status": a.status,
        "outcome": a.outcome, "reasons": a.reasons, "month": a.month, "filed_at": services.iso_utc(a.filed_at),
        "first_level_due": a.first_level_due.isoformat() if a.first_level_due else None,
        "board_reason": a.board_reason, "escalated_at": services.iso_utc(a.escalated_at) if a.escalated_at else None,
        "decided_by": a.decided_by, "decided_at": services.iso_utc(a.decided_at) if a.decided_at else None,
        "version": a.version,
    }
    if rel is not None:
        out["my_roles"] = sorted(rel)
    return out


def people_of(a: Appeal, names: dict[str, tuple[str, str]]) -> dict:
    """The names (and NIPs) of the people an appeal names, beside their ids."""
    def name(i):
        return names[i][0] if i in names else None
    return {"employee_name": name(a.employee_id), "employee_nip": names.get(a.employee_id, (None, None))[1],
            "original_decider_name": name(a.original_decider_id),
            "first_level_decider_name": name(a.first_level_decider_id), "decided_by_name": name(a.decided_by)}


def listed_json(s, pairs: list[tuple[Appeal, set[str]]], on: date) -> list[dict]:
    """Appeals as listed: with names, the number of entries and what the caller can do next."""
    ids = [a.id for a, _ in pairs]
    names = appeals.names(s, {x for a, _ in pairs for x in (a.employee_id, a.original_decider_id,
                                                              a.first_level_decider_id, a.decided_by)})
    commented, entries = appeals.commented(s, ids), appeals.entries_of(s, ids)
    policies = services.policies_for(s, {appeals.escalation_year(a, on) for a, _ in pairs})
    return [{**appeal_json(a, rel), **people_of(a, names), "entry_ids": entries.get(a.id, []),
             "entry_count": len(entries.get(a.id, [])),
             "my_actions": appeals.actions(a, rel, on, policies.__getitem__, a.id in commented)} for a, rel in pairs]


def appeal_detail(a: Appeal, rel: set[str]) -> dict:
    on = today()
    with runtime().session_factory() as s:
        p = appeals.parts(s, a.id)
        names = appeals.names(s, {a.employee_id, a.original_decider_id, a.first_level_decider_id, a.decided_by,
                                  *(c.author_id for c in p.comments), *(d.decided_by for d in p.decisions),
                                  *(e.rejected_by for e, _ in p.entries)})
        name = lambda i: names[i][0] if i in names else None  # noqa: E731
        return {
            **appeal_json(a, rel), **people_of(a, names), "entry_count": len(p.entries),
            "my_actions": appeals.actions(a, rel, on, lambda year: services.policy_for(s, year), bool(p.comments)),
            "entries": [{**(item_json(item) if item else {"entry_id": e.entry_id}),
                         "rejected_by": e.rejected_by, "rejected_by_name": name(e.rejected_by),
                         "rejected_at": services.iso_utc(e.rejected_at),
                         "rejection_reason": e.rejection_reason} for e, item in p.entries],
            "comments": [{"id": c.id, "author_id": c.author_id, "author_name": name(c.author_id), "text": c.text,
                          "created_at": services.iso_utc(c.created_at)} for c in p.comments],
            "evidence": [evidence_json(a.id, e) for e in p.evidence],
            "decisions": [{"level": d.level, "outcome": d.outcome, "reasoning": d.reasoning, "decided_by": d.decided_by,
                           "decided_by_name": name(d.decided_by), "decided_at": services.iso_utc(d.decided_at),
                           "version": d.version} for d in p.decisions],
        }


def evidence_json(appeal_id: str, e) -> dict:
    return {"id": e.id, "filename": e.filename, "content_type": e.content_type, "size": e.size, "sha256": e.sha256,
            "uploaded_at": services.iso_utc(e.uploaded_at), "url": f"/appeals/{appeal_id}/evidence/{e.id}"}


def trail_json(t: AppealTrail, names: dict[str, tuple[str, str]] | None = None) -> dict:
    actor = (names or {}).get(t.actor_id or "")
    return {"seq": t.seq, "step": t.step, "level": t.level, "actor_id": t.actor_id,
            "actor_name": actor[0] if actor else None, "at": services.iso_utc(t.at), "details": json.loads(t.details)}


def member_json(m: BoardMember, e: Employee | None, on: date) -> dict:
    return {"id": m.id, "employee_id": m.employee_id, "name": e.name if e else None, "nip": e.nip if e else None,
            "from_date": m.from_date.isoformat(), "to_date": m.to_date.isoformat() if m.to_date else None,
            "active": m.from_date <= on and (m.to_date is None or on <= m.to_date),
            "appointed_by": m.appointed_by, "appointed_at": services.iso_utc(m.appointed_at),
            "ended_by": m.ended_by, "ended_at": services.iso_utc(m.ended_at) if m.ended_at else None}


# -- appeals --------------------------------------------------------------------------------------------

@bp.post("/appeals")
@idempotency.idempotent
@accepts(AppealIn)
def file_appeal(body: AppealIn):
    """File an appeal on own rejected entries (``entry_ids``) or on a month's rejections
    (``month``: YYYY-MM), with ``reasons``, within the policy window after each rejection.

    Answers 201 ``{appeals: [...]}``: one appeal per rejecting supervisor (usually one). Publishes
    appeal.filed. The board takes it at once when nobody sits above that supervisor or their
    rejection rate that month passes the policy threshold."""
    me = employee()
    if (body.entry_ids is None) == (body.month is None):
        raise ValidationFailed({"entry_ids": Text("Isi entry_ids atau month (salah satu)", "Give either entry_ids or month")})
    with runtime().uow(g.request_id) as uow:
        filed = appeals.file_appeals(uow, me, entry_ids=body.entry_ids,
                                     month=parse_month(body.month) if body.month else None,
                                     reasons=body.reasons, today=today(), request_id=g.request_id)
        return idempotency.commit(uow, {"appeals": [appeal_json(a, {appeals.APPELLANT}) for a in filed]}, 201)


@bp.get("/appeals")
def list_appeals():
    """Appeals the caller may read (``?status=open|decided``): own, to comment on, to decide at
    first level, seated on the board; admin_bkd: all. ``my_roles`` says how the caller stands,
    ``my_actions`` what they can do now (decide, comment, escalate, add_evidence); with
    ``?needs_action=true`` only those waiting for the caller. Names come with the ids, and
    ``entry_ids`` the entries each appeal is about (so an employee's list can show which entry
    was appealed and how it ended)."""
    who = principal()
    who.require("pegawai", "majelis", "admin_bkd")
    q = query(ListQuery)
    on = today()
    with runtime().session_factory() as s:
        listed = listed_json(s, appeals.listing(s, who, on, q.status), on)
    if q.needs_action:
        listed = [a for a in listed if a["my_actions"]]
    return {"appeals": listed}


@bp.get("/appeals/<appeal_id>")
def get_appeal(appeal_id: str):
    """The appeal with its entries, the original supervisor's comments, evidence and decisions:
    for the employee, the original supervisor, the first-level decider, board members seated on
    it and admin_bkd; anyone else 404."""
    with runtime().session_factory() as s:
        appeal, rel = appeals.readable(s, appeal_id, principal(), today())
    return appeal_detail(appeal, rel)


@bp.get("/appeals/<appeal_id>/trail")
def get_trail(appeal_id: str):
    """Every step of the appeal in order (filed, commented, evidence_added, escalated, decided):
    for the employee, the deciders (first level, seated board members) and admin_bkd."""
    with runtime().session_factory() as s:
        appeal, _ = appeals.readable(s, appeal_id, principal(), today(), trail=True)
        steps = appeals.trail(s, appeal.id)
        names = appeals.names(s, {t.actor_id for t in steps})
        return {"appeal_id": appeal.id, "trail": [trail_json(t, names) for t in steps]}


@bp.post("/appeals/<appeal_id>/comments")
@accepts(CommentIn)
def add_comment(appeal_id: str, body: CommentIn):
    """The original supervisor's comments on an open appeal (``{text}``), shown to the deciders."""
    with runtime().uow(g.request_id) as uow:
        row = appeals.comment(uow, appeal_id, principal(), body.text, today(), g.request_id)
        uow.commit()
    return {"id": row.id, "author_id": row.author_id, "text": row.text, "created_at": services.iso_utc(row.created_at)}, 201


@bp.post("/appeals/<appeal_id>/evidence")
def add_evidence(appeal_id: str):
    """Attach evidence to an own open appeal: multipart field ``file``, PDF, JPEG or PNG (judged by
    content), at most APPROVAL_EVIDENCE_MAX_BYTES (5 MiB). Stored outside the database."""
    who = principal()
    store = evidence_store()
    f = request.files.get("file")
    # One byte past the limit tells "too large" without reading a huge body.
    upload = (f.filename or "", f.stream.read(store.max_bytes + 1)) if f is not None else None
    with runtime().uow(g.request_id) as uow:
        row = appeals.add_evidence(uow, store, appeal_id, who, upload, today(), g.request_id)
        try:
            uow.commit()
        except Exception:
            store.delete(row.id)
            raise
    return evidence_json(appeal_id, row), 201


@bp.get("/appeals/<appeal_id>/evidence/<evidence_id>")
def download_evidence(appeal_id: str, evidence_id: str):
    """An evidence file, for whoever may read the appeal; served as an attachment with the type
    found in its content, never the uploader's claim."""
    with runtime().session_factory() as s:
        appeals.readable(s, appeal_id, principal(), today())
        row = appeals.evidence_row(s, appeal_id, evidence_id)
    try:
        handle = evidence_store().open(row.id)
    except (FileNotFoundError, ValueError):
        raise NotFound(Text("Berkas bukti tidak ditemukan", "Evidence not found"))
    resp = send_file(handle, mimetype=row.content_type, as_attachment=True, download_name=row.filename, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


@bp.post("/appeals/<appeal_id>/escalate")
def escalate_appeal(appeal_id: str):
    """The employee takes the appeal to the board: while the first level has not decided, or
    within the appeal window after it upheld the rejection."""
    with runtime().uow(g.request_id) as uow:
        appeal = appeals.escalate(uow, appeal_id, principal(), today(), g.request_id)
        uow.commit()
    return appeal_json(appeal)


@bp.post("/appeals/<appeal_id>/decide")
@accepts(DecideIn)
def decide_appeal(appeal_id: str, body: DecideIn):
    """Decide an open appeal (``{outcome: upheld|overturned, reasoning}``): the first-level decider,
    or any one seated board member once the board hears it. Publishes appeal.decided and, for
    each overturned entry, activity.approved with a higher version."""
    with runtime().uow(g.request_id) as uow:
        appeal = appeals.decide(uow, appeal_id, principal(), body.outcome, body.reasoning, today(), g.request_id)
        uow.commit()
    return appeal_json(appeal)


# -- the board -------------------------------------------------------------------------------------------

@bp.get("/board/members")
def list_members():
    """Board appointments, past and present (admin_bkd)."""
    admin()
    on = today()
    with runtime().session_factory() as s:
        return {"members": [member_json(m, e, on) for m, e in appeals.members(s)]}


@bp.post("/board/members")
@accepts(MemberIn)
def appoint_member(body: MemberIn):
    """Appoint an employee to the appeals board from ``from_date`` to ``to_date`` (inclusive; open
    when absent). admin_bkd; audited. Identity grants the majelis role separately."""
    who = admin()
    with runtime().uow(g.request_id) as uow:
        row = appeals.appoint(uow, who, body.employee_id, body.from_date, body.to_date, g.request_id)
        e = uow.session.get(Employee, row.employee_id)
        uow.commit()
    return member_json(row, e, today()), 201


@bp.delete("/board/members/<member_id>")
def remove_member(member_id: str):
    """End an appointment (admin_bkd; audited): the member no longer sits from today."""
    who = admin()
    with runtime().uow(g.request_id) as uow:
        row = appeals.remove(uow, who, member_id, today(), g.request_id)
        e = uow.session.get(Employee, row.employee_id)
        uow.commit()
    return member_json(row, e, today())
