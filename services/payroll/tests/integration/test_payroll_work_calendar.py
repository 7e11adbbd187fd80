"""BKD's work calendar (calendar.updated from activity) decides the month's target; a year without
one uses the default calendar activity uses too (ekinerja_common.workdays).

One employee, kelas 9 (5,000,000), golongan III/b (PPh 5 %), PNS, no salary (BPJS 1 % of the TPP).
BKD's June 2026: holidays Mon 1 June (Pancasila) and Tue 16 June (1 Muharram), collective leave
Mon 15 June: 22 weekdays less 3 = 19 working days, × 300 minutes = 5,700. 5,130 approved minutes
are then 90 %: gross 5,000,000 × (0.6 × 0.9 + 0.4) = 4,700,000; PPh 235,000; BPJS 47,000.
Under the default calendar June has 21 working days (only 1 June off): target 6,300.
"""
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from payroll.orm import DataChange, TppCorrection, TppRun, WorkCalendarRow

EMP = "emp-cal"
JUNE_OFF = dict(holidays=["2026-06-01", "2026-06-16"], collective_leave=["2026-06-15"])


def bpkad(keys):
    return keys.headers(None, "bpkad", account_id="bpkad-operator")


def compute(client, keys, month, year=2026):
    r = client.post(f"/runs/{year}/{month}/compute", headers=bpkad(keys))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def only_line(run):
    assert len(run["lines"]) == 1
    return run["lines"][0]


def figures(x):
    return x["gross"], x["pph"], x["bpjs"], x["net"]


def stored_calendar(runtime, year):
    with runtime.session_factory() as s:
        return s.get(WorkCalendarRow, year)


@pytest.fixture
def one(events):
    events.position("p9", kelas=9, unit_id="unit-a")
    events.employee(EMP, golongan="III/b", nip="198609262015051001", name="Ani")
    events.placement("pl-1", EMP, "p9", "2020-01-01")
    events.decision("approved", "jun-a", EMP, "2026-06-02", 3_000)
    events.decision("approved", "jun-b", EMP, "2026-06-03", 2_130)


def test_without_a_calendar_the_shared_default_decides_and_the_run_says_so(one, client, keys):
    run = compute(client, keys, 6)
    i = only_line(run)["inputs"]
    assert (i["working_days"], i["minutes_per_day"], i["target_minutes"]) == (21, 300, 6_300)
    assert (i["calendar_source"], i["calendar_version"], i["minutes_per_day_source"]) == ("default", None, "default")
    assert run["calendar"] == {"source": "default", "version": None, "latest_version": None, "changed": False,
                               "is_default": True}
    # Issue 9 item 5: December 2026 is 22 days / 6,600 minutes here, as in activity.
    i = only_line(compute(client, keys, 12))["inputs"]
    assert (i["working_days"], i["target_minutes"]) == (22, 6_600)


def test_a_calendar_event_decides_the_working_days_of_the_next_compute(one, events, client, keys, runtime):
    assert events.calendar(2026, **JUNE_OFF, version=1) == "handled"
    row = stored_calendar(runtime, 2026)
    assert (row.version, row.holidays, row.collective_leave, row.working_weekdays, row.target_minutes_per_day) == (
        1, ["2026-06-01", "2026-06-16"], ["2026-06-15"], [1, 2, 3, 4, 5], 300)
    run = compute(client, keys, 6)
    line = only_line(run)
    i = line["inputs"]
    assert (i["working_days"], i["target_minutes"], i["productivity_pct"]) == (19, 5_700, "90.00")
    assert (i["calendar_source"], i["calendar_version"], i["minutes_per_day_source"]) == ("bkd", 1, "bkd")
    assert figures(line) == (4_700_000, 235_000, 47_000, 4_418_000)
    assert run["calendar"] == {"source": "bkd", "version": 1, "latest_version": 1, "changed": False, "is_default": False}
    with runtime.session_factory() as s:
        assert s.scalar(select(TppRun.calendar_version).where(TppRun.year == 2026, TppRun.month == 6)) == 1
    slip = client.get(f"/runs/2026/6/slips/{EMP}.pdf", headers=bpkad(keys))
    assert slip.status_code == 200 and slip.data.startswith(b"%PDF")


def test_the_calendars_weekdays_and_daily_minutes_decide(one, events, client, keys):
    # A six-day week of 250 minutes a day: June has 26 Monday–Saturday days, less 1 June = 25.
    events.calendar(2026, holidays=["2026-06-01"], working_weekdays=[1, 2, 3, 4, 5, 6], target_minutes_per_day=250)
    i = only_line(compute(client, keys, 6))["inputs"]
    assert (i["working_days"], i["minutes_per_day"], i["target_minutes"]) == (25, 250, 6_250)
    assert (i["calendar_source"], i["minutes_per_day_source"]) == ("bkd", "bkd")


def test_optional_fields_left_out_mean_monday_to_friday_and_the_default_minutes(one, events, client, keys, runtime):
    events.calendar(2026, **JUNE_OFF, working_weekdays=None, target_minutes_per_day=None)
    row = stored_calendar(runtime, 2026)
    assert (row.working_weekdays, row.target_minutes_per_day) == ([1, 2, 3, 4, 5], None)
    i = only_line(compute(client, keys, 6))["inputs"]
    assert (i["working_days"], i["minutes_per_day"]) == (19, 300)
    assert (i["calendar_source"], i["minutes_per_day_source"]) == ("bkd", "default")


