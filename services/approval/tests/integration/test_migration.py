"""Migration 0002 on a database with history: the counters start from what was decided."""
from datetime import date, datetime, timezone

from sqlalchemy import select, text

from ekinerja_common.config import Settings
from ekinerja_common.testing import fresh_database
from approval.orm import DeciderMonth, MonthlyMinutes
from approval.runtime import build_runtime


def test_upgrading_from_0001_fills_the_counters():
    with fresh_database("approval_mig") as url:
        rt = build_runtime(Settings(service="approval", database_url=url))
        rt.migrate("0001")
        now = datetime(2026, 11, 20, tzinfo=timezone.utc)
        rows = [("e1", "ani", date(2026, 11, 2), "approved", 60, "approve"), ("e2", "ani", date(2026, 11, 3), "approved", 90, "approve"),
                ("e3", "ani", date(2026, 10, 31), "approved", 30, "approve"), ("e4", "ani", date(2026, 11, 4), "rejected", 45, "reject"),
                ("e5", "budi", date(2026, 11, 4), "returned", 45, "return"), ("e6", "budi", date(2026, 11, 5), "pending", 45, None)]
        with rt.engine.begin() as conn:
            for entry, emp, day, status, minutes, decision in rows:
                conn.execute(text("INSERT INTO validation_items (entry_id, employee_id, date, status, version, credited_minutes, updated_at) "
                                  "VALUES (:e, :emp, :d, :s, 2, :m, :now)"), dict(e=entry, emp=emp, d=day, s=status, m=minutes, now=now))
                if decision:
                    conn.execute(text("INSERT INTO decisions (id, entry_id, decision, decided_by, decided_at, version) "
                                      "VALUES (:id, :e, :d, 'kabid', :now, 2)"), dict(id="d" + entry, e=entry, d=decision, now=now))
        rt.migrate()
        with rt.session_factory() as s:
            minutes = {(m.employee_id, m.year, m.month): (m.approved_minutes, m.approved_entries) for m in s.scalars(select(MonthlyMinutes))}
            stats = {(d.decided_by, d.year, d.month): (d.approved, d.rejected, d.returned) for d in s.scalars(select(DeciderMonth))}
        assert minutes == {("ani", 2026, 11): (150, 2), ("ani", 2026, 10): (30, 1)}
        assert stats == {("kabid", 2026, 11): (2, 1, 1), ("kabid", 2026, 10): (1, 0, 0)}
        rt.check_ready()
        rt.engine.dispose()
