"""HTTP entry point of the activity service: parse, authorize, call the service layer, map
results to JSON. Entry endpoints work on the caller's own entries only: the employee comes from
the token, never from the request. Attendance and the calendar are in attendance_app."""
from __future__ import annotations

import os
from datetime import date, time
from typing import Annotated

from flask import Blueprint, g, request, send_file
from pydantic import BeforeValidator, Field
from sqlalchemy import select

from ekinerja_common import clock, idempotency
from ekinerja_common.auth import TokenVerifier
from ekinerja_common.auth_store import verifier_for
from ekinerja_common.config import Settings
from ekinerja_common.errors import NotFound, Text
from ekinerja_common.web import accepts, create_base_app, parsed_fields, principal

from . import domain, entry_policy, repository, services, team
from .attendance_app import bp as attendance_bp
from .bkd_app import bp as bkd_bp
from ekinerja_common.evidence import EvidenceStore
from .http import (Strict, current_policy, employee, evidence_json, evidence_store, hhmm, query_date, query_month,
                   read_session, runtime, uploaded_file)
from .orm import Duty, Entry
from .runtime import build_runtime

bp = Blueprint("activity", __name__)


class EntryIn(Strict):
    date: date
    start_time: Annotated[time, BeforeValidator(hhmm)]
    end_time: Annotated[time, BeforeValidator(hhmm)]
    duty_id: str = Field(min_length=1, max_length=36)
    # Strict: "3" or 2.5 is a typing mistake, not an output count. The bound only keeps the
    # number inside its column; the real limit is the daily ceiling.
    volume: int = Field(strict=True, le=1_000_000)
    description: str = Field(min_length=1, max_length=2000)

    def draft(self) -> domain.Draft:
        return domain.Draft(self.date, self.start_time, self.end_time, self.duty_id, self.volume, self.description)


class NewEntryIn(EntryIn):
    # false: keep it as a draft (not sent to the supervisor yet; POST /entries/{id}/submit later).
    submit: bool = Field(default=True, strict=True)


MAX_BATCH = 50


class BatchIn(Strict):
    """A day's list (or several days') entered at once: all stored, or none."""

    entries: list[EntryIn] = Field(min_length=1, max_length=MAX_BATCH)
    submit: bool = Field(default=True, strict=True)


def entry_json(e: Entry) -> dict:
    return {
        "id": e.id, "employee_id": e.employee_id, "date": e.date.isoformat(),
        "start_time": e.start_time.strftime("%H:%M"), "end_time": e.end_time.strftime("%H:%M"),
        "duty_id": e.duty_id, "duty_description": e.duty_description, "volume": e.volume,
        "output_unit": e.output_unit, "norma_waktu": e.norma_waktu, "credited_minutes": e.credited_minutes,
        "description": e.description, "status": e.status, "reason": e.reason, "version": e.version,
        # An edit or withdrawal of a pending entry waits for approval's word (the supervisor may
        # have decided first); ``superseded`` says that the decision came first and stands.
        "awaiting_confirmation": bool(e.awaiting_confirmation),
        "superseded": domain.SUPERSEDED[e.superseded_change].as_json() if e.superseded_change else None,
        "appeal": {"appeal_id": e.appeal_id, "outcome": e.appeal_outcome} if e.appeal_id else None,
    }


def duty_json(d: Duty) -> dict:
    return {"id": d.duty_id, "position_id": d.position_id, "description": d.description,
            "output_unit": d.output_unit, "norma_waktu": d.norma_waktu}


@bp.get("/duties")
def list_duties():
    """The caller's duties on ``?date=YYYY-MM-DD`` (default today), from every post held that day.

    ``position_id`` is the definitive post (or the first Plt post when there is none);
    ``positions`` lists every post held, Plt included."""
    emp = employee()
    day = query_date("date")
    with runtime().session_factory() as s:
        placements, duties = services.duties_on(s, emp, day)
        return {
            "date": day.isoformat(),
            "position_id": placements[0].position_id if placements else None,
            "positions": [{"position_id": p.position_id, "kind": p.kind} for p in placements],
            "duties": [duty_json(d) for d in duties],
            # What the entry form shows beside the credited minutes (a running day total).
            "limits": {"daily_ceiling_minutes": current_policy().daily_ceiling_minutes,
                       # BKD's window of the day's year (GET /entry-policies/{year}).
                       "submission_window_days": entry_policy.stored_window_days(s, day.year)
                       or current_policy().submission_window_days,
                       "revision_window_days": current_policy().revision_window_days,
                       "target_minutes_per_day": repository.load_calendar(s, day.year).target_minutes_per_day},
        }


