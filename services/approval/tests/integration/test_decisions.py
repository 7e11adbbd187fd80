"""Decisions on real PostgreSQL: who may decide, what is stored, what is published."""
import json
import threading

import pytest
from sqlalchemy import func, select, text

from ekinerja_common.outbox import OUTBOX
from ekinerja_common.testing import wait_until
from approval.orm import Decision, ValidationItem


def outbox(runtime):
    table = runtime.metadata.tables[OUTBOX]
    with runtime.engine.connect() as conn:
        return [json.loads(body) for body in conn.execute(select(table.c.body).order_by(table.c.seq)).scalars()]


def state(runtime, entry_id):
    """Everything a decision may change about one entry."""
    with runtime.session_factory() as s:
        item = s.get(ValidationItem, entry_id)
        decisions = s.scalars(select(Decision).where(Decision.entry_id == entry_id)).all()
        return (item.status, item.version, len(decisions), len(outbox(runtime)))


@pytest.fixture
def entry(org):
    org.submit("1", "ani", day="2026-11-10")
    return org.id("E:1")


def waiting_on_locks(runtime) -> int:
    # A fresh connection each time: pg_stat_activity is a snapshot frozen per transaction.
    with runtime.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND wait_event_type = 'Lock'")).scalar()


def as_(keys, org, who):
    return keys.headers(org.id(who), "pegawai")


def test_approve_stores_an_audit_row_and_publishes_the_exact_event(client, keys, org, entry, runtime):
    h = {**as_(keys, org, "kabid"), "X-Request-ID": "req-approve-1"}
    r = client.post(f"/entries/{entry}/approve", headers=h)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["entry_id"], body["status"], body["version"]) == (entry, "approved", 2)
    assert body["decision"]["decision"] == "approve" and body["decision"]["decided_by"] == org.id("kabid")

    with runtime.session_factory() as s:
        (d,) = s.scalars(select(Decision)).all()
    assert (d.entry_id, d.decision, d.reason, d.decided_by, d.request_id, d.version) == (
        entry, "approve", None, org.id("kabid"), "req-approve-1", 2)

    (event,) = outbox(runtime)
    assert (event["type"], event["source"], event["correlation_id"]) == ("activity.approved", "approval", "req-approve-1")
    assert event["data"] == {
        "entry_id": entry, "employee_id": org.id("ani"), "date": "2026-11-10", "credited_minutes": 60,
        "decided_by": org.id("kabid"), "decided_at": body["decision"]["decided_at"], "version": 2,
        "submission_version": 1,
    }
    assert client.get("/queue", headers=as_(keys, org, "kabid")).get_json()["items"] == []


@pytest.mark.parametrize("verb, event", [("reject", "activity.rejected"), ("return", "activity.returned")])
def test_reject_and_return_carry_their_reason(client, keys, org, entry, runtime, verb, event):
    r = client.post(f"/entries/{entry}/{verb}", json={"reason": "  Volume tidak sesuai bukti  "}, headers=as_(keys, org, "kabid"))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == {"reject": "rejected", "return": "returned"}[verb]
    (published,) = outbox(runtime)
    assert published["type"] == event
    assert published["data"]["reason"] == "Volume tidak sesuai bukti" and published["data"]["version"] == 2


@pytest.mark.parametrize("verb", ["reject", "return"])
@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_reject_or_return_without_reason_is_422_and_nothing_changes(client, keys, org, entry, runtime, verb, body):
    r = client.post(f"/entries/{entry}/{verb}", json=body, headers=as_(keys, org, "kabid"))
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert set(err["fields"]) == {"reason"} and err["fields"]["reason"]["message"] and err["fields"]["reason"]["message_en"]
    assert state(runtime, entry) == ("pending", 1, 0, 0)


@pytest.mark.parametrize("who, code", [
    ("kabid2", "not_supervisor"),  # another supervisor
    ("budi", "not_supervisor"),  # a peer
    ("kadis", "not_supervisor"),  # the supervisor's own supervisor
    ("ani", "own_entry"),  # the employee themself
])
def test_a_stranger_gets_403_and_nothing_changes(client, keys, org, entry, runtime, who, code):
    for verb, body in [("approve", None), ("reject", {"reason": "Tidak sesuai"}), ("return", {"reason": "Perbaiki"})]:
        r = client.post(f"/entries/{entry}/{verb}", json=body, headers=as_(keys, org, who))
        assert r.status_code == 403, (who, verb)
        assert r.get_json()["error"]["code"] == code
    assert state(runtime, entry) == ("pending", 1, 0, 0)


