"""Read models fed by events: idempotent, and deaf to stale versions arriving late."""
import uuid
from datetime import timedelta

import pytest

from activity.orm import ClosedPeriod, Duty, Entry, Placement


def submit(client, keys, world, **kw):
    body = {"date": world.today.isoformat(), "start_time": "08:00", "end_time": "10:00", "duty_id": world.duty_id,
            "volume": 3, "description": "Menyusun laporan bulanan", **kw}
    r = client.post("/entries", json=body, headers=keys.headers(world.employee_id, "pegawai"))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def read(runtime, model, key):
    with runtime.session_factory() as s:
        return s.get(model, key)


def test_decisions_set_status_and_ignore_duplicates_and_stale_versions(client, keys, world, feed, runtime):
    entry = submit(client, keys, world)
    approved = feed.decision("activity.approved", entry, version=2)
    assert feed.consumer.apply(approved) == "handled"
    row = read(runtime, Entry, entry["id"])
    assert (row.status, row.reason, row.version, row.decided_by) == ("approved", None, 2, "atasan-1")
    assert feed.consumer.apply(approved) == "duplicate"  # redelivery: nothing changes
    assert read(runtime, Entry, entry["id"]).version == 2
    # An older decision arriving late (a different message) changes nothing.
    assert feed.consumer.apply(feed.decision("activity.returned", entry, version=2, reason="Perbaiki")) == "handled"
    row = read(runtime, Entry, entry["id"])
    assert (row.status, row.reason, row.decision_version, row.version) == ("approved", None, 2, 2)

    other = submit(client, keys, world, start_time="13:00", end_time="14:00", volume=1)
    feed.consumer.apply(feed.decision("activity.rejected", other, version=2, reason="Bukti tidak ada"))
    shown = client.get(f"/entries/{other['id']}", headers=keys.headers(world.employee_id, "pegawai")).get_json()
    assert shown["status"] == "rejected" and shown["reason"] == "Bukti tidak ada"


def test_returned_entry_keeps_its_slot_and_rejected_frees_it(client, keys, world, feed):
    entry = submit(client, keys, world)
    feed.consumer.apply(feed.decision("activity.returned", entry, version=2, reason="Lengkapi uraian"))
    h = keys.headers(world.employee_id, "pegawai")
    shown = client.get(f"/entries/{entry['id']}", headers=h).get_json()
    assert shown["status"] == "returned" and shown["reason"] == "Lengkapi uraian"
    body = {"date": world.today.isoformat(), "start_time": "09:00", "end_time": "10:00", "duty_id": world.duty_id,
            "volume": 1, "description": "x"}
    assert client.post("/entries", json=body, headers=h).status_code == 422
    assert client.post(f"/entries/{entry['id']}/submit", headers=h).status_code == 200  # resubmitted as v3
    feed.consumer.apply(feed.decision("activity.rejected", entry, version=4, reason="Tidak sesuai"))
    assert client.post("/entries", json=body, headers=h).status_code == 201


def test_decision_for_an_unknown_entry_fails_loudly(feed, runtime):
    ghost = {"id": str(uuid.uuid4()), "employee_id": "e", "date": "2026-11-27", "credited_minutes": 10}
    with pytest.raises(LookupError):
        feed.consumer.apply(feed.decision("activity.approved", ghost, version=1))


def test_decision_for_someone_elses_entry_fails_loudly(client, keys, world, feed):
    entry = submit(client, keys, world)
    with pytest.raises(LookupError):
        feed.consumer.apply(feed.decision("activity.approved", {**entry, "employee_id": "other"}, version=1))


def test_placement_versions(feed, runtime, world):
    pid = str(uuid.uuid4())
    ended = world.today - timedelta(days=1)
    feed.placement("e-7", world.position_id, world.today - timedelta(days=30), ended, version=2, placement_id=pid)
    # The original, open-ended placement arrives late: the ended one stands.
    feed.placement("e-7", world.position_id, world.today - timedelta(days=30), None, version=1, placement_id=pid)
    row = read(runtime, Placement, pid)
    assert row.end_date == ended and row.version == 2
    feed.placement("e-7", world.position_id, world.today - timedelta(days=30), None, version=3, placement_id=pid)
    assert read(runtime, Placement, pid).end_date is None


def test_duty_retired_before_published_stays_retired(feed, runtime):
    duty_id, pos = str(uuid.uuid4()), str(uuid.uuid4())
    feed.retire(duty_id, pos, version=2)
    feed.duty(pos, duty_id=duty_id, version=1)
    row = read(runtime, Duty, duty_id)
    assert (row.status, row.version, row.description) == ("retired", 2, None)


def test_duty_publication_is_idempotent_and_later_versions_win(feed, runtime):
    env = feed.duty("pos-x", norma_waktu=30)
    duty_id = env.data["duty_id"]
    assert feed.consumer.apply(env) == "duplicate"
    feed.duty("pos-x", norma_waktu=45, duty_id=duty_id, version=2)
    feed.duty("pos-x", norma_waktu=10, duty_id=duty_id, version=1)  # late
    assert read(runtime, Duty, duty_id).norma_waktu == 45


def test_retired_duty_no_longer_accepts_entries_but_old_entries_keep_their_details(client, keys, world, feed):
    entry = submit(client, keys, world)
    feed.retire(world.duty_id, world.position_id)
    body = {"date": world.today.isoformat(), "start_time": "13:00", "end_time": "14:00", "duty_id": world.duty_id,
            "volume": 1, "description": "x"}
    h = keys.headers(world.employee_id, "pegawai")
    r = client.post("/entries", json=body, headers=h)
    assert r.status_code == 422 and "duty_id" in r.get_json()["error"]["fields"]
    assert client.get(f"/entries/{entry['id']}", headers=h).get_json()["duty_description"] == "Menyusun laporan"


def test_period_lock_is_recorded_once(feed, runtime):
    first = feed.lock(2026, 10)
    assert feed.consumer.apply(first) == "duplicate"
    feed("tpp.period_locked", {"year": 2026, "month": 10, "locked_at": "2026-12-09T03:00:00Z", "locked_by": "other"})
    row = read(runtime, ClosedPeriod, (2026, 10))
    assert row.locked_by == "bpkad-1"


def test_events_nobody_here_handles_are_acknowledged(feed):
    env = feed.envelope("tpp.correction_issued", {
        "correction_id": "c", "employee_id": "e", "year": 2026, "month": 12, "for_year": 2026, "for_month": 10,
        "amount": 1000, "cause": {}})
    assert feed.consumer.apply(env) == "ignored"
