"""Login, tokens and sessions against a real PostgreSQL database, with identity's own keys."""
import base64
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from sqlalchemy import select, update

from ekinerja_common.testing import TestKeys

from identity import commands
from identity.keys import KeyStore
from identity.orm import Account, RefreshToken, SigningKey



ADMIN = "admin.bkd"


def bearer(body):
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_issued_token_verifies_with_the_published_jwks(client, admin):
    assert admin["token_type"] == "Bearer" and admin["expires_in"] == 900
    assert admin["account"]["username"] == ADMIN and admin["account"]["roles"] == ["admin_bkd"]
    assert admin["account"]["employee_id"] is None and admin["account"]["must_change_password"] is False
    jwks = client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200 and "max-age" in jwks.headers["Cache-Control"]
    keyset = jwt.PyJWKSet.from_dict(jwks.get_json())
    token = admin["access_token"]
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keyset.keys if k.key_id == kid)
    assert key.algorithm_name == "EdDSA"
    claims = jwt.decode(token, key.key, algorithms=["EdDSA"], audience="ekinerja", issuer="ekinerja-identity")
    assert claims["sub"] == admin["account"]["id"] and claims["emp"] is None
    assert claims["roles"] == ["admin_bkd"] and claims["typ"] == "access" and claims["name"] == ADMIN
    assert claims["exp"] - claims["iat"] == 15 * 60
    me = client.get("/me", headers=bearer(admin))
    assert me.status_code == 200 and me.get_json()["account"]["id"] == claims["sub"]
    assert me.get_json()["employee"] is None


def test_wrong_password_and_unknown_user_get_the_same_answer(api, client, admin):
    wrong = api.login(password="not-the-password")
    unknown = api.login(username="nobody.here")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["error"]["code"] == "invalid_credentials"


def test_refresh_rotates_and_reuse_revokes_the_whole_family(api, client, admin, runtime):
    other_session = api.login().get_json()
    first = admin["refresh_token"]
    second = api.refresh(first)
    assert second.status_code == 200 and second.headers["Cache-Control"] == "no-store"
    second = second.get_json()
    assert second["refresh_token"] != first and second["account"]["id"] == admin["account"]["id"]
    assert client.get("/me", headers=bearer(second)).status_code == 200
    third = api.refresh(second["refresh_token"]).get_json()
    # The first token, long spent, comes back: whoever holds it, the session ends.
    reused = api.refresh(first)
    assert reused.status_code == 401 and reused.get_json()["error"]["code"] == "refresh_token_reused"
    assert api.refresh(third["refresh_token"]).status_code == 401
    with runtime.session_factory() as s:
        family = s.scalar(select(RefreshToken.family_id).where(RefreshToken.account_id == admin["account"]["id"])
                          .order_by(RefreshToken.issued_at).limit(1))
        tokens = s.scalars(select(RefreshToken).where(RefreshToken.family_id == family)).all()
    assert len(tokens) == 3 and all(t.revoked_at is not None for t in tokens)
    assert [a.details["family_id"] for a in api.audits("session.reuse_detected")] == [family]
    # Another login of the same person is another family and survives.
    assert api.refresh(other_session["refresh_token"]).status_code == 200


def test_refresh_tokens_are_stored_hashed_and_expire(api, client, admin, runtime):
    token = admin["refresh_token"]
    with runtime.session_factory() as s, s.begin():
        row = s.scalars(select(RefreshToken)).one()
        assert row.token_hash != token and len(row.token_hash) == 64
        row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    r = api.refresh(token)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_refresh_token"
    assert api.refresh("made-up-token").status_code == 401


def test_logout_ends_the_session(api, client, admin):
    r = client.post("/auth/logout", json={"refresh_token": admin["refresh_token"]})
    assert r.status_code == 204
    assert api.refresh(admin["refresh_token"]).status_code == 401
    assert client.post("/auth/logout", json={"refresh_token": "unknown"}).status_code == 204


