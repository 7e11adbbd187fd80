"""Login sessions: password login, refresh-token rotation with reuse detection, logout and
password change. A session is a family of refresh tokens descended from one login."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ekinerja_common.errors import DomainError, Forbidden, Text, TooManyAttempts, Unauthorized, ValidationFailed
from ekinerja_common.uow import UnitOfWork

from . import domain, passwords, throttle
from .keys import Signer
from .orm import Account, AttemptCounter, Employee, RefreshToken, new_id
from .services import account_record, as_utc, audit, revoke_sessions, revoke_tokens
from .tokens import Issuer, hash_token, new_refresh_token


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    account: Account
    employee: Employee | None


def _invalid_credentials() -> Unauthorized:
    # One message for an unknown user and a wrong password: the answer must not tell which.
    return Unauthorized(Text("Nama pengguna atau kata sandi salah", "Wrong username or password"), "invalid_credentials")


def _slowed(seconds: int) -> TooManyAttempts:
    return TooManyAttempts(seconds, Text(
        f"Terlalu banyak percobaan masuk yang gagal; coba lagi dalam {seconds} detik",
        f"Too many failed login attempts; try again in {seconds} seconds"))


def _load_counters(uow: UnitOfWork, keys: dict[str, str], lock: bool = False) -> dict[str, AttemptCounter | None]:
    q = select(AttemptCounter).where(AttemptCounter.key.in_(list(keys.values())))
    rows = {r.key: r for r in uow.session.scalars(q.with_for_update() if lock else q)}
    return {scope: rows.get(k) for scope, k in keys.items()}


def _counter(row: AttemptCounter | None) -> throttle.Counter | None:
    if row is None:
        return None
    return throttle.Counter(row.failures, as_utc(row.first_failure_at) if row.first_failure_at else None,
                            as_utc(row.blocked_until) if row.blocked_until else None,
                            as_utc(row.last_success_at) if row.last_success_at else None)


def _store(uow: UnitOfWork, keys: dict[str, str], subjects: dict[str, str], rows: dict[str, AttemptCounter | None],
           new: dict[str, throttle.Counter]) -> None:
    for scope, c in new.items():
        row = rows.get(scope)
        if row is None:
            try:
                with uow.session.begin_nested():
                    row = AttemptCounter(key=keys[scope], scope=scope, subject=subjects[scope])
                    uow.session.add(row)
            except IntegrityError:
                # Another request counted the first failure of this scope at the same moment.
                row = uow.session.get(AttemptCounter, keys[scope], with_for_update=True)
        row.failures, row.first_failure_at, row.blocked_until, row.last_success_at = (
            c.failures, c.first_failure_at, c.blocked_until, c.last_success_at)
    uow.session.flush()


def invalid_refresh() -> Unauthorized:
    return Unauthorized(Text("Sesi tidak valid atau telah berakhir, silakan masuk lagi",
                             "Session invalid or expired, please log in again"), "invalid_refresh_token")


def _disabled() -> Forbidden:
    return Forbidden(Text("Akun tidak aktif", "Account disabled"), "account_disabled")


def _usable(uow: UnitOfWork, account: Account) -> Employee | None:
    """The account's employee, after checking that the account may be used at all."""
    employee = uow.session.get(Employee, account.employee_id) if account.employee_id else None
    if not account.active or (employee is not None and not employee.active):
        raise _disabled()
    return employee


def _issue(uow: UnitOfWork, issuer: Issuer, signer: Signer, account: Account, employee: Employee | None,
           family_id: str, now: datetime) -> Tokens:
    token, digest = new_refresh_token()
    uow.session.add(RefreshToken(account_id=account.id, token_hash=digest, family_id=family_id, issued_at=now,
                                 expires_at=now + issuer.refresh_ttl))
    uow.session.flush()
    return Tokens(issuer.access_token(signer, account, employee, now), token, issuer.access_seconds, account, employee)


def login(uow: UnitOfWork, issuer: Issuer, username: str, password: str, now: datetime, address: str) -> Tokens:
    """Password login, slowed per username + address, username and address (throttle.py). A
    slowed attempt is refused before its password is even checked, with the same answer whether
    the username exists or not."""
    signer = issuer.signer()  # before the transaction starts (see Issuer.signer)
    name = domain.normalize_username(username)
    keys = throttle.login_scopes(name, address)
    subjects = {throttle.LOGIN_USER_ADDRESS.scope: name, throttle.LOGIN_USER.scope: name,
                throttle.LOGIN_ADDRESS.scope: address}
    seen = {scope: _counter(row) for scope, row in _load_counters(uow, keys).items()}
    wait = throttle.login_wait(seen, now)
    if wait:
        raise _slowed(wait)
    account = uow.session.scalar(select(Account).where(Account.username == name))
    # Verified even for an unknown user (against a dummy hash) so both cost the same time.
    ok = passwords.verify_password(account.password_hash if account else None, password)
    # Lock the counters only now, after the slow hash: concurrent guesses are counted one by one.
    rows = _load_counters(uow, keys, lock=True)
    current = {scope: _counter(row) for scope, row in rows.items()}
    if not ok:
        after = {scope: throttle.after_failure(throttle.RULES[scope], current[scope], now) for scope in keys}
        _store(uow, keys, subjects, rows, after)
        wait = throttle.login_wait(after, now)
        if wait and not throttle.login_wait(current, now):
            audit(uow, None, "login.slowed", "username", name[:36], address=address, seconds=wait)
        # The failure count must outlive this refused request.
        uow.commit()
        raise _slowed(wait) if wait else _invalid_credentials()
    uow.session.refresh(account, with_for_update=True)
    employee = _usable(uow, account)
    _store(uow, keys, subjects, rows, {throttle.LOGIN_USER_ADDRESS.scope: throttle.after_success(now),
                                       throttle.LOGIN_USER.scope: throttle.Counter()})
    account.last_login_at = now
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    return _issue(uow, issuer, signer, account, employee, new_id(), now)


