"""The same code and migrations on SQLite (the single-machine run): the dialect-specific parts
(counter upserts, the job's ON CONFLICT DO NOTHING, tuple IN) work there too."""
from datetime import date

import pytest
from sqlalchemy import select

from ekinerja_common.config import Settings
from ekinerja_common.testing import queue_prefix
from approval import jobs
from approval.app import create_app
from approval.orm import Escalation, MonthlyMinutes


@pytest.fixture
def app(keys, clock, tmp_path):
    settings = Settings(service="approval", database_url=f"sqlite:///{tmp_path / 'approval.db'}", queue_prefix=queue_prefix(),
                        extra={"APPROVAL_EVIDENCE_DIR": str(tmp_path / "evidence")})
    app = create_app(settings, keys.verifier, today_fn=clock)
    app.extensions["runtime"].migrate()
    yield app
    app.extensions["runtime"].engine.dispose()


def test_bulk_decisions_escalation_and_appeals_on_sqlite(api, org, runtime):
    for n in range(4):
        org.submit(str(n), "ani", day=f"2026-11-0{n + 2}")
    org.submit("late", "budi", day="2026-10-10")
    r = api.post("/decisions", "kabid", json={"decision": "approve", "entry_ids": [api.entry("0"), api.entry("1")]})
    assert r.status_code == 200, r.get_json()
    r = api.post("/decisions", "kabid", json={"decision": "reject", "reason": "Kurang", "entry_ids": [api.entry("2")]})
    assert r.status_code == 200
    with runtime.session_factory() as s:
        assert s.get(MonthlyMinutes, (org.id("ani"), 2026, 11)).approved_minutes == 120
    assert jobs.run(runtime, date(2026, 12, 6))["entries_escalated"] == 2
    assert jobs.run(runtime, date(2026, 12, 6))["entries_escalated"] == 0
    with runtime.session_factory() as s:
        assert {e.entry_id for e in s.scalars(select(Escalation))} == {api.entry("3"), api.entry("late")}
    (group, *_) = api.get("/queue", "kadis").get_json()["groups"]
    assert group["months"][0]["approved_minutes"] == 120
    # A page: totals and people from the queue's counts (whole months) as from the GROUP BY (dates).
    page = api.get("/queue", "kadis", query_string={"limit": 1, "month": "2026-11"}).get_json()
    by_dates = api.get("/queue", "kadis", query_string={"limit": 1, "from": "2026-10-31", "to": "2026-11-30"}).get_json()
    assert page["totals"] == by_dates["totals"] == {"entries": 1, "minutes": 60, "people": 1, "escalated": 1}
    assert page["people"] == by_dates["people"] and page["items"] == by_dates["items"]
    assert page["people"][0]["months"][0]["approved_minutes"] == 120
    r = api.post("/appeals", "ani", json={"entry_ids": [api.entry("2")], "reasons": "Sudah sesuai"})
    assert r.status_code == 201, r.get_json()
    appeal = r.get_json()["appeals"][0]
    r = api.post(f"/appeals/{appeal['id']}/decide", "kadis", json={"outcome": "overturned", "reasoning": "Sah"})
    assert r.status_code == 200
    with runtime.session_factory() as s:
        assert s.get(MonthlyMinutes, (org.id("ani"), 2026, 11)).approved_minutes == 180
