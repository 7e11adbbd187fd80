"""argon2id at the parameters chosen in issue 13, and hashes of older parameters upgraded at the
next successful login (never at a failed one), against real PostgreSQL."""
from argon2 import PasswordHasher
from sqlalchemy import select

from identity import passwords
from identity.orm import Account, AccountRole, Employee

PASSWORD = "Apel-Pagi-0730"


def _account_with(runtime, digest: str) -> str:
    with runtime.session_factory() as s, s.begin():
        e = Employee(nip="199001012015031999", name="Pegawai Lama", employee_kind="PNS", status="PNS",
                     golongan="III/a", active=True, version=1)
        s.add(e)
        s.flush()
        s.add(Account(username="pegawai.lama", password_hash=digest, employee_id=e.id, must_change_password=False,
                      active=True, token_version=0, role_rows=[AccountRole(role="pegawai")]))
    return "pegawai.lama"


def _stored(runtime, username: str) -> str:
    with runtime.session_factory() as s:
        return s.scalar(select(Account.password_hash).where(Account.username == username))


def test_new_hashes_use_the_chosen_argon2id_parameters():
    digest = passwords.hash_password(PASSWORD)
    assert passwords.parameters(digest) == ("id", passwords.TIME_COST, passwords.MEMORY_KIB, passwords.PARALLELISM)
    assert not passwords.needs_rehash(digest)


def test_a_hash_of_the_old_parameters_is_upgraded_at_the_next_login_not_at_a_failed_one(api, admin, runtime):
    old = PasswordHasher()  # argon2-cffi's defaults (t=3, 64 MiB, p=4): what identity stored before
    username = _account_with(runtime, old.hash(PASSWORD))
    assert passwords.needs_rehash(_stored(runtime, username))

    assert api.login(username, "salah-ketik-1").status_code == 401
    assert passwords.parameters(_stored(runtime, username))[1:] == (3, 65536, 4)  # a wrong password changes nothing

    assert api.login(username, PASSWORD).status_code == 200
    upgraded = _stored(runtime, username)
    assert passwords.parameters(upgraded) == ("id", passwords.TIME_COST, passwords.MEMORY_KIB, passwords.PARALLELISM)
    assert not passwords.needs_rehash(upgraded)
    assert api.login(username, PASSWORD).status_code == 200  # the new hash verifies the same password
    assert _stored(runtime, username) == upgraded  # and is not rehashed again


def test_accounts_by_import_cost_one_hash_each_and_a_second_send_changes_nothing(api, client, admin_h, runtime,
                                                                                 monkeypatch):
    nips = [f"19900101201503100{i}" for i in range(1, 4)]
    employees = [api.register(admin_h, nip=n) for n in nips]
    made = []
    real = passwords.hash_password
    monkeypatch.setattr(passwords, "hash_password", lambda pw: made.append(pw) or real(pw))

    r = client.post("/accounts/import", json={"nips": nips}, headers=admin_h)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert r.headers["Cache-Control"] == "no-store"
    assert [a["username"] for a in body["created"]] == nips and body["existing"] == []
    assert [a["employee_id"] for a in body["created"]] == [e["id"] for e in employees]
    assert len(made) == 3  # one argon2 hash per account
    with runtime.session_factory() as s:
        rows = s.execute(select(Account.username, Account.must_change_password).where(Account.username.in_(nips))).all()
    assert sorted(rows) == [(n, True) for n in nips]  # the one-time password must be replaced at first login
    first = body["created"][0]
    assert api.login(first["username"], first["one_time_password"]).status_code == 200

    again = client.post("/accounts/import", json={"nips": nips}, headers=admin_h)
    assert again.status_code == 201 and again.get_json() == {"created": [], "existing": nips}
    assert len(made) == 3


def test_an_account_import_with_bad_nips_stores_nothing_and_names_every_bad_line(api, client, admin_h, runtime):
    good = "199001012015031011"
    api.register(admin_h, nip=good)
    r = client.post("/accounts/import", json={"nips": [good, "199901012020011999", good]}, headers=admin_h)
    assert r.status_code == 422
    fields = r.get_json()["error"]["fields"]
    assert set(fields) == {"nips.1", "nips.2"}
    assert fields["nips.1"]["message"] and fields["nips.1"]["message_en"]
    with runtime.session_factory() as s:
        assert s.scalar(select(Account.id).where(Account.username == good)) is None
    assert client.post("/accounts/import", json={"nips": []}, headers=admin_h).status_code == 422