def refresh(uow: UnitOfWork, issuer: Issuer, token: str, now: datetime) -> Tokens:
    signer = issuer.signer()  # before the transaction starts (see Issuer.signer)
    # Row lock: of two requests presenting the same token, the second sees it spent.
    row = uow.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_token(token)).with_for_update())
    if row is None or row.revoked_at is not None:
        raise invalid_refresh()
    if row.used_at is not None:
        # A spent token came back: it was copied, and we cannot tell the thief from the user.
        # End the whole session so that whichever of them holds the newest token loses it too.
        _revoke_family(uow, row.family_id, now)
        audit(uow, None, "session.reuse_detected", "account", row.account_id, family_id=row.family_id)
        uow.commit()
        raise Unauthorized(Text("Sesi ini dihentikan karena token dipakai ulang, silakan masuk lagi",
                                "This session was ended because a token was reused, please log in again"),
                           "refresh_token_reused")
    if as_utc(row.expires_at) <= now:
        raise invalid_refresh()
    account = uow.session.get(Account, row.account_id)
    assert account is not None  # foreign key
    try:
        employee = _usable(uow, account)
    except DomainError:
        _revoke_family(uow, row.family_id, now)
        uow.commit()
        raise
    row.used_at = now
    return _issue(uow, issuer, signer, account, employee, row.family_id, now)


def logout(uow: UnitOfWork, token: str, now: datetime) -> None:
    """End the session the token belongs to. An unknown token is fine: the session is over."""
    family = uow.session.scalar(select(RefreshToken.family_id).where(RefreshToken.token_hash == hash_token(token)))
    if family is not None:
        _revoke_family(uow, family, now)


def change_password(uow: UnitOfWork, account_id: str, current: str, new: str, now: datetime, address: str) -> None:
    """Replace one's own password. Every session of the account ends and its access tokens stop
    working everywhere: whoever knew the old password must log in again with the new one. Wrong
    *current* passwords slow further changes of this account (and from this address), never its
    logins (throttle.py)."""
    keys = throttle.password_scopes(account_id, address)
    subjects = {throttle.PASSWORD_ACCOUNT.scope: account_id, throttle.PASSWORD_ADDRESS.scope: address}
    wait = throttle.password_wait({s: _counter(r) for s, r in _load_counters(uow, keys).items()}, now)
    if wait:
        raise _password_slowed(wait)
    account = uow.session.get(Account, account_id)
    if account is None or not account.active:
        raise Unauthorized()
    ok = passwords.verify_password(account.password_hash, current)
    rows = _load_counters(uow, keys, lock=True)
    if not ok:
        after = {s: throttle.after_failure(throttle.RULES[s], _counter(rows[s]), now) for s in keys}
        _store(uow, keys, subjects, rows, after)
        uow.commit()
        wait = throttle.password_wait(after, now)
        if wait:
            raise _password_slowed(wait)
        raise ValidationFailed({"current_password": Text("Kata sandi saat ini salah", "Current password is wrong")})
    domain.check_new_password(new, current, account.username)
    uow.session.refresh(account, with_for_update=True)
    before = account_record(account)
    account.password_hash = passwords.hash_password(new)
    account.must_change_password = False
    _store(uow, keys, subjects, rows, {throttle.PASSWORD_ACCOUNT.scope: throttle.Counter()})
    revoke_sessions(uow, account.id, now)
    revoke_tokens(uow, account, "password_changed", now)
    audit(uow, account.id, "account.password_changed", "account", account.id, before=before, after=account_record(account))


def _password_slowed(seconds: int) -> TooManyAttempts:
    return TooManyAttempts(seconds, Text(
        f"Terlalu banyak kata sandi saat ini yang salah; coba ganti kata sandi lagi dalam {seconds} detik "
        "(masuk tetap bisa)",
        f"Too many wrong current passwords; try changing the password again in {seconds} seconds "
        "(logging in still works)"))


def _revoke_family(uow: UnitOfWork, family_id: str, now: datetime) -> None:
    uow.session.execute(update(RefreshToken)
                        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
                        .values(revoked_at=now))
