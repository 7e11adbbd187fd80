"""POST /decisions on real PostgreSQL: all or nothing, every refusal listed, one event per entry,
counters moved in the same transaction."""
import threading

import pytest
from sqlalchemy import select, text

from ekinerja_common.testing import wait_until
from approval.orm import DeciderMonth, Decision, MonthlyMinutes, ValidationItem


def snapshot(runtime):
    """Everything a decision may change."""
    with runtime.session_factory() as s:
        items = sorted((i.entry_id, i.status, i.version) for i in s.scalars(select(ValidationItem)))
        decisions = len(s.scalars(select(Decision)).all())
        minutes = sorted((m.employee_id, m.year, m.month, m.approved_minutes) for m in s.scalars(select(MonthlyMinutes)))
        stats = sorted((d.decided_by, d.approved, d.rejected, d.returned) for d in s.scalars(select(DeciderMonth)))
    with runtime.engine.connect() as conn:
        outbox = conn.execute(text("select count(*) from outbox")).scalar()
    return items, decisions, minutes, stats, outbox


@pytest.fixture
def team(org):
    """Ani and Budi (under the kabid) with three entries each on two days; Citra under kabid2."""
    for who in ("ani", "budi"):
        for day in ("2026-11-09", "2026-11-10"):
            org.submit(f"{who}-{day}-a", who, day=day, start="08:00", end="09:30")
            org.submit(f"{who}-{day}-b", who, day=day, start="10:00", end="11:00")
    org.submit("citra", "citra")
    org.submit("kabid-own", "kabid")
    return org


def ids(api, *keys):
    return [api.entry(k) for k in keys]