@bp.post("/entries/preview")
@accepts(EntryIn)
def preview_entry(body: EntryIn):
    """Credited minutes and every rule the entry would break, without storing anything."""
    emp = employee()
    with runtime().session_factory() as s:
        result = services.preview_entry(s, emp, body.draft(), clock.today(), current_policy())
    return {"credited_minutes": result.credited_minutes, "valid": result.valid,
            "errors": {name: t.as_json() for name, t in result.errors.items()}}


def _rule_draft(values: dict) -> tuple[domain.Draft, set[str]] | None:
    """A draft of the fields of a body that failed its schema, for the rules hooks below, and the
    error names not to report: the rules need the date, times and duty; volume and description
    stand in when missing, and what depends on them is not said."""
    if not {"date", "start_time", "end_time", "duty_id"} <= values.keys():
        return None
    stand_ins = {name for name in ("volume", "description") if name not in values}
    draft = domain.Draft(values["date"], values["start_time"], values["end_time"], values["duty_id"],
                         values.get("volume", 1), values.get("description", "-"))
    return draft, stand_ins | ({"credited_minutes"} if "volume" in stand_ins else set())


def entry_rules(values: dict) -> dict[str, Text]:
    """The entry rules (date window, duty of the position, overlap, daily ceiling) on the fields of
    a body that failed its schema, so that one 422 lists both kinds."""
    made = _rule_draft(values)
    if made is None:
        return {}
    draft, hidden = made
    with runtime().session_factory() as s:
        result = services.preview_entry(s, employee(), draft, clock.today(), current_policy())
    return {name: text for name, text in result.errors.items() if name not in hidden}


def edit_rules(values: dict) -> dict[str, Text]:
    """entry_rules for PUT /entries/{id}: judged as the edit would be, so the entry does not
    overlap its own slot (nor its earlier versions)."""
    made = _rule_draft(values)
    if made is None:
        return {}
    draft, hidden = made
    with runtime().session_factory() as s:
        result = services.preview_edit(s, employee(), (request.view_args or {})["entry_id"], draft, clock.today(),
                                       current_policy())
    if result is None:
        return {}
    return {name: text for name, text in result.errors.items() if name not in hidden}


def batch_rules(values: dict) -> dict[str, Text]:
    """entry_rules for POST /entries/batch, per item as ``entries.<i>.<field>``: each item whose
    date, times and duty parsed is judged against the stored entries and the earlier such items
    of the list, as the batch itself is. The list failed its schema as a whole, so the items are
    taken from the raw body, each field parsed on its own."""
    raw = request.get_json(silent=True)
    items = raw.get("entries") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
        return {}
    made = [_rule_draft(parsed_fields(EntryIn, item, set())) if isinstance(item, dict) else None for item in items]
    with runtime().session_factory() as s:
        results = services.preview_batch(s, employee(), [m[0] if m else None for m in made], clock.today(),
                                         current_policy())
    errors: dict[str, Text] = {}
    guessed_days: set = set()  # days where an earlier item's credit rests on a stand-in volume
    for i, (m, result) in enumerate(zip(made, results)):
        if m is None or result is None:
            continue
        draft, own_hidden = m
        hidden = own_hidden | ({"credited_minutes"} if draft.date in guessed_days else set())
        if "volume" in own_hidden:
            guessed_days.add(draft.date)
        errors.update({f"entries.{i}.{name}": text for name, text in result.errors.items() if name not in hidden})
    return errors


