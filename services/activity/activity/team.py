"""My team's month (GET /team/month): per person the caller supervises, the month's figures the
person sees on their own "my month" — days filled, minutes approved against the target, what
still waits and since when, rejections — and whether they entered anything this week.

Who is on the team: everyone whose supervisor (atasan langsung: the rule every service shares,
``ekinerja_common.supervision``) is the caller on at least one day of the month up to today. It is
found set-wise: the posts below the caller's, everyone placed in them, and the rule applied day by
day in memory (a month of a team of 50 is a few thousand cheap calls, a handful of queries).
Drafts are the employee's own and withdrawn entries never reached the supervisor: neither counts.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ekinerja_common import supervision_queries

from . import domain, repository
from .orm import Employee, Entry, MonthSummary

VISIBLE = ("submitted", "approved", "returned", "rejected", "overturned")  # what the supervisor has seen


def members(session: Session, supervisor_id: str, first: date, last: date) -> list[str]:
    """The people ``supervisor_id`` supervises on at least one day of [first, last]: the shared
    supervisor rule and loader (``ekinerja_common.supervision_queries.subordinates_between``),
    the same approval routes validations with."""
    return sorted(supervision_queries.subordinates_between(session, repository.FACTS, supervisor_id, first, last))


def team_month(session: Session, supervisor_id: str, year: int, month: int, today: date) -> dict:
    first = date(year, month, 1)
    after = (first + timedelta(days=32)).replace(day=1)
    last = min(after - timedelta(days=1), today)
    cal = repository.load_calendar(session, year)
    working_days = cal.working_days(month)
    target = working_days * cal.target_minutes_per_day
    week_first = today - timedelta(days=today.weekday())  # Monday of this week
    base = {"month": f"{year:04d}-{month:02d}", "working_days": working_days, "target_minutes": target,
            "working_days_so_far": sum(1 for n in range((last - first).days + 1) if cal.is_working_day(first + timedelta(n)))
            if last >= first else 0,
            "this_week": {"from": week_first.isoformat(), "to": today.isoformat()}}
    team = members(session, supervisor_id, first, last) if last >= first else []
    if not team:
        return {**base, "members": [], "totals": _totals([], target)}
    people = {e.employee_id: e for e in session.scalars(select(Employee).where(Employee.employee_id.in_(team)))}
    summaries = {m.employee_id: m for m in session.scalars(select(MonthSummary).where(
        MonthSummary.employee_id.in_(team), MonthSummary.year == year, MonthSummary.month == month))}
    in_month = and_(Entry.employee_id.in_(team), Entry.date >= first, Entry.date < after, Entry.status.in_(VISIBLE))
    counts = {r.employee_id: r for r in session.execute(
        select(Entry.employee_id,
               func.count(func.distinct(Entry.date)).label("days"),
               func.count().filter(Entry.status == "submitted").label("pending"),
               func.min(Entry.date).filter(Entry.status == "submitted").label("oldest"),
               func.count().filter(Entry.status == "rejected").label("rejected"),
               func.count().filter(Entry.status == "returned").label("returned"))
        .where(in_month).group_by(Entry.employee_id))}
    this_week = dict(session.execute(
        select(Entry.employee_id, func.count()).where(Entry.employee_id.in_(team), Entry.date >= week_first,
                                                      Entry.date <= today, Entry.status.in_(VISIBLE))
        .group_by(Entry.employee_id)).all())
    rows = []
    for employee_id in team:
        person, summary, c = people.get(employee_id), summaries.get(employee_id), counts.get(employee_id)
        approved = summary.approved_minutes if summary else 0
        productivity = domain.productivity_pct(approved, target)
        oldest = c.oldest if c else None
        rows.append({
            "employee_id": employee_id, "name": person.name if person else None, "nip": person.nip if person else None,
            "days_filled": c.days if c else 0,
            "minutes": {"approved": approved, "pending": summary.pending_minutes if summary else 0,
                        "returned": summary.returned_minutes if summary else 0,
                        "rejected": summary.rejected_minutes if summary else 0},
            "productivity_pct": str(productivity) if productivity is not None else None,
            "pending_entries": c.pending if c else 0,
            "oldest_pending_date": oldest.isoformat() if oldest else None,
            "oldest_pending_days": (today - oldest).days if oldest else None,
            "rejected_entries": c.rejected if c else 0, "returned_entries": c.returned if c else 0,
            "entries_this_week": this_week.get(employee_id, 0),
        })
    rows.sort(key=lambda r: ((r["name"] or "").casefold(), r["employee_id"]))
    return {**base, "members": rows, "totals": _totals(rows, target)}


def _totals(rows: list[dict], target: int) -> dict:
    approved = sum(r["minutes"]["approved"] for r in rows)
    capped = sum(min(r["minutes"]["approved"], target) for r in rows)
    # The team's productivity: the mean of the members' (each capped at their target).
    pct = domain.productivity_pct(capped, target * len(rows)) if rows else None
    return {"members": len(rows), "approved_minutes": approved, "pending_entries": sum(r["pending_entries"] for r in rows),
            "productivity_pct": str(pct) if pct is not None else None,
            "nothing_this_week": sum(1 for r in rows if r["entries_this_week"] == 0)}

