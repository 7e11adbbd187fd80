"""BKD's entry rules as yearly data and late-entry permissions, against real PostgreSQL: the
window comes from the stored year (audited, not a setting), a dated, reasoned permission to a
person or to a unit (its sub-units included) lets past days in until it expires or is revoked,
and nobody but admin_bkd changes any of it."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from activity.orm import Entry, LateEntryPermission, SubmissionPolicyAudit


def entry_body(world, day, **kw) -> dict:
    return {"date": day.isoformat(), "start_time": "08:00", "end_time": "10:00", "duty_id": world.duty_id,
            "volume": 3, "description": "Mengisi kegiatan susulan", **kw}


def post_entry(client, keys, employee_id, body):
    return client.post("/entries", json=body, headers=keys.headers(employee_id, "pegawai"))


def bkd(keys):
    return keys.headers(None, "admin_bkd", account_id="bkd-1")


def count(runtime, model) -> int:
    with runtime.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.fixture
def old_day(world):
    """A day well outside the default window of five days."""
    return world.today - timedelta(days=20)


def test_the_window_is_the_years_stored_policy_audited(client, keys, world, runtime):
    year = world.today.year
    shown = client.get(f"/entry-policies/{year}", headers=keys.headers(world.employee_id, "pegawai")).get_json()
    assert (shown["submission_window_days"], shown["is_default"], shown["version"]) == (5, True, 0)
    day = world.today - timedelta(days=7)
    if day.year != year:
        pytest.skip("the first week of January: the day is in last year's policy")
    r = post_entry(client, keys, world.employee_id, entry_body(world, day))
    assert r.status_code == 422 and "(5 hari" in r.get_json()["error"]["fields"]["date"]["message"]

    r = client.put(f"/entry-policies/{year}", json={"submission_window_days": 10, "reason": "Perbup 12/2026 pasal 4"},
                   headers=bkd(keys))
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["submission_window_days"], r.get_json()["is_default"], r.get_json()["version"]) == (10, False, 1)
    assert post_entry(client, keys, world.employee_id, entry_body(world, day)).status_code == 201

    # Optimistic locking, range checks (every bad field at once), an unchanged value stores nothing.
    stale = client.put(f"/entry-policies/{year}", json={"submission_window_days": 3, "version": 0}, headers=bkd(keys))
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale_version"
    bad = client.put(f"/entry-policies/{year}", json={"submission_window_days": 61}, headers=bkd(keys))
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"submission_window_days"}
    same = client.put(f"/entry-policies/{year}", json={"submission_window_days": 10, "version": 1}, headers=bkd(keys))
    assert same.status_code == 200 and same.get_json()["changed"] is False
    history = client.get(f"/entry-policies/{year}/history", headers=bkd(keys)).get_json()["versions"]
    assert [(v["version"], v["previous_window_days"], v["submission_window_days"], v["changed_by"], v["reason"])
            for v in history] == [(1, 5, 10, "bkd-1", "Perbup 12/2026 pasal 4")]
    assert count(runtime, SubmissionPolicyAudit) == 1


def test_a_permission_to_a_person_lets_their_past_days_in_until_it_expires(client, keys, world, old_day, feed, app):
    refused = post_entry(client, keys, world.employee_id, entry_body(world, old_day))
    assert refused.status_code == 422 and "izin pengisian susulan" in refused.get_json()["error"]["fields"]["date"]["message"]
    feed.employee(world.employee_id, name="Dewi Lestari")
    r = client.post("/late-entry-permissions", headers=bkd(keys), json={
        "employee_id": world.employee_id, "start_date": (old_day - timedelta(days=2)).isoformat(),
        "end_date": old_day.isoformat(), "reason": "Mulai memakai e-Kinerja di tengah bulan"})
    assert r.status_code == 201, r.get_json()
    permission = r.get_json()
    assert permission["employee_name"] == "Dewi Lestari" and permission["granted_by"] == "bkd-1"
    assert permission["valid_until"] == (world.today + timedelta(days=7)).isoformat()  # a week, by default

    # The preview and the entry both honour it; a day outside its dates is still refused.
    preview = client.post("/entries/preview", json=entry_body(world, old_day),
                          headers=keys.headers(world.employee_id, "pegawai")).get_json()
    assert preview["valid"] is True
    assert post_entry(client, keys, world.employee_id, entry_body(world, old_day)).status_code == 201
    outside = post_entry(client, keys, world.employee_id, entry_body(world, old_day + timedelta(days=1)))
    assert outside.status_code == 422 and set(outside.get_json()["error"]["fields"]) == {"date"}
    # Someone else is not covered by another person's permission.
    other = str(uuid.uuid4())
    feed.placement(other, world.position_id, world.today - timedelta(days=60))
    assert post_entry(client, keys, other, entry_body(world, old_day)).status_code == 422

    mine = client.get("/me/late-entry-permissions", headers=keys.headers(world.employee_id, "pegawai")).get_json()
    assert [(p["start_date"], p["end_date"]) for p in mine["permissions"]] == [
        ((old_day - timedelta(days=2)).isoformat(), old_day.isoformat())]

    # Revoked: the next entry of those days is refused again; entries already made stay.
    r = client.post(f"/late-entry-permissions/{permission['id']}/revoke", json={"reason": "Diberikan keliru"},
                    headers=bkd(keys))
    assert r.status_code == 200 and r.get_json()["revoked_by"] == "bkd-1"
    again = client.post(f"/late-entry-permissions/{permission['id']}/revoke", json={"reason": "Lagi-lagi"},
                        headers=bkd(keys))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_revoked"
    r = post_entry(client, keys, world.employee_id, entry_body(world, old_day - timedelta(days=1)))
    assert r.status_code == 422
    with app.extensions["runtime"].session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Entry)) == 1


def test_a_permission_to_a_unit_covers_its_sub_units_and_their_people(client, keys, world, old_day, feed):
    opd = feed.unit(name="Dinas Komunikasi dan Informatika").data["unit_id"]
    bidang = feed.unit(parent_id=opd, name="Bidang Aplikasi Informatika", kind="bidang").data["unit_id"]
    elsewhere = feed.unit(name="Dinas Pendidikan").data["unit_id"]
    feed.position(world.position_id, unit_id=bidang)
    r = client.post("/late-entry-permissions", headers=bkd(keys), json={
        "unit_id": elsewhere, "start_date": old_day.isoformat(), "end_date": old_day.isoformat(),
        "reason": "Gangguan jaringan di Dinas Pendidikan"})
    assert r.status_code == 201
    assert post_entry(client, keys, world.employee_id, entry_body(world, old_day)).status_code == 422
    r = client.post("/late-entry-permissions", headers=bkd(keys), json={
        "unit_id": opd, "start_date": old_day.isoformat(), "end_date": old_day.isoformat(),
        "valid_until": world.today.isoformat(), "reason": "Server mati 3 hari, pengisian susulan"})
    assert r.status_code == 201 and r.get_json()["unit_name"] == "Dinas Komunikasi dan Informatika"
    assert post_entry(client, keys, world.employee_id, entry_body(world, old_day)).status_code == 201
    listed = client.get("/late-entry-permissions", headers=bkd(keys)).get_json()
    assert listed["total"] == 2 and [p["unit_name"] for p in listed["items"]] == [
        "Dinas Komunikasi dan Informatika", "Dinas Pendidikan"]  # newest first


def test_every_problem_of_a_grant_is_listed_and_nothing_is_stored(client, keys, world, runtime):
    today = world.today
    r = client.post("/late-entry-permissions", headers=bkd(keys), json={
        "start_date": today.isoformat(), "end_date": (today + timedelta(days=1)).isoformat(),
        "valid_until": (today - timedelta(days=1)).isoformat(), "reason": "tadi"})
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"employee_id", "end_date", "valid_until", "reason"}
    r = client.post("/late-entry-permissions", headers=bkd(keys), json={
        "employee_id": str(uuid.uuid4()), "unit_id": str(uuid.uuid4()), "start_date": today.isoformat(),
        "end_date": (today - timedelta(days=3)).isoformat(), "reason": "alasan yang cukup panjang"})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"employee_id", "end_date"}
    r = client.post("/late-entry-permissions", headers=bkd(keys), json={
        "employee_id": str(uuid.uuid4()), "start_date": today.isoformat(), "end_date": today.isoformat(),
        "reason": "alasan yang cukup panjang"})
    assert r.status_code == 422 and r.get_json()["error"]["fields"]["employee_id"]["message"] == "Pegawai tidak dikenal"
    assert count(runtime, LateEntryPermission) == 0


def test_only_admin_bkd_changes_entry_rules_or_permissions(client, keys, world, feed, runtime, old_day):
    """Authorization matrix of the new endpoints: (caller) x (endpoint) → status; nothing changes
    for a refused caller."""
    feed.employee(world.employee_id)
    permission = client.post("/late-entry-permissions", headers=bkd(keys), json={
        "employee_id": world.employee_id, "start_date": old_day.isoformat(), "end_date": old_day.isoformat(),
        "reason": "Pengisian susulan yang sah"}).get_json()
    year = world.today.year
    grant = {"employee_id": world.employee_id, "start_date": old_day.isoformat(), "end_date": old_day.isoformat(),
             "reason": "Mencoba memberi izin sendiri"}
    calls = {
        "read policy": ("GET", f"/entry-policies/{year}", None),
        "set policy": ("PUT", f"/entry-policies/{year}", {"submission_window_days": 30}),
        "policy history": ("GET", f"/entry-policies/{year}/history", None),
        "grant": ("POST", "/late-entry-permissions", grant),
        "list": ("GET", "/late-entry-permissions", None),
        "revoke": ("POST", f"/late-entry-permissions/{permission['id']}/revoke", {"reason": "Dicabut sendiri"}),
        "mine": ("GET", "/me/late-entry-permissions", None),
        "attendance report": ("GET", "/reports/attendance", None),
        "no-entries report": ("GET", "/reports/no-entries", None),
    }
    callers = {
        "none": {},
        "pegawai": keys.headers(world.employee_id, "pegawai"),
        "organisasi": keys.headers(None, "organisasi"),
        "bpkad": keys.headers(None, "bpkad"),
        "majelis": keys.headers(str(uuid.uuid4()), "pegawai", "majelis"),
    }
    allowed = {("pegawai", "read policy"), ("organisasi", "read policy"), ("bpkad", "read policy"),
               ("majelis", "read policy"), ("pegawai", "mine"), ("majelis", "mine")}
    before = (count(runtime, LateEntryPermission), count(runtime, SubmissionPolicyAudit))
    for who, headers in callers.items():
        for name, (method, path, body) in calls.items():
            r = client.open(path, method=method, json=body, headers=headers)
            if who == "none":
                assert r.status_code == 401, (who, name, r.status_code)
            elif (who, name) in allowed:
                assert r.status_code == 200, (who, name, r.status_code, r.get_json())
            else:
                assert r.status_code == 403, (who, name, r.status_code)
    assert (count(runtime, LateEntryPermission), count(runtime, SubmissionPolicyAudit)) == before
    with runtime.session_factory() as s:
        assert s.get(LateEntryPermission, permission["id"]).revoked_at is None
    # admin_bkd may do each of them.
    for name, (method, path, body) in calls.items():
        if name == "mine":
            continue
        r = client.open(path, method=method, json=body, headers=bkd(keys))
        assert r.status_code in (200, 201), (name, r.status_code, r.get_json())