def test_bulk_approval_decides_every_entry_with_one_event_each(api, team, runtime):
    entry_ids = [i["entry_id"] for i in api.get("/queue", "kabid").get_json()["items"]]
    assert len(entry_ids) == 8
    r = api.client.post("/decisions", json={"decision": "approve", "entry_ids": entry_ids},
                        headers={**api.headers("kabid"), "X-Request-ID": "bulk-1"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["decided"] == 8 and body["decision"] == "approve" and body["decided_by"] == team.id("kabid")
    assert [(e["entry_id"], e["status"], e["version"]) for e in body["entries"]] == [(e, "approved", 2) for e in entry_ids]

    events = api.outbox()
    assert [e["type"] for e in events] == ["activity.approved"] * 8
    assert [e["data"]["entry_id"] for e in events] == entry_ids
    assert all(e["correlation_id"] == "bulk-1" and e["data"]["credited_minutes"] == 60 and e["data"]["version"] == 2
               and e["data"]["decided_at"] == body["decided_at"] for e in events)
    with runtime.session_factory() as s:
        assert {(d.entry_id, d.decision, d.request_id) for d in s.scalars(select(Decision))} == {
            (e, "approve", "bulk-1") for e in entry_ids}
        minutes = {m.employee_id: (m.approved_minutes, m.approved_entries) for m in s.scalars(select(MonthlyMinutes))}
        assert minutes == {team.id("ani"): (240, 4), team.id("budi"): (240, 4)}
        (stats,) = s.scalars(select(DeciderMonth)).all()
        assert (stats.decided_by, stats.year, stats.month, stats.approved, stats.rejected) == (team.id("kabid"), 2026, 11, 8, 0)
    assert api.get("/queue", "kabid").get_json() == {"items": [], "groups": []}


@pytest.mark.parametrize("decision, event", [("reject", "activity.rejected"), ("return", "activity.returned")])
def test_bulk_reject_and_return_carry_the_one_reason(api, team, decision, event):
    entry_ids = ids(api, "ani-2026-11-09-a", "budi-2026-11-10-b")
    r = api.post("/decisions", "kabid", json={"decision": decision, "reason": " Bukti kurang ", "entry_ids": entry_ids})
    assert r.status_code == 200, r.get_json()
    assert [(e["type"], e["data"]["reason"]) for e in api.outbox()] == [(event, "Bukti kurang")] * 2


@pytest.mark.parametrize("decision", ["reject", "return"])
def test_bulk_reject_or_return_needs_a_reason(api, team, runtime, decision):
    before = snapshot(runtime)
    for body in ({}, {"reason": "  "}, {"reason": None}):
        r = api.post("/decisions", "kabid", json={"decision": decision, "entry_ids": ids(api, "ani-2026-11-09-a"), **body})
        assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"reason"}
    assert snapshot(runtime) == before


def test_one_bad_entry_refuses_the_whole_list_and_names_each_problem(api, team, runtime):
    team.lock(2026, 10)
    team.submit("october", "ani", day="2026-10-30")
    api.post("/entries/" + api.entry("budi-2026-11-10-b") + "/approve", "kabid")
    team.withdraw("ani-2026-11-10-b", "ani", day="2026-11-10")
    before = snapshot(runtime)
    entry_ids = ids(api, "ani-2026-11-09-a", "budi-2026-11-10-b", "ani-2026-11-10-b", "october", "ani-2026-11-09-b")
    r = api.post("/decisions", "kabid", json={"decision": "approve", "entry_ids": entry_ids})
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "decisions_refused" and err["message"] and err["message_en"]
    assert set(err["fields"]) == {"entry_ids.1", "entry_ids.2", "entry_ids.3"}
    assert all(f["message"] and f["message_en"] for f in err["fields"].values())
    assert [(e["index"], e["code"]) for e in err["entries"]] == [(1, "already_decided"), (2, "withdrawn"), (3, "period_locked")]
    assert snapshot(runtime) == before


def test_an_entry_not_the_callers_makes_it_403_and_unknown_ids_are_listed_too(api, team, runtime):
    before = snapshot(runtime)
    entry_ids = [api.entry("ani-2026-11-09-a"), api.entry("citra"), "no-such-entry", api.entry("kabid-own")]
    r = api.post("/decisions", "kabid", json={"decision": "approve", "entry_ids": entry_ids})
    assert r.status_code == 403
    err = r.get_json()["error"]
    assert [(e["index"], e["entry_id"], e["code"]) for e in err["entries"]] == [
        (1, api.entry("citra"), "not_supervisor"), (2, "no-such-entry", "not_found"), (3, api.entry("kabid-own"), "own_entry")]
    assert set(err["fields"]) == {"entry_ids.1", "entry_ids.2", "entry_ids.3"}
    # Only unknown ids: 422 (a bad reference in the body).
    r = api.post("/decisions", "kabid", json={"decision": "approve", "entry_ids": [api.entry("ani-2026-11-09-a"), "nope"]})
    assert r.status_code == 422 and [e["code"] for e in r.get_json()["error"]["entries"]] == ["not_found"]
    assert snapshot(runtime) == before


def test_the_list_itself_is_checked(api, team, runtime):
    before = snapshot(runtime)
    a = api.entry("ani-2026-11-09-a")
    cases = [
        ({"decision": "approve", "entry_ids": []}, {"entry_ids"}),
        ({"decision": "approve", "entry_ids": [a] * 1001}, {"entry_ids"}),
        ({"decision": "approve", "entry_ids": [a, api.entry("ani-2026-11-09-b"), a, a]}, {"entry_ids.2", "entry_ids.3"}),
        ({"decision": "maybe", "entry_ids": [a], "extra": 1}, {"decision", "extra"}),
        ({"entry_ids": "x"}, {"decision", "entry_ids"}),
    ]
    for body, fields in cases:
        r = api.post("/decisions", "kabid", json=body)
        assert r.status_code == 422, body
        assert set(r.get_json()["error"]["fields"]) == fields, body
    assert api.post("/decisions", "kabid", data="not json", content_type="application/json").status_code == 400
    assert snapshot(runtime) == before


def test_nobody_bulk_decides_their_own_entries(api, team, runtime):
    before = snapshot(runtime)
    r = api.post("/decisions", "ani", json={"decision": "approve", "entry_ids": ids(api, "ani-2026-11-09-a")})
    assert r.status_code == 403 and r.get_json()["error"]["entries"][0]["code"] == "own_entry"
    assert snapshot(runtime) == before


def test_a_thousand_entries_in_one_request(api, org, runtime):
    for n in range(1000):
        day = f"2026-11-{1 + n % 28:02d}"
        org.submit(str(n), "ani" if n % 2 else "budi", day=day, start="08:00", end="09:00")
    entry_ids = [api.entry(str(n)) for n in range(1000)]
    r = api.post("/decisions", "kabid", json={"decision": "approve", "entry_ids": entry_ids})
    assert r.status_code == 200 and r.get_json()["decided"] == 1000
    assert len(api.outbox()) == 1000 and len({e["id"] for e in api.outbox()}) == 1000
    with runtime.session_factory() as s:
        assert sum(m.approved_entries for m in s.scalars(select(MonthlyMinutes))) == 1000


def waiting_on_locks(runtime) -> int:
    with runtime.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND wait_event_type = 'Lock'")).scalar()


def test_overlapping_bulk_decisions_one_wins_whole_and_the_other_decides_nothing(app, api, team, runtime):
    first = ids(api, "ani-2026-11-09-a", "ani-2026-11-09-b", "budi-2026-11-09-a")
    second = ids(api, "budi-2026-11-09-a", "budi-2026-11-10-a")  # overlaps on one entry
    results = {}

    def run(name, entry_ids, decision, reason=None):
        with app.test_client() as c:
            r = c.post("/decisions", json={"decision": decision, "reason": reason, "entry_ids": entry_ids},
                       headers=api.headers("kabid"))
            results[name] = (r.status_code, r.get_json())

    # Hold one row lock both requests need, so they are both inside their transaction before
    # either can decide; then let go.
    with runtime.engine.connect() as blocker:
        blocker.execute(select(ValidationItem).where(ValidationItem.entry_id == api.entry("budi-2026-11-09-a"))
                        .with_for_update())
        threads = [threading.Thread(target=run, args=("a", first, "approve")),
                   threading.Thread(target=run, args=("b", second, "reject", "Tidak sesuai"))]
        for t in threads:
            t.start()
        wait_until(lambda: waiting_on_locks(runtime) == 2, what="both bulk requests waiting")
        blocker.rollback()
    for t in threads:
        t.join(20)
    codes = sorted(code for code, _ in results.values())
    assert codes == [200, 409]
    winner = next(n for n, (code, _) in results.items() if code == 200)
    loser_body = next(body for code, body in results.values() if code == 409)
    assert [e["entry_id"] for e in loser_body["error"]["entries"]] == [api.entry("budi-2026-11-09-a")]
    won = first if winner == "a" else second
    with runtime.session_factory() as s:
        decided = {d.entry_id for d in s.scalars(select(Decision))}
    assert decided == set(won) and len(api.outbox()) == len(won)
