"""Login sessions: password login, refresh-token rotation with reuse detection, logout and
password change. A session is a family of refresh tokens descended from one login."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, update

from ekinerja_common.errors import DomainError, Forbidden, Text, Unauthorized, ValidationFailed
from ekinerja_common.uow import UnitOfWork

from . import domain, passwords
from .keys import Signer
from .orm import Account, Employee, RefreshToken, new_id
from .services import audit, revoke_sessions
from .tokens import Issuer, hash_token, new_refresh_token


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    account: Account
    employee: Employee | None


def as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones.
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _refuse_if_locked(account: Account, now: datetime) -> None:
    until = as_utc(account.locked_until) if account.locked_until else None
    if until is not None and domain.is_locked(until, now):
        raise _locked(until, now)


def _invalid_credentials() -> Unauthorized:
    # One message for an unknown user and a wrong password: the answer must not tell which.
    return Unauthorized(Text("Nama pengguna atau kata sandi salah", "Wrong username or password"), "invalid_credentials")


def _locked(until: datetime, now: datetime) -> DomainError:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return DomainError("account_locked", Text(
        f"Akun dikunci sementara karena terlalu banyak percobaan gagal; coba lagi dalam {minutes} menit",
        f"Account temporarily locked after too many failed attempts; try again in {minutes} minutes"), status=423)


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


def login(uow: UnitOfWork, issuer: Issuer, username: str, password: str, now: datetime) -> Tokens:
    signer = issuer.signer()  # before the transaction starts (see Issuer.signer)
    account = uow.session.scalar(select(Account).where(Account.username == domain.normalize_username(username)))
    if account is not None:
        _refuse_if_locked(account, now)
    # Verified even for an unknown user (against a dummy hash) so both cost the same time.
    ok = passwords.verify_password(account.password_hash if account else None, password)
    if account is None:
        raise _invalid_credentials()
    # Lock the row only now, after the slow hash: concurrent guesses are counted one by one.
    uow.session.refresh(account, with_for_update=True)
    _refuse_if_locked(account, now)
    if not ok:
        account.failed_logins, account.locked_until = domain.after_failed_login(account.failed_logins, now)
        if account.locked_until is not None:
            audit(uow, None, "account.locked", "account", account.id, until=account.locked_until.isoformat())
        # The failure count must outlive this refused request.
        uow.commit()
        raise _locked(account.locked_until, now) if account.locked_until else _invalid_credentials()
    employee = _usable(uow, account)
    account.failed_logins = 0
    account.locked_until = None
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


def change_password(uow: UnitOfWork, account_id: str, current: str, new: str, now: datetime) -> None:
    """Replace one's own password. Every session of the account ends: whoever knew the old
    password must log in again with the new one."""
    account = uow.session.get(Account, account_id, with_for_update=True)
    if account is None or not account.active:
        raise Unauthorized()
    if not passwords.verify_password(account.password_hash, current):
        raise ValidationFailed({"current_password": Text("Kata sandi saat ini salah", "Current password is wrong")})
    domain.check_new_password(new, current, account.username)
    account.password_hash = passwords.hash_password(new)
    account.must_change_password = False
    revoke_sessions(uow, account.id, now)
    audit(uow, account.id, "account.password_changed", "account", account.id)


def _revoke_family(uow: UnitOfWork, family_id: str, now: datetime) -> None:
    uow.session.execute(update(RefreshToken)
                        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
                        .values(revoked_at=now))
