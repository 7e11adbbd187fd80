"""Idempotency-Key on approval's creating writes (issue 9 item 19): a decision, a bulk decision
and an appeal whose answer was lost are not refused on retry ("already decided", "already
appealed"): the retry gets the stored answer, and nothing is decided or filed twice."""
from __future__ import annotations


def keyed(api, who, key, *roles):
    return {**api.headers(who, *roles), "Idempotency-Key": key}


def test_a_decision_sent_again_gets_its_stored_answer(api, org):
    org.submit("1", "ani", day="2026-11-10")
    entry = api.entry("1")
    h = keyed(api, "kabid", "decide-1")
    first = api.client.post(f"/entries/{entry}/approve", headers=h)
    assert first.status_code == 200, first.get_json()
    again = api.client.post(f"/entries/{entry}/approve", headers=h)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert [e["type"] for e in api.outbox()].count("activity.approved") == 1
    # Without the key, a second decision is refused as it always was.
    assert api.post(f"/entries/{entry}/approve", "kabid").status_code == 409


def test_a_bulk_decision_and_an_appeal_sent_again_get_their_stored_answers(api, org):
    org.submit("1", "ani", day="2026-11-10")
    org.submit("2", "ani", day="2026-11-11")
    body = {"decision": "reject", "reason": "Bukti kurang", "entry_ids": [api.entry("1"), api.entry("2")]}
    h = keyed(api, "kabid", "bulk-1")
    first = api.client.post("/decisions", json=body, headers=h)
    assert first.status_code == 200, first.get_json()
    assert api.client.post("/decisions", json=body, headers=h).get_json() == first.get_json()
    assert [e["type"] for e in api.outbox()].count("activity.rejected") == 2

    appeal = {"entry_ids": [api.entry("1")], "reasons": "Pekerjaan sudah sesuai SOP dan ada buktinya"}
    h = keyed(api, "ani", "appeal-1")
    filed = api.client.post("/appeals", json=appeal, headers=h)
    assert filed.status_code == 201, filed.get_json()
    again = api.client.post("/appeals", json=appeal, headers=h)
    assert again.status_code == 201 and again.get_json() == filed.get_json()
    assert [e["type"] for e in api.outbox()].count("appeal.filed") == 1