@bp.post("/entries")
@idempotency.idempotent
@accepts(NewEntryIn, rules=entry_rules)
def submit_entry(body: NewEntryIn):
    """Submit a daily activity entry for the supervisor's validation; publishes activity.submitted.

    With ``"submit": false`` the entry is kept as a draft (checked by the same rules, not sent)."""
    emp = employee()
    if g.get("idempotency") is None:
        # No stored answer to commit with the entry: its write is one statement, so it needs no
        # transaction (services.at_once); if another change of the employee's came between the
        # read and the write, it runs again below, in one.
        try:
            with services.at_once(runtime(), g.request_id) as uow:
                if uow is not None:
                    [entry] = services.create_entries(uow, emp, [body.draft()], clock.today(), current_policy(),
                                                      as_draft=not body.submit, at_once=True)
                    return entry_json(entry), 201
        except services.Contended:
            pass
    with runtime().uow(g.request_id) as uow:
        [entry] = services.create_entries(uow, emp, [body.draft()], clock.today(), current_policy(),
                                          as_draft=not body.submit)
        return idempotency.commit(uow, entry_json(entry), 201)


@bp.post("/entries/batch")
@idempotency.idempotent
@accepts(BatchIn, rules=batch_rules)
def submit_batch(body: BatchIn):
    """Several entries at once (a day's list): all stored or none; errors per item as
    ``entries.<i>.<field>``; items are checked against each other (overlap, daily ceiling)."""
    emp = employee()
    with runtime().uow(g.request_id) as uow:
        entries = services.create_entries(uow, emp, [e.draft() for e in body.entries], clock.today(),
                                          current_policy(), as_draft=not body.submit, batch=True)
        return idempotency.commit(uow, {"entries": [entry_json(e) for e in entries]}, 201)


@bp.put("/entries/<entry_id>")
@accepts(EntryIn, rules=edit_rules)
def edit_entry(entry_id: str, body: EntryIn):
    """Change an own entry not yet decided (draft, pending, returned, withdrawn). A pending entry
    is announced again (activity.submitted, higher version); the others are only saved."""
    emp = employee()
    with runtime().uow(g.request_id) as uow:
        entry = services.edit_entry(uow, emp, entry_id, body.draft(), clock.today(), current_policy())
        uow.commit()
    return entry_json(entry)


@bp.post("/entries/<entry_id>/submit")
def submit_existing(entry_id: str):
    """Submit a draft, or resubmit a returned (revised) or withdrawn entry; publishes activity.submitted."""
    emp = employee()
    with runtime().uow(g.request_id) as uow:
        entry = services.submit_existing(uow, emp, entry_id, clock.today(), current_policy())
        uow.commit()
    return entry_json(entry)


@bp.delete("/entries/<entry_id>")
def delete_draft(entry_id: str):
    """Delete an own draft (and its evidence files). Anything once submitted stays."""
    emp = employee()
    with runtime().uow(g.request_id) as uow:
        files = services.delete_draft(uow, emp, entry_id)
        uow.commit()
    for evidence_id in files:
        evidence_store().delete(evidence_id)
    return "", 204


@bp.post("/entries/<entry_id>/evidence")
def add_evidence(entry_id: str):
    """Attach an evidence file (multipart field ``file``: PDF, JPEG or PNG, judged by content;
    at most 5 MB) to an own entry that is not decided yet."""
    emp = employee()
    filename, data = uploaded_file()
    with runtime().uow(g.request_id) as uow:
        row = services.add_entry_evidence(uow, evidence_store(), emp, entry_id, filename, data, current_policy())
        try:
            uow.commit()
        except Exception:
            evidence_store().delete(row.id)
            raise
    return evidence_json(row), 201


@bp.get("/entries/<entry_id>/evidence")
def list_evidence(entry_id: str):
    """An entry's evidence files: for the employee, their supervisor(s) on the entry's date and
    the appeals board (majelis)."""
    who = principal()
    with runtime().session_factory() as s:
        entry = services.visible_entry(s, who, entry_id)
        return {"entry_id": entry.id, "evidence": [evidence_json(e) for e in services.entry_evidence(s, entry.id)]}


@bp.delete("/entries/<entry_id>/evidence/<evidence_id>")
def remove_evidence(entry_id: str, evidence_id: str):
    """Remove an evidence file from an own entry that is not decided yet."""
    emp = employee()
    with runtime().uow(g.request_id) as uow:
        removed = services.remove_entry_evidence(uow, emp, entry_id, evidence_id)
        uow.commit()
    evidence_store().delete(removed)
    return "", 204


