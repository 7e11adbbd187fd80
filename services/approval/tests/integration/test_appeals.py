"""Appeals (keberatan) and the appeals board on real PostgreSQL: filing rules, comments, the first
level, the board (appointment, seating, conflicts), outcomes and their events, the audit trail."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from ekinerja_common.testing import wait_until
from approval import jobs
from ekinerja_common.clock import wib_date
from approval.orm import Appeal, AppealEntry, AppealTrail, Decision, MonthlyMinutes, ValidationItem

MAJELIS = ("pegawai", "majelis")
ADMIN = ("admin_bkd",)


def reject(api, who, *keys, reason="Volume tidak sesuai bukti"):
    r = api.post("/decisions", who, json={"decision": "reject", "reason": reason,
                                          "entry_ids": [api.entry(k) for k in keys]})
    assert r.status_code == 200, r.get_json()


def file(api, who="ani", **body):
    return api.post("/appeals", who, json={"reasons": "Pekerjaan sudah sesuai SOP dan ada buktinya", **body})


def filed(api, who="ani", **body) -> dict:
    r = file(api, who, **body)
    assert r.status_code == 201, r.get_json()
    (appeal,) = r.get_json()["appeals"]
    return appeal


def events(api, *types):
    return [e for e in api.outbox() if not types or e["type"] in types]


def trail_steps(api, appeal_id, who=None, *roles):
    r = api.get(f"/appeals/{appeal_id}/trail", who, *(roles or ADMIN))
    assert r.status_code == 200, r.get_json()
    return [(t["step"], t["level"], api.name_of(t["actor_id"]) if t["actor_id"] else None) for t in r.get_json()["trail"]]


@pytest.fixture
def rejected(org, api):
    org.submit("1", "ani", day="2026-11-10")
    org.submit("2", "ani", day="2026-11-11")
    org.submit("ok", "ani", day="2026-11-12")
    reject(api, "kabid", "1", "2")
    assert api.post(f"/entries/{api.entry('ok')}/approve", "kabid").status_code == 200
    return org


@pytest.fixture
def board(rejected, api):
    """Two board members (no post in this dinas) appointed by BKD."""
    rejected.employee("insp", "Inspektur Pembantu", nip="197001011995031001")
    rejected.employee("org", "Kabag Organisasi", nip="197202021996031002")
    for who in ("insp", "org"):
        r = api.post("/board/members", None, *ADMIN, json={"employee_id": rejected.id(who), "from_date": "2026-01-01"})
        assert r.status_code == 201, r.get_json()
    return rejected


# -- filing ------------------------------------------------------------------------------------------------

def test_filing_on_rejected_entries(api, rejected, clock, runtime):
    appeal = filed(api, entry_ids=[api.entry("1"), api.entry("2")])
    assert appeal["level"] == "first_level" and appeal["status"] == "open" and appeal["outcome"] is None
    assert appeal["employee_id"] == rejected.id("ani") and appeal["original_decider_id"] == rejected.id("kabid")
    assert appeal["first_level_decider_id"] == rejected.id("kadis")
    assert appeal["first_level_due"] == (clock.today + timedelta(days=10)).isoformat()
    (event,) = events(api, "appeal.filed")
    assert event["data"] == {"appeal_id": appeal["id"], "entry_ids": [api.entry("1"), api.entry("2")],
                             "employee_id": rejected.id("ani"), "filed_at": appeal["filed_at"], "version": 1,
                             "level": "first_level"}
    detail = api.get(f"/appeals/{appeal['id']}", "ani").get_json()
    assert [(e["entry_id"], e["status"], e["rejected_by"], e["rejection_reason"]) for e in detail["entries"]] == [
        (api.entry("1"), "rejected", rejected.id("kabid"), "Volume tidak sesuai bukti"),
        (api.entry("2"), "rejected", rejected.id("kabid"), "Volume tidak sesuai bukti")]
    assert detail["my_roles"] == ["appellant"]
    assert trail_steps(api, appeal["id"]) == [("filed", "first_level", "ani")]


def test_filing_for_a_month_takes_its_unappealed_rejections(api, rejected):
    rejected.submit("oct", "ani", day="2026-10-30")
    reject(api, "kabid", "oct")
    first = filed(api, entry_ids=[api.entry("1")])
    appeal = filed(api, month="2026-11")
    assert appeal["month"] == "2026-11"
    detail = api.get(f"/appeals/{appeal['id']}", "ani").get_json()
    assert [e["entry_id"] for e in detail["entries"]] == [api.entry("2")]
    r = file(api, month="2026-11")  # nothing left to appeal
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"month"}
    assert r.get_json()["error"]["code"] == "appeal_invalid"
    assert first["id"] != appeal["id"]


def test_each_bad_entry_is_named_and_nothing_is_filed(api, rejected, runtime):
    rejected.submit("budi", "budi")
    reject(api, "kabid", "budi")
    rejected.submit("pending", "ani", day="2026-11-13")
    filed(api, entry_ids=[api.entry("2")])
    before = (api.count(Appeal), len(api.outbox()))
    r = file(api, entry_ids=[api.entry("1"), api.entry("budi"), api.entry("ok"), api.entry("pending"), api.entry("2"),
                             "no-such", api.entry("1")])
    assert r.status_code == 422
    fields = r.get_json()["error"]["fields"]
    assert set(fields) == {"entry_ids.6"}  # the duplicate is found first, before any lookup
    r = file(api, entry_ids=[api.entry("1"), api.entry("budi"), api.entry("ok"), api.entry("pending"), api.entry("2"), "no-such"])
    assert r.status_code == 404  # someone else's entry is as good as none
    fields = r.get_json()["error"]["fields"]
    assert {k: v["message_en"] for k, v in fields.items()} == {
        "entry_ids.1": "Entry not found",  # Budi's: as if it did not exist
        "entry_ids.2": "Only rejected entries can be appealed",
        "entry_ids.3": "Only rejected entries can be appealed",
        "entry_ids.4": "This entry has already been appealed",
        "entry_ids.5": "Entry not found",
    }
    r = file(api, entry_ids=[api.entry("1"), api.entry("ok")])
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "appeal_invalid"
    assert set(r.get_json()["error"]["fields"]) == {"entry_ids.1"}
    for body in ({}, {"entry_ids": [api.entry("1")], "month": "2026-11"}):
        r = api.post("/appeals", "ani", json={"reasons": "x", **body})
        assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"entry_ids"}
    r = api.post("/appeals", "ani", json={"entry_ids": [api.entry("1")], "reasons": "   "})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"reasons"}
    r = api.post("/appeals", "ani", json={"month": "2026-1", "reasons": "x", "other": 1})
    assert set(r.get_json()["error"]["fields"]) == {"month", "other"}
    assert (api.count(Appeal), len(api.outbox())) == before


def test_the_window_closes_after_the_policy_days(api, rejected, clock, runtime):
    with runtime.session_factory() as s:
        rejected_on = wib_date(s.scalars(select(Decision.decided_at).where(Decision.decision == "reject")).first())
    clock.today = rejected_on + timedelta(days=15)
    r = file(api, entry_ids=[api.entry("1")])
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"]["entry_ids.0"]["message_en"] == "The appeal window (14 days after the rejection) has closed"
    assert file(api, month="2026-11").status_code == 422
    clock.today = rejected_on + timedelta(days=14)  # the last day still counts
    assert file(api, entry_ids=[api.entry("1")]).status_code == 201
    # The window is policy data: the policy of the rejection's year (30 days from a rejection in
    # December reach into January).
    api.put(f"/policies/{rejected_on.year}", None, *ADMIN, json={
        "validation_deadline_day": 5, "appeal_window_days": 30, "first_level_days": 10,
        "board_rejection_rate_pct": 50, "board_min_decisions": 10})
    clock.today = rejected_on + timedelta(days=30)
    assert file(api, entry_ids=[api.entry("2")]).status_code == 201


def test_one_appeal_per_rejecting_supervisor(api, org):
    # The kabid leaves on 15 November; the kadis then supervises Ani directly and rejects too.
    org.place("kabid", "KABID", end="2026-11-15", version=2)
    org.submit("early", "ani", day="2026-11-10")
    org.submit("late", "ani", day="2026-11-20")
    reject(api, "kabid", "early")
    reject(api, "kadis", "late")
    r = file(api, month="2026-11")
    assert r.status_code == 201
    appeals = sorted(r.get_json()["appeals"], key=lambda a: a["original_decider_id"] == org.id("kadis"))
    assert [(a["original_decider_id"], a["first_level_decider_id"], a["level"], a["board_reason"]) for a in appeals] == [
        (org.id("kabid"), org.id("kadis"), "first_level", None),
        # Nobody sits above the kadis: the board hears it at once.
        (org.id("kadis"), None, "board", "no_first_level")]
    assert len(events(api, "appeal.filed")) == 2


def test_a_concurrent_second_filing_of_the_same_entry_is_refused(app, api, rejected, runtime):
    results = []

    def go():
        with app.test_client() as c:
            r = c.post("/appeals", json={"entry_ids": [api.entry("1")], "reasons": "Tidak adil"}, headers=api.headers("ani"))
            results.append(r.status_code)

    with runtime.engine.connect() as blocker:
        blocker.execute(select(ValidationItem).where(ValidationItem.entry_id == api.entry("1")).with_for_update())
        threads = [threading.Thread(target=go) for _ in range(2)]
        for t in threads:
            t.start()
        wait_until(lambda: _waiting(runtime) == 2, what="both filings waiting")
        blocker.rollback()
    for t in threads:
        t.join(20)
    assert sorted(results) == [201, 422]
    assert api.count(AppealEntry) == 1


def _waiting(runtime) -> int:
    with runtime.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'")).scalar()


# -- comments and the first level -------------------------------------------------------------------

def test_the_original_supervisor_comments_and_the_first_level_sees_it(api, rejected):
    appeal = filed(api, entry_ids=[api.entry("1")])
    path = f"/appeals/{appeal['id']}/comments"
    assert api.post(path, "ani", json={"text": "Saya setuju"}).status_code == 403  # the appellant
    assert api.post(path, "kadis", json={"text": "Menurut saya"}).status_code == 403  # the first level
    assert api.post(path, "budi", json={"text": "Halo"}).status_code == 404  # a stranger
    assert api.post(path, "kabid", json={"text": "  "}).status_code == 422
    r = api.post(path, "kabid", json={"text": "Volume 5 laporan, bukti hanya 2"})
    assert r.status_code == 201
    detail = api.get(f"/appeals/{appeal['id']}", "kadis").get_json()
    assert [(c["author_id"], c["text"]) for c in detail["comments"]] == [(rejected.id("kabid"), "Volume 5 laporan, bukti hanya 2")]
    assert detail["my_roles"] == ["first_level"]
    # The original supervisor reads the appeal they answer, but not its audit trail.
    assert api.get(f"/appeals/{appeal['id']}", "kabid").status_code == 200
    assert api.get(f"/appeals/{appeal['id']}/trail", "kabid").status_code == 404
    assert trail_steps(api, appeal["id"], "kadis") == [("filed", "first_level", "ani"), ("commented", "first_level", "kabid")]


def test_first_level_overturns_and_the_minutes_count(api, rejected, runtime):
    appeal = filed(api, entry_ids=[api.entry("1"), api.entry("2")])
    assert api.post(f"/appeals/{appeal['id']}/decide", "kabid", json={"outcome": "overturned", "reasoning": "x"}).status_code == 403
    assert api.post(f"/appeals/{appeal['id']}/decide", "ani", json={"outcome": "overturned", "reasoning": "x"}).status_code == 403
    assert api.post(f"/appeals/{appeal['id']}/decide", "kabid2", json={"outcome": "overturned", "reasoning": "x"}).status_code == 404
    r = api.post(f"/appeals/{appeal['id']}/decide", "kadis", json={"outcome": "overturned", "reasoning": " "})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"reasoning"}
    before = len(api.outbox())
    r = api.post(f"/appeals/{appeal['id']}/decide", "kadis",
                 json={"outcome": "overturned", "reasoning": "Bukti lengkap di arsip bidang"})
    assert r.status_code == 200, r.get_json()
    decided = r.get_json()
    assert (decided["status"], decided["outcome"], decided["decided_by"], decided["version"]) == (
        "decided", "overturned", rejected.id("kadis"), 2)
    new = api.outbox()[before:]
    # One announcement of the overturn (issue 12), carrying each entry as a decision on the
    # rejected submission (v1), numbered above the rejection (v2).
    assert [e["type"] for e in new] == ["appeal.decided"]
    assert new[0]["data"] == {"appeal_id": appeal["id"], "entry_ids": [api.entry("1"), api.entry("2")],
                              "employee_id": rejected.id("ani"), "outcome": "overturned",
                              "decided_by": rejected.id("kadis"), "decided_at": decided["decided_at"], "version": 2,
                              "level": "first_level",
                              "entries": [{"entry_id": api.entry(k), "date": day, "credited_minutes": 60,
                                           "submission_version": 1, "version": 3}
                                          for k, day in (("1", "2026-11-10"), ("2", "2026-11-11"))]}
    with runtime.session_factory() as s:
        assert s.get(MonthlyMinutes, (rejected.id("ani"), 2026, 11)).approved_minutes == 60 + 120
        assert {i.status for i in s.scalars(select(ValidationItem).where(
            ValidationItem.entry_id.in_([api.entry("1"), api.entry("2")])))} == {"overturned"}
    history = api.get(f"/entries/{api.entry('1')}", "ani").get_json()
    assert history["status"] == "overturned"
    assert [(d["decision"], d["version"]) for d in history["decisions"]] == [("reject", 2), ("overturn", 3)]
    # Decided: nothing more happens at this level, and an overturn leaves nothing to escalate.
    r = api.post(f"/appeals/{appeal['id']}/decide", "kadis", json={"outcome": "upheld", "reasoning": "x"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "appeal_decided"
    assert api.post(f"/appeals/{appeal['id']}/comments", "kabid", json={"text": "x"}).status_code == 409
    r = api.post(f"/appeals/{appeal['id']}/escalate", "ani")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "appeal_final"
    assert [s for s, _, _ in trail_steps(api, appeal["id"], "ani")] == ["filed", "decided"]


def test_an_entry_of_a_locked_month_may_still_be_overturned(api, rejected, runtime):
    appeal = filed(api, entry_ids=[api.entry("1")])
    rejected.lock(2026, 11)
    r = api.post(f"/appeals/{appeal['id']}/decide", "kadis", json={"outcome": "overturned", "reasoning": "Sah"})
    assert r.status_code == 200
    assert [e["type"] for e in events(api, "activity.approved", "appeal.decided")][-1:] == ["appeal.decided"]


def test_upheld_then_the_employee_takes_it_to_the_board(api, board, clock):
    appeal = filed(api, entry_ids=[api.entry("1")])
    # Not seated while the first level hears it.
    assert api.get(f"/appeals/{appeal['id']}", "insp", *MAJELIS).status_code == 404
    r = api.post(f"/appeals/{appeal['id']}/decide", "kadis", json={"outcome": "upheld", "reasoning": "Bukti tidak ada"})
    assert r.status_code == 200 and r.get_json()["outcome"] == "upheld"
    (decided,) = events(api, "appeal.decided")
    assert (decided["data"]["outcome"], decided["data"]["version"]) == ("upheld", 2)
    assert events(api, "activity.approved")[-1]["data"]["entry_id"] == api.entry("ok")  # no approval for upheld
    clock.today = clock.today + timedelta(days=15)
    r = api.post(f"/appeals/{appeal['id']}/escalate", "ani")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "window_closed"
    clock.today = clock.today - timedelta(days=1)
    assert api.post(f"/appeals/{appeal['id']}/escalate", "kadis").status_code == 403
    r = api.post(f"/appeals/{appeal['id']}/escalate", "ani")
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["level"], r.get_json()["status"], r.get_json()["board_reason"]) == ("board", "open", "employee")
    assert api.post(f"/appeals/{appeal['id']}/escalate", "ani").get_json()["error"]["code"] == "already_at_board"
    # The first level is done; a seated member decides for the board.
    assert api.post(f"/appeals/{appeal['id']}/decide", "kadis", json={"outcome": "overturned", "reasoning": "x"}).status_code == 403
    detail = api.get(f"/appeals/{appeal['id']}", "insp", *MAJELIS).get_json()
    assert detail["my_roles"] == ["board"] and [d["outcome"] for d in detail["decisions"]] == ["upheld"]
    r = api.post(f"/appeals/{appeal['id']}/decide", "insp", *MAJELIS, json={"outcome": "overturned", "reasoning": "Majelis: sah"})
    assert r.status_code == 200 and r.get_json()["version"] == 4
    assert events(api, "activity.approved")[-1]["data"]["entry_id"] == api.entry("ok")  # no second announcement
    last = events(api, "appeal.decided")[-1]["data"]
    assert (last["outcome"], last["level"], last["version"], last["decided_by"]) == ("overturned", "board", 4, board.id("insp"))
    assert [(e["entry_id"], e["version"]) for e in last["entries"]] == [(api.entry("1"), 3)]
    assert api.post(f"/appeals/{appeal['id']}/decide", "org", *MAJELIS, json={"outcome": "upheld", "reasoning": "x"}).status_code == 409
    assert api.post(f"/appeals/{appeal['id']}/escalate", "ani").get_json()["error"]["code"] == "appeal_final"
    assert trail_steps(api, appeal["id"], "insp", *MAJELIS) == [
        ("filed", "first_level", "ani"), ("decided", "first_level", "kadis"), ("escalated", "board", "ani"),
        ("decided", "board", "insp")]


def test_the_employee_escalates_while_the_first_level_is_silent(api, board):
    appeal = filed(api, entry_ids=[api.entry("1")])
    r = api.post(f"/appeals/{appeal['id']}/escalate", "ani")
    assert r.status_code == 200 and r.get_json()["level"] == "board"
    assert api.get(f"/appeals/{appeal['id']}", "org", *MAJELIS).status_code == 200


def test_the_job_moves_an_appeal_the_first_level_let_slip(api, board, runtime, clock):
    appeal = filed(api, entry_ids=[api.entry("1")])
    due = date.fromisoformat(appeal["first_level_due"])
    assert jobs.run(runtime, due)["appeals_to_board"] == 0  # the due day itself is still the first level's
    assert jobs.run(runtime, due + timedelta(days=1))["appeals_to_board"] == 1
    assert jobs.run(runtime, due + timedelta(days=1))["appeals_to_board"] == 0
    detail = api.get(f"/appeals/{appeal['id']}", "ani").get_json()
    assert (detail["level"], detail["board_reason"], detail["version"]) == ("board", "deadline", 2)
    assert trail_steps(api, appeal["id"]) == [("filed", "first_level", "ani"), ("escalated", "board", None)]
    clock.today = due + timedelta(days=1)
    assert api.post(f"/appeals/{appeal['id']}/decide", "kadis", json={"outcome": "upheld", "reasoning": "x"}).status_code == 403
    # The first level failed to decide it: they are not seated on it even as a board member.
    api.post("/board/members", None, *ADMIN, json={"employee_id": board.id("kadis"), "from_date": "2026-01-01"})
    r = api.post(f"/appeals/{appeal['id']}/decide", "kadis", *MAJELIS, json={"outcome": "upheld", "reasoning": "x"})
    assert r.status_code == 403
    assert api.post(f"/appeals/{appeal['id']}/decide", "org", *MAJELIS, json={"outcome": "upheld", "reasoning": "Sah"}).status_code == 200


# -- the board ---------------------------------------------------------------------------------------

def _decisions(api, who, approve: int, reject_: int, day="2026-11-20"):
    keys = []
    for n in range(approve + reject_):
        key = f"{who}-{n}"
        api.feed.submit(key, "budi", day=day, start=f"{7 + n % 10:02d}:00", end=f"{7 + n % 10:02d}:50")
        keys.append(key)
    if approve:
        api.post("/decisions", who, json={"decision": "approve", "entry_ids": [api.entry(k) for k in keys[:approve]]})
    if reject_:
        reject(api, who, *keys[approve:])
    return keys


@pytest.mark.parametrize("approved, rejected_, level", [
    (2, 8, "board"),  # with the fixture's 1 approval and 2 rejections: 10 of 13 rejected
    (4, 3, "first_level"),  # 5 of 10 rejected: exactly 50 % is not "more than"
    (0, 6, "first_level"),  # 8 of 9 rejected: fewer than 10 decisions
])
def test_an_abnormal_rejection_rate_sends_the_appeal_straight_to_the_board(api, board, runtime, approved, rejected_, level):
    _decisions(api, "kabid", approved, rejected_)
    appeal = filed(api, entry_ids=[api.entry("1")])
    assert appeal["level"] == level
    if level == "board":
        assert (appeal["board_reason"], appeal["first_level_decider_id"], appeal["first_level_due"]) == ("rejection_rate", None, None)
        trail = api.get(f"/appeals/{appeal['id']}/trail", None, *ADMIN).get_json()["trail"]
        assert trail[1]["step"] == "escalated" and trail[1]["details"] == {
            "reason": "rejection_rate", "rejection_rates": [{"year": 2026, "month": 11, "rejected": 10, "decisions": 13}]}
        assert api.get(f"/appeals/{appeal['id']}", "insp", *MAJELIS).status_code == 200
        assert api.get(f"/appeals/{appeal['id']}", "kadis").status_code == 404  # no first level in this one


def test_a_board_member_never_sits_on_their_own_decision_or_appeal(api, board):
    # The rejecting kabid and the appellant are appointed too.
    for who in ("kabid", "ani"):
        assert api.post("/board/members", None, *ADMIN, json={"employee_id": board.id(who), "from_date": "2026-01-01"}).status_code == 201
    appeal = filed(api, entry_ids=[api.entry("1")])
    api.post(f"/appeals/{appeal['id']}/escalate", "ani")
    for who in ("kabid", "ani"):
        r = api.post(f"/appeals/{appeal['id']}/decide", who, *MAJELIS, json={"outcome": "overturned", "reasoning": "x"})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_appeal_decider"
    assert api.get(f"/appeals/{appeal['id']}/trail", "kabid", *MAJELIS).status_code == 404
    listed = api.get("/appeals", "kabid", *MAJELIS).get_json()["appeals"]
    assert [a["my_roles"] for a in listed] == [["original_decider"]]
    # A majelis role without a seat (no appointment) or with an ended one sees nothing.
    board.employee("ex", "Mantan Anggota")
    assert api.get(f"/appeals/{appeal['id']}", "ex", *MAJELIS).status_code == 404
    assert api.get("/appeals", "ex", *MAJELIS).get_json() == {"appeals": []}
    members = api.get("/board/members", None, *ADMIN).get_json()["members"]
    org_member = next(m for m in members if m["employee_id"] == board.id("org"))
    assert api.delete(f"/board/members/{org_member['id']}", None, *ADMIN).status_code == 200
    assert api.get(f"/appeals/{appeal['id']}", "org", *MAJELIS).status_code == 404
    assert api.post(f"/appeals/{appeal['id']}/decide", "org", *MAJELIS, json={"outcome": "upheld", "reasoning": "x"}).status_code == 404
    assert api.get(f"/appeals/{appeal['id']}", "insp", *MAJELIS).status_code == 200


def test_two_board_members_deciding_at_once_one_wins(app, api, board, runtime):
    appeal = filed(api, entry_ids=[api.entry("1")])
    api.post(f"/appeals/{appeal['id']}/escalate", "ani")
    results = []

    def go(who, outcome):
        with app.test_client() as c:
            r = c.post(f"/appeals/{appeal['id']}/decide", json={"outcome": outcome, "reasoning": "Putusan"},
                       headers=api.headers(who, *MAJELIS))
            results.append(r.status_code)

    with runtime.engine.connect() as blocker:
        blocker.execute(select(Appeal).where(Appeal.id == appeal["id"]).with_for_update())
        threads = [threading.Thread(target=go, args=("insp", "overturned")), threading.Thread(target=go, args=("org", "upheld"))]
        for t in threads:
            t.start()
        wait_until(lambda: _waiting(runtime) == 2, what="both members waiting")
        blocker.rollback()
    for t in threads:
        t.join(20)
    assert sorted(results) == [200, 409]
    assert len(events(api, "appeal.decided")) == 1


def test_board_appointments_are_dated_and_audited(api, board, runtime, clock):
    r = api.post("/board/members", None, *ADMIN, json={"employee_id": board.id("insp"), "from_date": "2026-06-01"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_member"
    r = api.post("/board/members", None, *ADMIN, json={"employee_id": "nobody", "from_date": "2026-06-01", "to_date": "2026-01-01"})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"employee_id", "to_date"}
    future = (clock.today + timedelta(days=30)).isoformat()
    board.employee("new", "Anggota Baru")
    r = api.post("/board/members", None, *ADMIN, json={"employee_id": board.id("new"), "from_date": future})
    member = r.get_json()
    assert r.status_code == 201 and member["active"] is False and member["to_date"] is None
    removed = api.delete(f"/board/members/{member['id']}", None, *ADMIN).get_json()
    assert removed["to_date"] < removed["from_date"]  # revoked before it began: never sits
    assert api.delete(f"/board/members/{member['id']}", None, *ADMIN).status_code == 409
    assert api.delete("/board/members/nope", None, *ADMIN).status_code == 404
    with runtime.engine.connect() as conn:
        audit = conn.execute(text("SELECT action, employee_id FROM board_audit ORDER BY seq")).all()
    assert [(a, board.ids and api.name_of(e)) for a, e in audit] == [
        ("appointed", "insp"), ("appointed", "org"), ("appointed", "new"), ("removed", "new")]


# -- evidence -------------------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n" + b"x" * 1000
PNG = b"\x89PNG\r\n\x1a\n" + b"y" * 100


def upload(api, appeal_id, who, data, name, *roles):
    import io

    return api.client.post(f"/appeals/{appeal_id}/evidence", headers=api.headers(who, *roles),
                           data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_evidence_is_stored_outside_the_database_within_limits(api, rejected, app):
    appeal = filed(api, entry_ids=[api.entry("1")])
    r = upload(api, appeal["id"], "ani", PDF, "bukti.pdf")
    assert r.status_code == 201, r.get_json()
    ev = r.get_json()
    assert (ev["content_type"], ev["size"], ev["filename"]) == ("application/pdf", len(PDF), "bukti.pdf")
    store = app.extensions["evidence_store"]
    with open(store.path(ev["id"]), "rb") as f:
        assert f.read() == PDF
    for who in ("ani", "kadis", "kabid"):
        got = api.get(ev["url"], who)
        assert got.status_code == 200 and got.data == PDF and got.headers["Content-Type"] == "application/pdf"
    assert api.get(ev["url"], "budi").status_code == 404
    assert upload(api, appeal["id"], "ani", b"x" * (64 * 1024 + 1), "besar.pdf").status_code == 413
    r = upload(api, appeal["id"], "ani", b"MZ\x90\x00 not a pdf", "virus.pdf")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "evidence_type"
    assert upload(api, appeal["id"], "ani", PNG, "foto.pdf").status_code == 422
    assert upload(api, appeal["id"], "kabid", PNG, "foto.png").status_code == 403
    assert upload(api, appeal["id"], "budi", PNG, "foto.png").status_code == 404
    r = api.post(f"/appeals/{appeal['id']}/evidence", "ani", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"file"}
    detail = api.get(f"/appeals/{appeal['id']}", "kadis").get_json()
    assert [e["id"] for e in detail["evidence"]] == [ev["id"]]
    assert "evidence_added" in [s for s, _, _ in trail_steps(api, appeal["id"])]
    api.post(f"/appeals/{appeal['id']}/decide", "kadis", json={"outcome": "upheld", "reasoning": "Tetap"})
    assert upload(api, appeal["id"], "ani", PNG, "foto.png").status_code == 409


# -- the trail and who reads ---------------------------------------------------------------------------

def test_the_trail_is_append_only(api, rejected, runtime):
    appeal = filed(api, entry_ids=[api.entry("1")])
    for statement in ("UPDATE appeal_trail SET step = 'x'", "DELETE FROM appeal_trail", "TRUNCATE appeal_trail CASCADE",
                      "UPDATE appeal_decisions SET outcome = 'x'", "DELETE FROM board_audit",
                      "DELETE FROM appeal_comments", "UPDATE validation_policy_changes SET year = 1"):
        with runtime.engine.connect() as conn:
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(statement))
    with runtime.session_factory() as s:
        assert [t.step for t in s.scalars(select(AppealTrail))] == ["filed"]
    assert appeal["id"]


def test_who_reads_an_appeal_and_its_trail(api, board):
    appeal = filed(api, entry_ids=[api.entry("1")])
    path, trail = f"/appeals/{appeal['id']}", f"/appeals/{appeal['id']}/trail"
    readers = [("ani", ()), ("kadis", ()), (None, ADMIN)]
    for who, roles in readers:
        assert api.get(path, who, *roles).status_code == 200 and api.get(trail, who, *roles).status_code == 200
    assert api.get(path, "kabid").status_code == 200 and api.get(trail, "kabid").status_code == 404
    strangers = [("budi", ()), ("kabid2", ()), ("insp", MAJELIS), ("ani", ("bpkad",)), ("ani", ("organisasi",)),
                 ("kadis", ("majelis",)), (None, ("pegawai",))]
    for who, roles in strangers:
        assert api.get(path, who, *roles).status_code == 404, (who, roles)
        assert api.get(trail, who, *roles).status_code == 404, (who, roles)
    assert api.get("/appeals/nope", "ani").status_code == 404
    assert api.client.get(path).status_code == 401
    mine = api.get("/appeals", "kadis").get_json()["appeals"]
    assert [(a["id"], a["my_roles"]) for a in mine] == [(appeal["id"], ["first_level"])]
    assert api.get("/appeals", "budi").get_json() == {"appeals": []}
    assert len(api.get("/appeals", None, *ADMIN, query_string={"status": "open"}).get_json()["appeals"]) == 1
    assert api.get("/appeals", None, *ADMIN, query_string={"status": "decided"}).get_json()["appeals"] == []
    assert api.get("/appeals", "ani", "bpkad").status_code == 403
