"""Login and password-change limits (issue 9 items 10 and 11), against real PostgreSQL: guessing
is slowed with the wait shown, nobody can lock a person out, no answer tells which usernames
exist, and an office of hundreds behind one NAT address logs in at 07:30."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select, update

from identity import passwords
from identity.orm import Account, AccountRole, AttemptCounter, Employee

OFFICE = "36.90.12.7"  # the regency office's one public address
HOME = "114.5.6.7"


def let_time_pass(runtime):
    """Every running wait is over (as if the clock had moved on)."""
    with runtime.session_factory() as s, s.begin():
        s.execute(update(AttemptCounter).values(blocked_until=datetime.now(timezone.utc) - timedelta(seconds=1)))


def test_guessing_one_account_waits_with_the_seconds_shown_and_the_same_for_unknown_names(api, admin):
    answers = {}
    for name in ("admin.bkd", "tidak.ada"):
        seen = [api.login(name, "tebakan-salah-1", address=HOME) for _ in range(7)]
        answers[name] = [(r.status_code, r.get_json()["error"]["code"], r.headers.get("Retry-After")) for r in seen]
        sixth = seen[5]
        assert sixth.status_code == 429 and sixth.headers["Retry-After"] == "30"
        assert "30 detik" in sixth.get_json()["error"]["message"] and "30 seconds" in sixth.get_json()["error"]["message_en"]
    assert answers["admin.bkd"] == answers["tidak.ada"]  # nothing tells which account exists
    assert [a[0] for a in answers["admin.bkd"]] == [401] * 5 + [429, 429]
    # While the wait runs even the right password is not checked: it is a wait, not a lock.
    assert api.login(address=HOME).status_code == 429
    let_time_pass(api.runtime)
    assert api.login(address=HOME).status_code == 200
    [slowed, _] = api.audits("login.slowed")
    assert slowed.details["address"] == HOME and slowed.details["seconds"] == 30 and slowed.request_id


def test_a_stranger_cannot_keep_the_person_out(api, admin):
    assert api.login(address=OFFICE).status_code == 200  # the admin's usual address
    # Someone at home guesses until slowed; the admin in the office is not.
    for _ in range(8):
        api.login(password="tebakan-salah-1", address=HOME)
    assert api.login(address=HOME).status_code == 429
    assert api.login(address=OFFICE).status_code == 200
    # Many addresses guessing together slow the username everywhere new ...
    for i in range(25):
        api.login(password="tebakan-salah-1", address=f"10.9.{i}.1")
    assert api.login(address="203.0.113.9").status_code == 429
    # ... but not where the person logs in from.
    assert api.login(address=OFFICE).status_code == 200


def test_three_hundred_people_behind_one_address_log_in_while_one_guesser_is_slowed(api, admin, runtime):
    password = "Apel-Pagi-0730"
    digest = passwords.hash_password(password)  # one hash for all: the rows are made directly
    with runtime.session_factory() as s, s.begin():
        for i in range(300):
            e = Employee(nip=f"19900101201503{i:04d}", name=f"Pegawai {i}", employee_kind="PNS",
                         status="PNS", golongan="III/a", active=True, version=1)
            s.add(e)
            s.flush()
            s.add(Account(username=f"pegawai{i:03d}", password_hash=digest, employee_id=e.id,
                          must_change_password=False, active=True, token_version=0,
                          role_rows=[AccountRole(role="pegawai")]))
    guesses, logins = [], []
    for i in range(300):
        if i % 30 == 0:  # the guesser keeps trying the admin account from the same office address
            guesses.append(api.login("admin.bkd", "tebakan-salah-1", address=OFFICE))
        if i % 50 == 0:  # and some people mistype first
            assert api.login(f"pegawai{i:03d}", "salah-ketik-1", address=OFFICE).status_code == 401
        logins.append(api.login(f"pegawai{i:03d}", password, address=OFFICE))
    assert [r.status_code for r in logins] == [200] * 300
    assert [r.status_code for r in guesses] == [401] * 5 + [429] * 5
    assert all(int(r.headers["Retry-After"]) > 0 for r in guesses[5:])
    with runtime.session_factory() as s:
        assert s.scalar(select(AttemptCounter.blocked_until).where(AttemptCounter.scope == "login.address")) is None


def test_wrong_current_passwords_slow_password_changes_never_logins(api, client, admin, admin_h):
    _, user = api.make_user(admin_h, "siti.aminah")
    h = {**api.bearer(user), "X-Real-IP": HOME}
    wrong = [client.post("/auth/password", json={"current_password": f"tebakan-{i}-salah", "new_password": "Sandi-Baru-2026"},
                         headers=h) for i in range(6)]
    assert [r.status_code for r in wrong] == [422] * 5 + [429]
    assert wrong[0].get_json()["error"]["fields"]["current_password"]["message"] == "Kata sandi saat ini salah"
    assert wrong[5].headers["Retry-After"] == "60" and "60 detik" in wrong[5].get_json()["error"]["message"]
    # The right current password must wait too (the token may be a thief's) ...
    r = client.post("/auth/password", json={"current_password": "Sandi-Pegawai-01", "new_password": "Sandi-Baru-2026"},
                    headers=h)
    assert r.status_code == 429
    # ... but logging in is untouched, from any address, and other accounts are not slowed.
    assert api.login("siti.aminah", "Sandi-Pegawai-01", address=HOME).status_code == 200
    r = client.post("/auth/password", json={"current_password": api.ADMIN_PASSWORD, "new_password": "Sandi-Admin-Baru-1"},
                    headers={**admin_h, "X-Real-IP": OFFICE})
    assert r.status_code == 204
    let_time_pass(api.runtime)
    fresh = api.login("siti.aminah", "Sandi-Pegawai-01").get_json()
    r = client.post("/auth/password", json={"current_password": "Sandi-Pegawai-01", "new_password": "Sandi-Baru-2026"},
                    headers=api.bearer(fresh))
    assert r.status_code == 204