@bp.get("/evidence/<evidence_id>")
def download_evidence(evidence_id: str):
    """The file itself, for the same audience as its entry (a leave's evidence: also admin_bkd).
    Served as an attachment with the type found in its content, never the uploader's claim."""
    who = principal()
    with runtime().session_factory() as s:
        row = services.visible_evidence(s, who, evidence_id)
    try:
        handle = evidence_store().open(row.id)
    except (FileNotFoundError, ValueError):
        raise NotFound(services.EVIDENCE_NOT_FOUND)
    resp = send_file(handle, mimetype=row.content_type, as_attachment=True, download_name=row.filename, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


@bp.get("/me/month")
def my_month():
    """The caller's month (``?month=YYYY-MM``, default this month): approved / pending / returned /
    rejected minutes, target, productivity %, attendance and discipline %. No TPP money figure:
    the TPP policy is payroll's (see ``tpp_note``)."""
    emp = employee()
    first, _ = query_month()
    with read_session() as s:
        return services.month_view(s, emp, first.year, first.month)


@bp.get("/team/month")
def my_team_month():
    """My team's month (``?month=YYYY-MM``, default this month): for everyone the caller
    supervises on a day of the month, days filled, minutes approved / pending / returned /
    rejected against the month's target, pending entries and the oldest one's age, rejections,
    entries this week (0: "entered nothing this week"). Someone who supervises nobody gets an
    empty list."""
    emp = employee()
    first, _ = query_month()
    with runtime().session_factory() as s:
        return team.team_month(s, emp, first.year, first.month, clock.today())


@bp.get("/entries")
def list_entries():
    """The caller's own entries of ``?month=YYYY-MM`` (default this month), withdrawn ones included,
    and the month's minutes by status (the same figures as GET /me/month)."""
    emp = employee()
    first, after = query_month()
    with runtime().session_factory() as s:
        rows = s.scalars(
            select(Entry).where(Entry.employee_id == emp, Entry.date >= first, Entry.date < after)
            .order_by(Entry.date, Entry.start_time)
        )
        return {"entries": [entry_json(e) for e in rows],
                "minutes": services.month_minutes(s, emp, first.year, first.month)}


@bp.get("/entries/<entry_id>")
def get_entry(entry_id: str):
    """One of the caller's own entries (anyone else's is 404)."""
    emp = employee()
    with runtime().session_factory() as s:
        return entry_json(services.own_entry(s, emp, entry_id))


@bp.post("/entries/<entry_id>/withdraw")
def withdraw_entry(entry_id: str):
    """Withdraw an own entry still awaiting validation; publishes activity.withdrawn."""
    emp = employee()
    with runtime().uow(g.request_id) as uow:
        entry = services.withdraw_entry(uow, emp, entry_id)
        uow.commit()
    return entry_json(entry)


def evidence_dir(settings: Settings) -> str:
    """ACTIVITY_EVIDENCE_DIR, else <EKINERJA_DATA_DIR>/evidence (the data directory of config)."""
    configured = settings.extra.get("ACTIVITY_EVIDENCE_DIR")
    if configured:
        return configured
    return os.path.join(os.environ.get("EKINERJA_DATA_DIR", os.path.join(os.getcwd(), "var")), "evidence")


def create_app(settings: Settings | None = None, verifier: TokenVerifier | None = None,
               policy: domain.EntryRules | None = None):
    rt = build_runtime(settings)
    verifier = verifier or verifier_for(rt)
    app = create_base_app("activity", verifier, rt.check_ready, "E-Kinerja activity (BKD kinerja)",
                          "Daily activity entries against the duties of the employee's position, with credited "
                          "minutes and evidence; attendance (presensi) with discipline codes; the work calendar.")
    app.extensions["runtime"] = rt
    app.extensions["activity_policy"] = policy or domain.EntryRules.from_settings(rt.settings.extra)
    app.extensions["evidence_store"] = EvidenceStore(evidence_dir(rt.settings))
    app.register_blueprint(bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(bkd_bp)
    return app
