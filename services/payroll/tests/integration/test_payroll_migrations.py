"""Upgrading a database of revision 0001 with data in it: attendance days get their code rows, a
policy stored before the new sections reads with their defaults, runs keep working. From 0002:
runs computed before the work calendar name none (they used the policy's holidays)."""
from datetime import date

from sqlalchemy import func, select, text

from ekinerja_common.config import Settings
from ekinerja_common.testing import fresh_database
from payroll import defaults, services
from payroll.orm import AttendanceCode, TppRun, WorkCalendarRow
from payroll.runtime import build_runtime


def test_upgrade_from_0001_keeps_and_completes_the_data():
    with fresh_database("payroll_mig") as url:
        rt = build_runtime(Settings(service="payroll", database_url=url))
        try:
            rt.migrate("0001")
            old_policy = {k: v for k, v in defaults.document(2026).items() if k not in defaults.LATER_SECTIONS}
            with rt.engine.begin() as conn:
                conn.execute(text("INSERT INTO attendance_days (employee_id, day, codes, deduction_pct, version) VALUES "
                                  "('e1', '2026-06-02', '[\"TL1\", \"psw1\"]', 1, 1), ('e2', '2026-06-03', '[]', 0, 1)"))
                conn.execute(text("INSERT INTO policies (year, version, document, created_at, created_by) "
                                  "VALUES (2026, 1, :doc, now(), 'bpkad')"), {"doc": __import__("json").dumps(old_policy)})
                conn.execute(text("INSERT INTO tpp_runs (id, year, month, status, policy_version, computed_at, computed_by, "
                                  "skipped, version) VALUES ('r1', 2026, 5, 'open', 1, now(), 'bpkad', '[]', 1)"))
            rt.migrate()
            with rt.session_factory() as s:
                codes = s.execute(select(AttendanceCode.employee_id, AttendanceCode.day, AttendanceCode.code)
                                  .order_by(AttendanceCode.seq)).all()
                assert [tuple(c) for c in codes] == [("e1", date(2026, 6, 2), "TL1"), ("e1", date(2026, 6, 2), "PSW1")]
                assert s.execute(text("SELECT warnings FROM tpp_runs")).scalar() == []
            with rt.uow() as uow:
                p = services.current_policy(uow, 2026, "reader")
                assert p.version == 1 and p.productivity_rule == "linear" and p.deductions_pct["TK"] == 3
        finally:
            rt.engine.dispose()


def test_upgrade_from_0002_leaves_earlier_runs_on_the_policy_calendar():
    with fresh_database("payroll_mig") as url:
        rt = build_runtime(Settings(service="payroll", database_url=url))
        try:
            rt.migrate("0002")
            with rt.engine.begin() as conn:
                conn.execute(text("INSERT INTO tpp_runs (id, year, month, status, policy_version, computed_at, computed_by, "
                                  "skipped, warnings, version) VALUES ('r1', 2026, 5, 'locked', 1, now(), 'bpkad', '[]', "
                                  "'[]', 1)"))
            rt.migrate()
            with rt.session_factory() as s:
                run = s.get(TppRun, "r1")
                assert (run.status, run.calendar_version) == ("locked", None)
                # No BKD calendar: shown as the default (the policy's fallback holidays, which these
                # runs used, were the same fixed-date holidays unless BPKAD edited them; each
                # line's inputs still say "policy").
                assert services.calendar_status(s, run) == {"source": "default", "version": None,
                                                            "latest_version": None, "changed": False,
                                                            "is_default": True}
                assert s.scalar(select(func.count()).select_from(WorkCalendarRow)) == 0
        finally:
            rt.engine.dispose()