def test_a_calendar_of_another_year_does_not_apply(one, events, client, keys):
    events.calendar(2027, holidays=["2027-06-01"], working_weekdays=[1, 2, 3, 4, 5, 6])
    i = only_line(compute(client, keys, 6))["inputs"]
    assert (i["working_days"], i["calendar_source"]) == (21, "default")


def test_duplicate_and_late_older_calendar_events_change_nothing(one, events, client, keys, runtime):
    message = str(uuid.uuid4())
    assert events.calendar(2026, **JUNE_OFF, version=2, id=message) == "handled"
    # The same message redelivered (even if its body were different) is not applied again.
    assert events.calendar(2026, holidays=[], collective_leave=[], version=3, id=message) == "duplicate"
    # An older version arriving late, and another message of the same version, are ignored.
    assert events.calendar(2026, holidays=["2026-06-01"], version=1) == "handled"
    assert events.calendar(2026, holidays=[], target_minutes_per_day=200, version=2) == "handled"
    row = stored_calendar(runtime, 2026)
    assert (row.version, row.holidays, row.collective_leave, row.target_minutes_per_day) == (
        2, ["2026-06-01", "2026-06-16"], ["2026-06-15"], 300)
    i = only_line(compute(client, keys, 6))["inputs"]
    assert (i["working_days"], i["minutes_per_day"], i["calendar_version"]) == (19, 300, 2)
    # A newer version replaces it.
    assert events.calendar(2026, holidays=["2026-06-01"], version=3) == "handled"
    i = only_line(compute(client, keys, 6))["inputs"]
    assert (i["working_days"], i["calendar_version"]) == (21, 3)


@pytest.mark.parametrize("bad", [
    dict(working_weekdays=[0, 1]), dict(working_weekdays=[]), dict(working_weekdays=[1, 8]),
    dict(target_minutes_per_day=0), dict(holidays=["2025-12-31"]), dict(collective_leave=["31-12-2026"]),
])
def test_a_calendar_activity_would_never_send_is_refused_and_stores_nothing(events, runtime, bad):
    with pytest.raises(ValueError):
        events.calendar(2026, **bad)
    assert stored_calendar(runtime, 2026) is None


def test_a_calendar_changed_after_a_compute_shows_on_the_open_run_until_recomputed(one, events, client, keys):
    events.calendar(2026, **JUNE_OFF, version=1)
    compute(client, keys, 6)
    events.calendar(2026, holidays=JUNE_OFF["holidays"], collective_leave=["2026-06-15", "2026-06-17"], version=2)
    run = client.get("/runs/2026/6", headers=bpkad(keys)).get_json()
    assert run["calendar"] == {"source": "bkd", "version": 1, "latest_version": 2, "changed": True, "is_default": False}
    assert only_line(run)["inputs"]["working_days"] == 19  # the stored run is what was computed
    run = compute(client, keys, 6)
    assert run["calendar"]["changed"] is False and only_line(run)["inputs"]["working_days"] == 18


def test_a_calendar_change_after_the_lock_is_not_a_correction(one, events, client, keys, runtime):
    events.calendar(2026, **JUNE_OFF, version=1)
    june = compute(client, keys, 6)
    warned = [w["code"] for w in client.get("/runs/2026/6", headers=bpkad(keys)).get_json()["warnings"]]
    assert client.post("/runs/2026/6/lock", headers=bpkad(keys), json={"acknowledged_warnings": warned}).status_code == 200
    # BKD adds collective leave on Wed 17 June: 18 working days from now on, but June is locked.
    assert events.calendar(2026, holidays=JUNE_OFF["holidays"], collective_leave=["2026-06-15", "2026-06-17"],
                           version=2) == "handled"
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(DataChange)) == 0
    july = compute(client, keys, 7)
    assert july["corrections"] == [] and july["calendar"]["version"] == 2
    locked = client.get("/runs/2026/6", headers=bpkad(keys)).get_json()
    assert locked["lines"] == june["lines"] and locked["calendar"]["changed"] is True

    # A real change to June's data (a late approval) is corrected with June's locked target
    # (19 days, calendar version 1): 5,415 of 5,700 minutes = 95 %, gross 4,850,000.
    events.decision("approved", "jun-late", EMP, "2026-06-10", 285)
    july = compute(client, keys, 7)
    [c] = july["corrections"]
    assert figures(c) == (150_000, 7_500, 1_500, 141_000)
    assert c["cause"]["event_type"] == "activity.approved"
    r = c["basis"]["recomputed"]
    assert (r["working_days"], r["target_minutes"], r["calendar_source"], r["calendar_version"]) == (19, 5_700, "bkd", 1)
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(TppCorrection)) == 1


def test_a_month_without_working_days_refuses_the_compute_and_keeps_the_lines(one, events, client, keys):
    """The lines are written while they are made (one COPY, issue 13): a month the calendar leaves
    without working days stops the compute with the domain's answer, and nothing of it is kept —
    the month's earlier lines stay as they were."""
    first = compute(client, keys, 6)
    weekdays = [f"2026-06-{d:02d}" for d in range(1, 31) if date(2026, 6, d).weekday() < 5]
    events.calendar(2026, holidays=weekdays)
    r = client.post("/runs/2026/6/compute", headers=bpkad(keys))
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "no_working_days", r.get_json()
    again = client.get("/runs/2026/6", headers=bpkad(keys)).get_json()
    assert again["version"] == first["version"]
    assert [figures(l) for l in again["lines"]] == [figures(l) for l in first["lines"]]
