"""The queue grouped by person and day, month-to-date minutes from the counter, filters, and
effective-dated supervision (a supervisor who moves, a supervisor-less employee)."""
import pytest
from sqlalchemy import func, select

from approval.orm import MonthlyMinutes, ValidationItem


def names(api, items):
    return [api.name_of(i["entry_id"]) for i in items]


@pytest.fixture
def month(org):
    org.submit("ani-1", "ani", day="2026-11-02", start="08:00", end="09:00")
    org.submit("ani-2", "ani", day="2026-11-02", start="10:00", end="11:00")
    org.submit("ani-3", "ani", day="2026-11-03")
    org.submit("ani-oct", "ani", day="2026-10-30")
    org.submit("budi-1", "budi", day="2026-11-03")
    return org


def test_groups_by_person_and_day_with_month_to_date_minutes(api, month):
    # Earlier approvals this month: 60 minutes for Ani, none for Budi.
    month.submit("ani-done", "ani", day="2026-11-01")
    assert api.post(f"/entries/{api.entry('ani-done')}/approve", "kabid").status_code == 200
    body = api.get("/queue", "kabid").get_json()
    assert names(api, body["items"]) == ["E:ani-oct", "E:ani-1", "E:ani-2", "E:ani-3", "E:budi-1"]
    ani, budi = body["groups"]
    assert (ani["employee_id"], ani["employee_name"], ani["nip"]) == (month.id("ani"), "Ani Lestari", "198609262015051004")
    assert (ani["pending_entries"], ani["pending_minutes"]) == (4, 240)
    assert ani["months"] == [{"month": "2026-10", "approved_minutes": 0, "pending_minutes": 60},
                             {"month": "2026-11", "approved_minutes": 60, "pending_minutes": 180}]
    assert [(d["date"], [api.name_of(e) for e in d["entry_ids"]], d["pending_minutes"], d["escalated"]) for d in ani["days"]] == [
        ("2026-10-30", ["E:ani-oct"], 60, False),
        ("2026-11-02", ["E:ani-1", "E:ani-2"], 120, False),
        ("2026-11-03", ["E:ani-3"], 60, False)]
    assert budi["months"] == [{"month": "2026-11", "approved_minutes": 0, "pending_minutes": 60}]
    assert all(i["escalated"] is False and i["escalation"] is None for i in body["items"])


def test_month_to_date_minutes_follow_decisions_and_equal_the_sum_of_approved_entries(api, month, runtime):
    h = "kabid"
    api.post(f"/entries/{api.entry('ani-1')}/approve", h)
    api.post("/decisions", h, json={"decision": "approve", "entry_ids": [api.entry("ani-2"), api.entry("ani-oct")]})
    api.post(f"/entries/{api.entry('ani-3')}/reject", h, json={"reason": "Tidak sesuai"})
    api.post(f"/entries/{api.entry('budi-1')}/return", h, json={"reason": "Perbaiki"})
    with runtime.session_factory() as s:
        counters = {(m.employee_id, m.year, m.month): m.approved_minutes for m in s.scalars(select(MonthlyMinutes))
                    if m.approved_entries}
        summed: dict = {}
        for item in s.scalars(select(ValidationItem).where(ValidationItem.status == "approved")):
            key = (item.employee_id, item.date.year, item.date.month)
            summed[key] = summed.get(key, 0) + item.credited_minutes
    assert counters == summed == {(month.id("ani"), 2026, 11): 120, (month.id("ani"), 2026, 10): 60}
    month.submit("ani-4", "ani", day="2026-11-05")
    (ani,) = api.get("/queue", h).get_json()["groups"]
    assert ani["months"] == [{"month": "2026-11", "approved_minutes": 120, "pending_minutes": 60}]


