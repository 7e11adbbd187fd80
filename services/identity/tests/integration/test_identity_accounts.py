"""One-time passwords, the forced change at first login, admin reset — against real PostgreSQL."""
import jwt
from sqlalchemy import select

from ekinerja_common.auth import CallableKeySource, TokenVerifier
from ekinerja_common.errors import Forbidden

from identity.orm import Account, RefreshToken


def verify_elsewhere(app, token):
    """What any other service makes of the token: the common verifier with identity's keys."""
    keys = app.extensions["keys"]
    return TokenVerifier(CallableKeySource(keys.public_key), "ekinerja-identity", "ekinerja").verify(token)


def test_a_generated_one_time_password_is_shown_once_and_must_be_changed(api, client, admin, admin_h, app):
    e = api.register(admin_h)
    r = client.post("/accounts", json={"username": "budi.santoso", "employee_id": e["id"], "roles": ["majelis"]},
                    headers=admin_h)
    assert r.status_code == 201 and r.headers["Cache-Control"] == "no-store"
    created = r.get_json()
    otp = created["one_time_password"]
    assert len(otp) == 14 and created["must_change_password"] is True
    [record] = [a for a in api.audits("account.created") if a.object_id == created["id"]]
    assert record.details["password_generated"] is True and otp not in str(record.details)
    with api.runtime.session_factory() as s:
        assert otp not in s.get(Account, created["id"]).password_hash
    assert [g["role"] for g in created["pending_grants"]] == ["majelis"]  # waits for a second admin
    api.grant("budi.santoso", "majelis")

    first = api.login("budi.santoso", otp)
    assert first.status_code == 200
    body = first.get_json()
    # The answer says what the user must do; the token carries no power anywhere.
    assert body["account"]["must_change_password"] is True and body["account"]["roles"] == ["pegawai", "majelis"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["pwd_change"] is True and claims["roles"] == [] and claims["emp"] is None
    elsewhere = verify_elsewhere(app, body["access_token"])
    assert elsewhere.roles == frozenset() and elsewhere.employee_id is None
    try:
        elsewhere.require("pegawai")
        raise AssertionError("a password-change token passed a role check")
    except Forbidden:
        pass
    h = api.bearer(body)
    for call in (client.get("/me", headers=h), client.get("/employees", headers=h),
                 client.get(f"/employees/{e['id']}", headers=h), client.get("/accounts", headers=h)):
        assert call.status_code == 403 and call.get_json()["error"]["code"] == "password_change_required"
    # Refreshing does not escape the restriction.
    renewed = api.refresh(body["refresh_token"]).get_json()
    assert jwt.decode(renewed["access_token"], options={"verify_signature": False})["pwd_change"] is True

    changed = client.post("/auth/password", json={"current_password": otp, "new_password": "Sandi-Pilihan-Sendiri-1"},
                          headers=api.bearer(renewed))
    assert changed.status_code == 204
    full = api.login("budi.santoso", "Sandi-Pilihan-Sendiri-1").get_json()
    claims = jwt.decode(full["access_token"], options={"verify_signature": False})
    assert "pwd_change" not in claims and claims["roles"] == ["pegawai", "majelis"] and claims["emp"] == e["id"]
    assert verify_elsewhere(app, full["access_token"]).has("majelis")
    assert client.get("/me", headers=api.bearer(full)).status_code == 200
    assert api.login("budi.santoso", otp).status_code == 401


def test_admin_reset_gives_a_new_one_time_password_ends_sessions_and_lifts_a_lock(api, client, admin, admin_h, runtime):
    _, user = api.make_user(admin_h, "siti.aminah")
    account_id = user["account"]["id"]
    for _ in range(6):
        api.login("siti.aminah", "tebakan-salah-123")
    assert api.login("siti.aminah", "Sandi-Pegawai-01").status_code == 429
    listed = {a["username"]: a for a in client.get("/accounts", headers=admin_h).get_json()["items"]}
    assert listed["siti.aminah"]["locked"] is True and "password_hash" not in listed["siti.aminah"]

    r = client.post(f"/accounts/{account_id}/reset-password", headers=admin_h)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    otp = r.get_json()["one_time_password"]
    assert r.get_json()["must_change_password"] is True
    with runtime.session_factory() as s:
        assert all(t.revoked_at is not None for t in s.scalars(select(RefreshToken).where(RefreshToken.account_id == account_id)))
    assert api.refresh(user["refresh_token"]).status_code == 401
    assert api.login("siti.aminah", "Sandi-Pegawai-01").status_code == 401
    again = api.login("siti.aminah", otp)
    assert again.status_code == 200 and again.get_json()["account"]["must_change_password"] is True
    [record] = api.audits("account.password_reset")
    assert record.actor_account_id == admin["account"]["id"] and record.object_id == account_id
    assert otp not in str(record.details)
    # Another reset makes the previous one-time password worthless.
    second = client.post(f"/accounts/{account_id}/reset-password", headers=admin_h).get_json()["one_time_password"]
    assert second != otp and api.login("siti.aminah", otp).status_code == 401


def test_only_admin_bkd_resets_or_lists_accounts(api, client, admin, admin_h):
    _, user = api.make_user(admin_h, "budi.santoso", roles=["organisasi", "bpkad", "majelis"])
    h = api.bearer(user)
    for r in (client.post(f"/accounts/{admin['account']['id']}/reset-password", headers=h),
              client.get("/accounts", headers=h)):
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert api.audits("account.password_reset") == []
    assert api.login().status_code == 200  # the admin's password is untouched
    assert client.post("/accounts/00000000-0000-0000-0000-000000000000/reset-password", headers=admin_h).status_code == 404
