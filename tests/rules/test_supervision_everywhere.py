"""One supervisor rule everywhere (issue 12; issue 9 item 4): every place that answers "who
supervises X on D" or "who is above X's supervisor" gives the answer of the shared rule
(``ekinerja_common.supervision`` over the whole org chart in memory), from its own read models in
its own real PostgreSQL database:

- identity: ``people.supervisor`` (GET /employees/{id}/supervisor) and ``people.subordinate_ids``
  (who may read whose record);
- activity: ``repository.supervisors_of`` (who sees an entry's evidence: three levels) and
  ``team.members`` (who is on a supervisor's team month);
- approval: ``repository.supervisors_for`` (who decides), ``repository.lines_for`` (escalations,
  the first level of appeals), the escalation job's stored rows, and ``repository.queue_for``,
  which reads the supervisor stored with each pending item (``queue_model``).

First the shared table of cases (``supervision_cases.CASES``), then random org charts with Plt
holders, vacancies, overlapping placements and missing position rows (hypothesis).
"""
from __future__ import annotations

import contextlib
import uuid
from datetime import date, datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import delete, insert

from ekinerja_common import supervision
from ekinerja_common.config import Settings
from ekinerja_common.supervision_cases import CASES, random_chart
from ekinerja_common.testing import fresh_database

import activity.orm as act
import activity.repository as act_repo
import activity.runtime
import activity.team as act_team
import approval.orm as apv
import approval.queue_model as apv_queue_model
import approval.repository as apv_repo
import approval.runtime
import approval.services as apv_services
import identity.orm as idn
import identity.people as idn_people
import identity.runtime

LEVELS = 3
LATE = date(2027, 6, 1)  # every entry of the charts is past its validation deadline by then


@pytest.fixture(scope="module")
def dbs():
    """A migrated database of each of the three services."""
    with contextlib.ExitStack() as stack:
        out = {}
        for name, module in (("identity", identity.runtime), ("activity", activity.runtime), ("approval", approval.runtime)):
            url = stack.enter_context(fresh_database(f"sup_{name}"))
            rt = module.build_runtime(Settings(service=name, database_url=url))
            rt.migrate()
            stack.callback(rt.engine.dispose)
            out[name] = rt
        yield out


def load(dbs, parents, placements, people, questions):
    """Replace the org chart in every service's read models (the rows their event handlers keep)."""
    now = datetime.now(timezone.utc)
    posts = sorted(parents)
    with dbs["identity"].session_factory() as s, s.begin():
        s.execute(delete(idn.Placement))
        s.execute(delete(idn.PositionRef))
        s.execute(delete(idn.Employee))
        s.execute(insert(idn.Employee), [{"id": e, "nip": f"{n:018d}", "name": e, "employee_kind": "PNS", "status": "PNS",
                                          "golongan": "III/a", "active": True, "version": 1, "created_at": now,
                                          "updated_at": now} for n, e in enumerate(sorted(people))])
        if posts:
            s.execute(insert(idn.PositionRef), [{"position_id": p, "code": p, "name": p, "parent_id": parents[p],
                                                 "kind": "pelaksana", "active": True, "version": 1} for p in posts])
        if placements:
            s.execute(insert(idn.Placement), [{"id": h.placement_id, "employee_id": h.employee_id,
                                               "position_id": h.position_id, "start_date": h.start, "end_date": h.end,
                                               "kind": h.kind, "version": 1, "created_at": now} for h in placements])
    with dbs["activity"].session_factory() as s, s.begin():
        s.execute(delete(act.Placement))
        s.execute(delete(act.Position))
        if posts:
            s.execute(insert(act.Position), [{"position_id": p, "parent_id": parents[p], "name": p, "version": 1}
                                             for p in posts])
        if placements:
            s.execute(insert(act.Placement), [{"placement_id": h.placement_id, "employee_id": h.employee_id,
                                               "position_id": h.position_id, "start_date": h.start, "end_date": h.end,
                                               "kind": h.kind, "version": 1} for h in placements])
    with dbs["approval"].session_factory() as s, s.begin():
        for table in (apv.Escalation, apv.ValidationItem, apv.Placement, apv.Position):
            s.execute(delete(table))
        if posts:
            s.execute(insert(apv.Position), [{"position_id": p, "code": p, "name": p, "kind": "pelaksana",
                                              "kelas_jabatan": 7, "parent_id": parents[p], "unit_id": "U", "factor": 1,
                                              "version": 1} for p in posts])
        if placements:
            s.execute(insert(apv.Placement), [{"placement_id": h.placement_id, "employee_id": h.employee_id,
                                               "position_id": h.position_id, "start_date": h.start, "end_date": h.end,
                                               "kind": h.kind, "version": 1} for h in placements])
        # One pending entry per question, for the queue and the escalation job.
        s.execute(insert(apv.ValidationItem), [{"entry_id": str(uuid.uuid4()), "employee_id": e, "date": d,
                                                "status": "pending", "version": 1, "credited_minutes": 60,
                                                "updated_at": now} for e, d in questions])
        # The queue's read model, as migration 0005 fills it (the consumer's upkeep of it is
        # services/approval/tests/integration/test_queue_read_model.py).
        apv_queue_model.derive_all(s)