def test_filters_by_employee_date_range_and_month(api, month):
    def q(**params):
        r = api.get("/queue", "kabid", query_string=params)
        assert r.status_code == 200, r.get_json()
        return names(api, r.get_json()["items"])

    assert q(employee_id=month.id("budi")) == ["E:budi-1"]
    assert q(month="2026-10") == ["E:ani-oct"]
    assert q(**{"from": "2026-11-02", "to": "2026-11-02"}) == ["E:ani-1", "E:ani-2"]
    assert q(**{"from": "2026-11-03"}) == ["E:ani-3", "E:budi-1"]
    assert q(to="2026-11-01") == ["E:ani-oct"]
    assert q(month="2026-11", employee_id=month.id("ani"), to="2026-11-02") == ["E:ani-1", "E:ani-2"]
    assert q(month="2026-12") == []
    assert q(employee_id=month.id("citra")) == []  # not the caller's: simply nothing


def test_bad_filters_are_422_listing_each(api, month):
    r = api.get("/queue", "kabid", query_string={"month": "2026-13", "from": "kemarin", "sort": "x"})
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"month", "from", "sort"}
    r = api.get("/queue", "kabid", query_string={"from": "2026-11-10", "to": "2026-11-01"})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"to"}


def test_a_supervisor_who_changes_position_loses_the_old_team_from_the_end_date(api, org):
    # The kabid leaves KABID on 15 November for a new post KABID3; kabid2 acts (Plt) for the
    # vacant KABID from the 16th.
    org.position("KABID3", parent="KADIS")
    org.place("kabid", "KABID", end="2026-11-15", version=2)
    org.place("kabid", "KABID3", start="2026-11-16")
    org.place("kabid2", "KABID", start="2026-11-16", kind="plt")
    for day in ("2026-11-14", "2026-11-15", "2026-11-16", "2026-11-20"):
        org.submit(day, "ani", day=day)
    assert names(api, api.get("/queue", "kabid").get_json()["items"]) == ["E:2026-11-14", "E:2026-11-15"]
    assert names(api, api.get("/queue", "kabid2").get_json()["items"]) == ["E:2026-11-16", "E:2026-11-20"]
    # Deciding follows the same dates, single or in bulk.
    assert api.post(f"/entries/{api.entry('2026-11-16')}/approve", "kabid").status_code == 403
    r = api.post("/decisions", "kabid", json={"decision": "approve",
                                              "entry_ids": [api.entry("2026-11-15"), api.entry("2026-11-20")]})
    assert r.status_code == 403 and [e["index"] for e in r.get_json()["error"]["entries"]] == [1]
    assert api.post("/decisions", "kabid", json={"decision": "approve", "entry_ids": [api.entry("2026-11-15")]}).status_code == 200
    assert api.post("/decisions", "kabid2", json={"decision": "approve",
                                                  "entry_ids": [api.entry("2026-11-16"), api.entry("2026-11-20")]}).status_code == 200


def test_entries_of_a_supervisorless_employee_go_to_the_next_holder_up(api, org):
    # KABID is vacant from November (no Plt): Ani's entries go to the kadis, who may decide them.
    org.place("kabid", "KABID", end="2026-10-31", version=2)
    org.submit("oct", "ani", day="2026-10-31")
    org.submit("nov", "ani", day="2026-11-02")
    assert names(api, api.get("/queue", "kadis").get_json()["items"]) == ["E:nov"]
    assert names(api, api.get("/queue", "kabid").get_json()["items"]) == ["E:oct"]
    r = api.post("/decisions", "kadis", json={"decision": "approve", "entry_ids": [api.entry("oct"), api.entry("nov")]})
    assert r.status_code == 403 and r.get_json()["error"]["entries"] == [
        {"index": 0, "entry_id": api.entry("oct"), "code": "not_supervisor"}]
    assert api.post(f"/entries/{api.entry('nov')}/approve", "kadis").status_code == 200


def test_counts_of_decisions_by_decider_month(api, month, runtime):
    from approval.orm import DeciderMonth

    api.post("/decisions", "kabid", json={"decision": "reject", "reason": "x",
                                          "entry_ids": [api.entry("ani-1"), api.entry("ani-oct")]})
    api.post(f"/entries/{api.entry('budi-1')}/approve", "kabid")
    with runtime.session_factory() as s:
        rows = {(d.year, d.month): (d.approved, d.rejected, d.returned) for d in s.scalars(select(DeciderMonth))}
        assert s.scalar(select(func.count()).select_from(DeciderMonth)) == 2
    assert rows == {(2026, 11): (1, 1, 0), (2026, 10): (0, 1, 0)}
