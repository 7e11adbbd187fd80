"""My team's month (GET /team/month): per person the caller supervises, the month's figures the
person sees on their own "my month" — days filled, minutes approved against the target, what
still waits and since when, rejections — and whether they entered anything this week.

Who is on the team: everyone whose supervisor (atasan langsung, :func:`domain.supervisor_chain`,
the rule evidence access uses) is the caller on at least one day of the month up to today. It is
found set-wise: the posts below the caller's, everyone placed in them, and the rule applied day by
day in memory (a month of a team of 50 is a few thousand cheap calls, a handful of queries).
Drafts are the employee's own and withdrawn entries never reached the supervisor: neither counts.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from . import domain, repository
from .orm import Employee, Entry, MonthSummary, Placement, Position

VISIBLE = ("submitted", "approved", "returned", "rejected", "overturned")  # what the supervisor has seen


def _active_between(first: date, last: date):
    return and_(Placement.start_date <= last, or_(Placement.end_date.is_(None), Placement.end_date >= first))


def _below(session: Session, roots: set[str]) -> dict[str, str | None]:
    """Every position under ``roots`` (at any depth) with its parent; the roots too."""
    tree = select(Position.position_id, Position.parent_id).where(Position.position_id.in_(roots)).cte("tree", recursive=True)
    # UNION (not UNION ALL) drops rows already seen, so a damaged cyclic tree still ends.
    tree = tree.union(select(Position.position_id, Position.parent_id).join(tree, Position.parent_id == tree.c.position_id))
    return {pid: parent for pid, parent in session.execute(select(tree.c.position_id, tree.c.parent_id))}


def members(session: Session, supervisor_id: str, first: date, last: date) -> list[str]:
    """The people ``supervisor_id`` supervises on at least one day of [first, last]."""
    own = session.scalars(select(Placement).where(Placement.employee_id == supervisor_id,
                                                  _active_between(first, last))).all()
    if not own:
        return []
    parent_of = _below(session, {p.position_id for p in own})
    placements = session.scalars(select(Placement).where(Placement.position_id.in_(list(parent_of)),
                                                         _active_between(first, last))).all()
    candidates = {p.employee_id for p in placements if p.kind == "definitive" and p.employee_id != supervisor_id}
    found: set[str] = set()
    day = first
    while day <= last and candidates - found:
        on = [p for p in placements if p.start_date <= day and (p.end_date is None or p.end_date >= day)]
        holders: dict[str, list[domain.Holding]] = defaultdict(list)
        own_post: dict[str, Placement] = {}
        for p in on:
            holders[p.position_id].append(domain.Holding(p.employee_id, p.kind, p.start_date, p.placement_id))
            if p.kind == "definitive":
                best = own_post.get(p.employee_id)
                # The latest definitive placement is the post (as repository.supervisors_of reads it).
                if best is None or (p.start_date, p.placement_id) > (best.start_date, best.placement_id):
                    own_post[p.employee_id] = p
        for employee_id in candidates - found:
            post = own_post.get(employee_id)
            if post is not None and domain.supervisor_chain(employee_id, post.position_id, parent_of, holders, 1) == [supervisor_id]:
                found.add(employee_id)
        day += timedelta(days=1)
    return sorted(found)


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

