"""Idempotency-Key on activity's creating writes (issue 9 item 19) against a real PostgreSQL:
a repeat gets the stored answer, never a second entry nor an "overlaps itself" refusal; two at
once store one; the key is the caller's own."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from activity.orm import Entry


def body(world, **kw):
    return {"date": world.today.isoformat(), "start_time": "08:00", "end_time": "10:00", "duty_id": world.duty_id,
            "volume": 3, "description": "Menyusun laporan bulanan", **kw}


def entries(runtime) -> int:
    with runtime.session_factory() as s:
        return s.scalar(select(func.count()).select_from(Entry))


def with_key(keys, world, key, **kw):
    return {**keys.headers(world.employee_id, "pegawai", account_id=kw.pop("account", "acc-" + world.employee_id)),
            "Idempotency-Key": key}


def test_a_repeat_with_the_same_key_gets_the_stored_entry(client, keys, world, runtime, outbox):
    h = with_key(keys, world, "k-1")
    first = client.post("/entries", json=body(world), headers=h)
    assert first.status_code == 201, first.get_json()
    again = client.post("/entries", json=body(world), headers=h)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert entries(runtime) == 1 and len(outbox()) == 1
    # Without the key the same body is a new request: refused as overlapping the stored one.
    plain = client.post("/entries", json=body(world), headers=keys.headers(world.employee_id, "pegawai"))
    assert plain.status_code == 422 and "start_time" in plain.get_json()["error"]["fields"]


def test_the_same_key_with_another_body_is_refused(client, keys, world, runtime):
    h = with_key(keys, world, "k-2")
    assert client.post("/entries", json=body(world), headers=h).status_code == 201
    r = client.post("/entries", json=body(world, start_time="13:00", end_time="14:00"), headers=h)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "idempotency_key_reused"
    assert entries(runtime) == 1


def test_a_refusal_is_not_kept_so_a_corrected_state_can_succeed(client, keys, world, runtime):
    h = with_key(keys, world, "k-3")
    bad = client.post("/entries", json=body(world, duty_id=world.other_duty_id), headers=h)
    assert bad.status_code == 422
    assert client.post("/entries", json=body(world), headers=with_key(keys, world, "k-4")).status_code == 201
    assert entries(runtime) == 1


def test_keys_are_per_account(client, keys, world, runtime):
    mine = with_key(keys, world, "shared-key")
    assert client.post("/entries", json=body(world), headers=mine).status_code == 201
    other = with_key(keys, world, "shared-key", account="someone-else")
    r = client.post("/entries", json=body(world), headers=other)
    assert r.status_code == 422 and "start_time" in r.get_json()["error"]["fields"]  # ran: not the first's answer


def test_a_batch_repeat_gets_the_stored_batch(client, keys, world, runtime, outbox):
    h = with_key(keys, world, "k-batch")
    day = {"entries": [body(world), body(world, start_time="10:00", end_time="11:00")]}
    first = client.post("/entries/batch", json=day, headers=h)
    assert first.status_code == 201, first.get_json()
    again = client.post("/entries/batch", json=day, headers=h)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert entries(runtime) == 2 and len(outbox()) == 2


def test_two_requests_with_the_same_key_at_once_store_one_entry(app, keys, world, runtime, outbox):
    h = with_key(keys, world, "k-race")
    answers = []
    start = threading.Barrier(4)

    def send():
        c = app.test_client()
        start.wait()
        answers.append(c.post("/entries", json=body(world), headers=h))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [a.status_code for a in answers] == [201] * 4, [a.get_json() for a in answers]
    assert len({a.get_json()["id"] for a in answers}) == 1
    assert entries(runtime) == 1 and len(outbox()) == 1
