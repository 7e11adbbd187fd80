"""Issue 9 items 8, 9, 12, 24 and 25 on identity's side, against real PostgreSQL: nulls in a
PATCH, revocation of tokens at once, bank data only for BKD/BPKAD, no-store on personal answers,
an audit trail the database itself keeps append-only."""
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from identity.orm import Employee
from ekinerja_common.clock import today as local_today

KABID, STAFF = str(uuid.uuid4()), str(uuid.uuid4())


def test_null_for_a_field_that_cannot_be_empty_is_refused_listing_every_one(api, client, admin_h):
    e = api.register(admin_h, bank_account="0012003456", npwp="012345678901000")
    events = len(api.outbox())
    r = client.patch(f"/employees/{e['id']}", json={"active": None, "name": None, "golongan": None, "status": None},
                     headers=admin_h)
    assert r.status_code == 422, r.get_json()
    fields = r.get_json()["error"]["fields"]
    assert set(fields) == {"active", "name", "golongan", "status"}
    assert fields["active"] == {"message": "Tidak boleh kosong (null)", "message_en": "Must not be null"}
    with api.runtime.session_factory() as s:
        stored = s.get(Employee, e["id"])
        assert (stored.active, stored.name, stored.golongan, stored.version) == (True, "Budi Santoso", "III/a", 1)
    assert len(api.outbox()) == events
    # A field that may be empty is cleared by null; one not sent stays as it is.
    r = client.patch(f"/employees/{e['id']}", json={"npwp": None}, headers=admin_h)
    assert r.status_code == 200 and r.get_json()["npwp"] is None and r.get_json()["active"] is True
    assert r.get_json()["bank_account"] == "0012003456"


def test_bank_account_and_npwp_are_for_bkd_bpkad_and_the_person_only(api, client, admin_h):
    api.deliver_position(KABID, name="Kepala Bidang")
    api.deliver_position(STAFF, name="Pranata Komputer", parent_id=KABID)
    start = (local_today() - timedelta(days=5)).isoformat()
    boss, boss_login = api.make_user(admin_h, "kabid", nip="198007222005012003", name="Rina")
    staff, staff_login = api.make_user(admin_h, "staff", nip="198802172011032001", name="Dewi",
                                       bank_account="0012007402", npwp="012345678901000")
    for who, pos in ((boss, KABID), (staff, STAFF)):
        r = client.post(f"/employees/{who['id']}/placements", json={"position_id": pos, "start_date": start,
                                                                     "kind": "definitive"}, headers=admin_h)
        assert r.status_code == 201
    as_boss = client.get(f"/employees/{staff['id']}", headers=api.bearer(boss_login)).get_json()
    assert as_boss["name"] == "Dewi" and "bank_account" not in as_boss and "npwp" not in as_boss
    listed = client.get("/employees", headers=api.bearer(boss_login)).get_json()["items"]
    assert [("bank_account" in e, "npwp" in e) for e in listed if e["id"] == staff["id"]] == [(False, False)]
    own = client.get(f"/employees/{staff['id']}", headers=api.bearer(staff_login)).get_json()
    assert (own["bank_account"], own["npwp"]) == ("0012007402", "012345678901000")
    assert client.get("/me", headers=api.bearer(staff_login)).get_json()["employee"]["bank_account"] == "0012007402"
    assert client.get(f"/employees/{staff['id']}", headers=admin_h).get_json()["bank_account"] == "0012007402"
    # The boss's own record still shows the boss's own bank data.
    assert "bank_account" in client.get(f"/employees/{boss['id']}", headers=api.bearer(boss_login)).get_json()


def test_personal_answers_are_never_cached_public_ones_say_so(api, client, admin, admin_h):
    e = api.register(admin_h)
    for path in ("/me", f"/employees/{e['id']}", "/employees", "/accounts", "/role-grants"):
        r = client.get(path, headers=admin_h)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", path
    assert client.get("/employees", headers=admin_h | {"Authorization": "Bearer x"}).headers["Cache-Control"] == "no-store"
    assert client.get("/.well-known/jwks.json").headers["Cache-Control"] == "public, max-age=300"
    assert "no-store" in api.login().headers["Cache-Control"]
    assert "Cache-Control" not in client.get("/healthz").headers


def test_deactivation_password_reset_and_change_revoke_the_token_in_hand(api, client, admin_h):
    for how in ("deactivate", "reset", "change"):
        nip = {"deactivate": "198802172011032001", "reset": "199209092017121002", "change": "197811052003121001"}[how]
        me, user = api.make_user(admin_h, f"user.{how}", nip=nip)
        h = api.bearer(user)
        assert client.get("/me", headers=h).status_code == 200
        if how == "deactivate":
            assert client.patch(f"/employees/{me['id']}", json={"active": False}, headers=admin_h).status_code == 200
        elif how == "reset":
            assert client.post(f"/accounts/{user['account']['id']}/reset-password", headers=admin_h).status_code == 200
        else:
            assert client.post("/auth/password", json={"current_password": "Sandi-Pegawai-01",
                                                       "new_password": "Sandi-Baru-Sekali-9"}, headers=h).status_code == 204
        r = client.get("/me", headers=h)
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "token_revoked", how
        kind, data = api.outbox()[-1] if how != "deactivate" else [x for x in api.outbox() if x[0] == "account.revoked"][-1]
        assert kind == "account.revoked" and data["account_id"] == user["account"]["id"]
        assert data["reason"] == {"deactivate": "deactivated", "reset": "password_reset", "change": "password_changed"}[how]
        assert data["token_version"] == 1


def test_the_audit_trail_is_append_only_and_carries_request_and_before_after(api, client, admin, admin_h, runtime):
    e = api.register(admin_h)
    r = client.patch(f"/employees/{e['id']}", json={"golongan": "III/b"}, headers={**admin_h, "X-Request-ID": "req-42"})
    assert r.status_code == 200
    [record] = api.audits("employee.updated")
    assert (record.actor_account_id, record.request_id) == (admin["account"]["id"], "req-42")
    assert record.before["golongan"] == "III/a" and record.after["golongan"] == "III/b" and record.at is not None
    for sql in ("UPDATE audit_records SET action = 'x'", "DELETE FROM audit_records",
                "UPDATE audit_records SET action = 'x' WHERE false", "TRUNCATE audit_records"):
        with runtime.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(sql))
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_records")).scalar() == len(api.audits())
    assert json.dumps(record.after)  # plain JSON
