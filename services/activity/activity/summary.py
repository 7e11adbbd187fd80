"""The per-employee-month summary behind GET /me/month.

Every change that moves a figure (an entry created, edited, withdrawn or decided; an attendance
day recorded or corrected) adds its *difference* to the employee-month row in the same
transaction, as ``col = col + delta`` upserts. Reading a month is then one primary-key lookup,
whatever the size of the tables, and concurrent writers never lose each other's additions.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Iterable

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import attendance, domain
from .orm import MonthSummary

ENTRY_COLUMNS = {"draft": "draft_minutes", "pending": "pending_minutes", "approved": "approved_minutes",
                 "returned": "returned_minutes", "rejected": "rejected_minutes"}
ATTENDANCE_COLUMNS = ("attendance_days", "deduction_pct", "late_days", "early_days", "absent_days", "excused_days")
COLUMNS = (*ENTRY_COLUMNS.values(), *ATTENDANCE_COLUMNS)

Key = tuple[str, int, int]


class Deltas:
    """Differences collected during one use case, written with one statement at the end."""

    def __init__(self) -> None:
        self.by_key: dict[Key, dict[str, int | Decimal]] = defaultdict(dict)

    def _add(self, employee_id: str, day: date, column: str, amount: int | Decimal) -> None:
        if amount:
            row = self.by_key[(employee_id, day.year, day.month)]
            row[column] = row.get(column, 0) + amount

    def entry(self, employee_id: str, day: date, status: str, minutes: int, sign: int) -> None:
        """Count (sign = 1) or uncount (sign = -1) an entry's minutes in its month's bucket."""
        bucket = domain.MONTH_BUCKETS.get(status)
        if bucket is not None:
            self._add(employee_id, day, ENTRY_COLUMNS[bucket], sign * minutes)

    def entry_change(self, employee_id: str, before: tuple[date, str, int] | None,
                     after: tuple[date, str, int] | None) -> None:
        """An entry moved from (date, status, minutes) ``before`` to ``after`` (None = absent)."""
        if before is not None:
            self.entry(employee_id, before[0], before[1], before[2], -1)
        if after is not None:
            self.entry(employee_id, after[0], after[1], after[2], 1)

    def day(self, employee_id: str, day: date, codes: Iterable[str], deduction: Decimal, sign: int) -> None:
        """Count or uncount one attendance day with its codes. (Called once or twice per row of
        an import, so it adds straight into the row instead of going through _add.)"""
        row = self.by_key[(employee_id, day.year, day.month)]
        late, early, absent, excused = _day_flags(tuple(codes))
        row["attendance_days"] = row.get("attendance_days", 0) + sign
        if deduction:
            row["deduction_pct"] = row.get("deduction_pct", 0) + sign * Decimal(deduction)
        if late:
            row["late_days"] = row.get("late_days", 0) + sign
        if early:
            row["early_days"] = row.get("early_days", 0) + sign
        if absent:
            row["absent_days"] = row.get("absent_days", 0) + sign
        if excused:
            row["excused_days"] = row.get("excused_days", 0) + sign

    def rows(self) -> list[dict]:
        """The rows to add (and forget them here). Sorted keys: two transactions touching the
        same employees lock their rows in the same order, so they queue instead of deadlocking."""
        rows = []
        for (employee_id, year, month), values in sorted(self.by_key.items()):
            if any(values.values()):
                rows.append({"employee_id": employee_id, "year": year, "month": month,
                             **{c: values.get(c, 0) for c in COLUMNS}})
        self.by_key.clear()
        return rows

    def write(self, session: Session) -> None:
        rows = self.rows()
        if rows:
            session.execute(upsert(session.get_bind().dialect.name), rows)


def upsert(dialect: str, stmt=None):
    """``col = col + excluded.col`` for every figure: concurrent writers never lose each other's
    additions. ``stmt``: an INSERT of the table to complete (e.g. one fed by a SELECT)."""
    table = MonthSummary.__table__
    if stmt is None:
        stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return stmt.on_conflict_do_update(index_elements=["employee_id", "year", "month"],
                                      set_={c: table.c[c] + stmt.excluded[c] for c in COLUMNS})


@functools.lru_cache(maxsize=1024)
def _day_flags(codes: tuple[str, ...]) -> tuple[bool, bool, bool, bool]:
    """(late, early, absent, excused) of a day's codes."""
    found = set(codes)
    return (bool(found & set(attendance.LATE)), bool(found & set(attendance.EARLY)), attendance.ABSENT in found,
            bool(found - set(attendance.DISCIPLINE_CODES)))