def test_foreign_and_forged_tokens_are_refused(client, admin, app):
    real = admin["access_token"]
    kid = jwt.get_unverified_header(real)["kid"]
    claims = jwt.decode(real, options={"verify_signature": False})
    public_jwk = client.get("/.well-known/jwks.json").get_json()["keys"][0]
    # Algorithm confusion: HS256 keyed with the public key, under the real kid.
    hs = jwt.encode(claims, public_jwk["x"], algorithm="HS256", headers={"kid": kid})
    foreign = TestKeys()
    foreign_kid = foreign.token(None, "admin_bkd", account_id=claims["sub"])
    foreign_key_real_kid = jwt.encode(claims, foreign.key, algorithm="EdDSA", headers={"kid": kid})
    signer = app.extensions["keys"].signer()
    not_access = jwt.encode({**claims, "typ": "refresh"}, signer.key, algorithm="EdDSA", headers={"kid": signer.kid})
    other_audience = jwt.encode({**claims, "aud": "elsewhere"}, signer.key, algorithm="EdDSA", headers={"kid": signer.kid})
    # PyJWT will not write a numeric kid; a forger will. The signature part is irrelevant here.
    numeric_kid = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
                           for part in ({"alg": "EdDSA", "kid": 123}, claims)) + ".c2ln"
    odd_kids = [numeric_kid, jwt.encode(claims, signer.key, algorithm="EdDSA", headers={"kid": "k" * 5000})]
    no_kid = jwt.encode(claims, signer.key, algorithm="EdDSA")
    for token in (hs, foreign_kid, foreign_key_real_kid, not_access, other_audience, real + "x", no_kid, *odd_kids):
        r = client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"
    now = datetime.now(timezone.utc)
    expired = jwt.encode({**claims, "iat": now - timedelta(hours=1), "exp": now - timedelta(minutes=30)},
                         signer.key, algorithm="EdDSA", headers={"kid": signer.kid})
    r = client.get("/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "token_expired"
    assert client.get("/me").status_code == 401


def test_key_rotation_keeps_old_tokens_valid_until_retired(api, client, admin, app, runtime, capsys):
    old = admin["access_token"]
    commands.rotate_keys(runtime, [])
    assert "new signing key" in capsys.readouterr().out
    new = api.login().get_json()["access_token"]
    old_kid, new_kid = (jwt.get_unverified_header(t)["kid"] for t in (old, new))
    assert old_kid != new_kid
    assert {k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]} == {old_kid, new_kid}
    for token in (old, new):
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    keys = app.extensions["keys"]
    with pytest.raises(Exception) as exc:
        keys.retire(new_kid)
    assert exc.value.code == "active_key"
    keys.retire(old_kid)
    assert [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]] == [new_kid]
    assert client.get("/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get("/me", headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_first_key_is_created_once_on_first_need(client, runtime):
    with runtime.session_factory() as s:
        assert s.scalars(select(SigningKey)).all() == []
    # Two workers needing a key at the same moment end up signing with the same one.
    stores = [KeyStore(runtime), KeyStore(runtime)]
    with ThreadPoolExecutor(2) as pool:
        kids = set(pool.map(lambda store: store.signer().kid, stores))
    with runtime.session_factory() as s:
        assert [k.kid for k in s.scalars(select(SigningKey))] == list(kids)
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "OKP" and keys[0]["crv"] == "Ed25519" and keys[0]["alg"] == "EdDSA"
    assert "d" not in keys[0]  # never the private part
    assert client.get("/.well-known/jwks.json").get_json()["keys"] == keys


def test_change_password_ends_every_session(api, client, admin_h):
    employee, user = api.make_user(admin_h, "siti.aminah", settled=False)
    assert user["account"]["must_change_password"] is True and user["account"]["roles"] == ["pegawai"]
    h = bearer(user)
    r = client.post("/auth/password", json={"current_password": "wrong-one-here", "new_password": "Sandi-Baru-2026"}, headers=h)
    assert r.status_code == 422 and "current_password" in r.get_json()["error"]["fields"]
    r = client.post("/auth/password", json={"current_password": "Sandi-Pegawai-01", "new_password": "pendek"}, headers=h)
    assert r.status_code == 422 and "new_password" in r.get_json()["error"]["fields"]
    r = client.post("/auth/password", json={"current_password": "Sandi-Pegawai-01", "new_password": "Sandi-Baru-2026"}, headers=h)
    assert r.status_code == 204
    assert api.refresh(user["refresh_token"]).status_code == 401
    assert api.login("siti.aminah", "Sandi-Pegawai-01").status_code == 401
    again = api.login("siti.aminah", "Sandi-Baru-2026").get_json()
    assert again["account"]["must_change_password"] is False and again["account"]["employee_id"] == employee["id"]


def test_create_admin_is_idempotent(api, runtime, client, admin, monkeypatch, capsys):
    monkeypatch.setenv(commands.PASSWORD_VAR, "Another-Password-99")
    commands.create_admin(runtime, [ADMIN])
    assert "already exists" in capsys.readouterr().out
    assert api.login().status_code == 200
    assert api.login(password="Another-Password-99").status_code == 401
    assert [a.after["roles"] for a in api.audits("account.created")] == [["admin_bkd"]]


def test_passphrase_encrypts_private_keys_at_rest():
    from ekinerja_common.config import Settings
    from ekinerja_common.testing import fresh_database

    from identity.app import create_app
    from identity.keys import KeyStore
    from identity.runtime import build_runtime

    with fresh_database("identity") as url:
        settings = Settings(service="identity", database_url=url, extra={"IDENTITY_KEY_PASSPHRASE": "kata-rahasia"})
        app = create_app(settings)
        rt = app.extensions["runtime"]
        rt.migrate()
        try:
            kid = app.extensions["keys"].signer().kid
            with rt.session_factory() as s:
                pem = s.get(SigningKey, kid).private_pem
            assert pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
            plain_rt = build_runtime(Settings(service="identity", database_url=url))
            with pytest.raises(RuntimeError, match="IDENTITY_KEY_PASSPHRASE"):
                KeyStore(plain_rt).signer()
            plain_rt.engine.dispose()
        finally:
            rt.engine.dispose()


def test_a_passphrase_file_encrypts_keys_stored_in_the_clear_before(tmp_path):
    """Issue 9 item 23: a run directory from before the passphrase holds a plain key; with the
    passphrase file (a compose secret, or the local runner's) the key is encrypted when first
    loaded, and tokens it signed keep verifying."""
    from ekinerja_common.config import Settings
    from ekinerja_common.testing import fresh_database

    from identity.keys import KeyStore
    from identity.runtime import build_runtime

    secret = tmp_path / "identity-key-passphrase"
    secret.write_text("kata-rahasia-dari-berkas\n")
    with fresh_database("identity") as url:
        plain_rt = build_runtime(Settings(service="identity", database_url=url))
        plain_rt.migrate()
        old = KeyStore(plain_rt).signer()
        rt = build_runtime(Settings(service="identity", database_url=url,
                                    extra={"IDENTITY_KEY_PASSPHRASE_FILE": str(secret)}))
        try:
            store = KeyStore(rt)
            assert store.signer().kid == old.kid
            with rt.session_factory() as s:
                assert s.get(SigningKey, old.kid).private_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
            again = KeyStore(rt).signer()  # a fresh process decrypts it with the same file
            assert again.key.private_bytes_raw() == old.key.private_bytes_raw()
            with pytest.raises(RuntimeError, match="IDENTITY_KEY_PASSPHRASE"):
                KeyStore(plain_rt).signer()  # and without the passphrase nobody can sign
        finally:
            plain_rt.engine.dispose()
            rt.engine.dispose()


def test_malformed_json_and_bad_bodies(client, admin_h):
    r = client.post("/auth/login", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed_json"
    r = client.post("/employees", data="[", headers={**admin_h, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed_json"
    r = client.post("/auth/login", json={"username": "x"})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"password"}


def test_health_metrics_openapi(client):
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/readyz").status_code == 200
    spec = client.get("/openapi.json").get_json()
    assert "security" not in spec["paths"]["/auth/login"]["post"]
    assert spec["paths"]["/employees/{employee_id}/placements"]["post"]["security"] == [{"bearer": []}]
    assert "/.well-known/jwks.json" in spec["paths"]