def answers_everywhere(dbs, questions, people):
    """What each place answers for each (employee, day): {place: {(employee, day): answer}}."""
    got: dict[str, dict] = {}
    with dbs["identity"].session_factory() as s:
        got["identity supervisor"] = {}
        for e, d in questions:
            found = idn_people.supervisor(s, e, d)
            got["identity supervisor"][(e, d)] = found.supervisor_id if found else None
        got["identity subordinates"] = {(p, d): idn_people.subordinate_ids(s, p, d) for p in people for _, d in questions}
    with dbs["activity"].session_factory() as s:
        got["activity line (evidence)"] = {(e, d): tuple(act_repo.supervisors_of(s, e, d, LEVELS)) for e, d in questions}
        got["activity team"] = {(p, d): set(act_team.members(s, p, d, d)) for p in people for _, d in questions}
    with dbs["approval"].session_factory() as s:
        got["approval supervisor"] = apv_repo.supervisors_for(s, questions)
        got["approval single supervisor"] = {(e, d): apv_repo.supervisor_of(s, e, d) for e, d in questions}
        got["approval line (escalation, appeals)"] = {k: tuple(v) for k, v in apv_repo.lines_for(s, questions, LEVELS).items()}
        got["approval queue"] = {}
        for p in people:
            for row in apv_repo.queue_for(s, p):
                got["approval queue"].setdefault((row.item.employee_id, row.item.date), set()).add(p)
    with dbs["approval"].uow() as uow:
        apv_services.escalate_overdue_entries(uow, LATE, None, 10_000)
        uow.commit()
    with dbs["approval"].session_factory() as s:
        got["approval escalation job"] = {}
        for esc in s.query(apv.Escalation):
            got["approval escalation job"][(esc.employee_id, esc.entry_date)] = (esc.late_supervisor_id, esc.escalated_to)
    return got


def check(dbs, parents, placements, people, questions, expected_line):
    """Every place against ``expected_line(employee, day) -> tuple of ids``."""
    load(dbs, parents, placements, people, questions)
    got = answers_everywhere(dbs, questions, people)
    supervised: dict[tuple[str, date], set[str]] = {}
    for e, d in questions:
        line = expected_line(e, d)
        first = line[0] if line else None
        assert got["identity supervisor"][(e, d)] == first, ("identity", e, d)
        assert got["approval supervisor"][(e, d)] == first, ("approval", e, d)
        assert got["approval single supervisor"][(e, d)] == first, ("approval single", e, d)
        assert got["activity line (evidence)"][(e, d)] == line[:LEVELS], ("activity", e, d)
        assert got["approval line (escalation, appeals)"][(e, d)] == line[:LEVELS], ("approval line", e, d)
        assert got["approval queue"].get((e, d), set()) == ({first} if first else set()), ("approval queue", e, d)
        escalation = got["approval escalation job"].get((e, d))
        assert escalation == ((first, line[1] if len(line) > 1 else None) if first else None), ("escalation", e, d)
        if first:
            supervised.setdefault((first, d), set()).add(e)
    for place in ("identity subordinates", "activity team"):
        for (p, d), found in got[place].items():
            # Among the people asked about; the reference knows everyone's supervisor.
            mine = {e for e in people if (lambda line: line and line[0] == p)(expected_line(e, d))}
            assert found == mine, (place, p, d)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_shared_table_of_cases_in_every_service(dbs, case):
    people = sorted({h.employee_id for h in case.placements} | {e for e, _, _ in case.expect})
    questions = sorted({(e, d) for e in people for d in {d for _, d, _ in case.expect}})
    lines = {(e, d): line for e, d, line in case.expect}
    roster = supervision.Roster(case.placements)

    def expected(e, d):
        # The table's answer where it gives one; elsewhere the shared rule (held to the table by
        # libs/tests/unit/test_supervision.py), so every person of the chart is asked about too.
        if (e, d) in lines:
            return lines[(e, d)]
        return tuple(s.supervisor_id for s in supervision.chain(e, d, roster, case.parents, levels=LEVELS))

    check(dbs, case.parents, case.placements, people, questions, expected)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(chart=random_chart())
def test_random_org_charts_get_one_answer_everywhere(dbs, chart):
    roster = supervision.Roster(chart.placements)
    parents = {p: parent for p, parent in chart.parents.items()}
    questions = sorted({(e, d) for e in chart.employees for d in chart.days})

    def reference(e, d):
        return tuple(s.supervisor_id for s in supervision.chain(e, d, roster, parents, levels=LEVELS))

    check(dbs, parents, chart.placements, list(chart.employees), questions, reference)