def test_nobody_decides_their_own_entry_even_as_holder_of_the_parent_post(client, keys, org, runtime):
    # The kadis retires and the kabid acts (Plt) for KADIS, the post right above their own:
    # their own entry is skipped past them, to nobody here, and never to themself.
    org.place("kadis", "KADIS", end="2026-10-31", version=2)
    org.place("kabid", "KADIS", start="2026-11-01", kind="plt")
    org.submit("own", "kabid")
    r = client.post(f"/entries/{org.id('E:own')}/approve", headers=as_(keys, org, "kabid"))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "own_entry"
    assert client.get("/queue", headers=as_(keys, org, "kabid")).get_json()["items"] == []
    assert state(runtime, org.id("E:own")) == ("pending", 1, 0, 0)


def test_deciding_twice_is_409(client, keys, org, entry, runtime):
    h = as_(keys, org, "kabid")
    assert client.post(f"/entries/{entry}/approve", headers=h).status_code == 200
    for verb, body in [("approve", None), ("reject", {"reason": "Salah"}), ("return", {"reason": "Ulang"})]:
        r = client.post(f"/entries/{entry}/{verb}", json=body, headers=h)
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_decided"
    assert state(runtime, entry) == ("approved", 2, 1, 1)


def test_a_locked_month_is_409(client, keys, org, entry, runtime):
    org.lock(2026, 11)
    r = client.post(f"/entries/{entry}/approve", headers=as_(keys, org, "kabid"))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "period_locked"
    assert state(runtime, entry) == ("pending", 1, 0, 0)


def test_a_withdrawn_entry_cannot_be_decided(client, keys, org, entry, runtime):
    org.withdraw("1", "ani", version=2)
    r = client.post(f"/entries/{entry}/approve", headers=as_(keys, org, "kabid"))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "withdrawn"
    assert client.post("/entries/no-such-entry/approve", headers=as_(keys, org, "kabid")).status_code == 404


def test_entry_with_history_is_visible_to_the_employee_and_the_supervisor_only(client, keys, org, entry):
    h = as_(keys, org, "kabid")
    client.post(f"/entries/{entry}/return", json={"reason": "Lampirkan bukti"}, headers=h)
    org.submit("1", "ani", version=3)
    client.post(f"/entries/{entry}/approve", headers=h)
    for who in ("ani", "kabid"):
        r = client.get(f"/entries/{entry}", headers=as_(keys, org, who))
        assert r.status_code == 200
        body = r.get_json()
        assert (body["status"], body["version"], body["employee_name"]) == ("approved", 4, "Ani Lestari")
        assert [(d["decision"], d["reason"], d["version"]) for d in body["decisions"]] == [
            ("return", "Lampirkan bukti", 2), ("approve", None, 4)]
    for who in ("budi", "kabid2", "kadis"):
        r = client.get(f"/entries/{entry}", headers=as_(keys, org, who))
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert client.get("/entries/no-such-entry", headers=h).status_code == 404
    assert client.get(f"/entries/{entry}").status_code == 401


def test_concurrent_decisions_on_one_entry_only_one_wins(app, keys, org, entry, runtime):
    h = as_(keys, org, "kabid")
    results: list[tuple[str, int]] = []

    def decide(verb, body):
        with app.test_client() as c:
            results.append((verb, c.post(f"/entries/{entry}/{verb}", json=body, headers=h).status_code))

    # Hold the item's row lock so that both requests are inside their transaction, waiting on it,
    # before either can read the status: then release them together.
    with runtime.engine.connect() as blocker:
        blocker.execute(select(ValidationItem).where(ValidationItem.entry_id == entry).with_for_update())
        threads = [threading.Thread(target=decide, args=("approve", None)),
                   threading.Thread(target=decide, args=("reject", {"reason": "Tidak sesuai"}))]
        for t in threads:
            t.start()
        wait_until(lambda: waiting_on_locks(runtime) == 2, what="both deciders waiting on the row lock")
        blocker.rollback()
    for t in threads:
        t.join(10)
    statuses = sorted(code for _, code in results)
    assert statuses == [200, 409]
    winner = next(verb for verb, code in results if code == 200)
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Decision)) == 1
        assert s.scalar(select(Decision.decision)) == winner
    assert [e["type"] for e in outbox(runtime)] == [{"approve": "activity.approved", "reject": "activity.rejected"}[winner]]


def test_health_readiness_and_openapi(client):
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/readyz").status_code == 200
    spec = client.get("/openapi.json").get_json()
    assert {"/queue", "/entries/{entry_id}", "/entries/{entry_id}/approve", "/entries/{entry_id}/reject",
            "/entries/{entry_id}/return"} <= set(spec["paths"])
    assert spec["paths"]["/entries/{entry_id}/reject"]["post"]["requestBody"]
