"""Operator commands beyond the common ones: ``create-admin USERNAME``, ``grant-role USERNAME
ROLE``, ``rotate-keys`` and ``retire-key KID`` (``python -m identity ...``)."""
from __future__ import annotations

import getpass
import os
import sys

from sqlalchemy import select

from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import DomainError
from ekinerja_common.runtime import Runtime

from . import domain, services
from .keys import KeyStore
from .orm import Account

PASSWORD_VAR = "EKINERJA_ADMIN_PASSWORD"


def _fail(message: str) -> None:
    print(message, file=sys.stderr)
    raise SystemExit(2)


def _error(exc: DomainError) -> str:
    details = "; ".join(f"{name}: {t.en}" for name, t in exc.fields.items())
    return f"{exc.text.en}{' (' + details + ')' if details else ''}"


def _admin_password() -> str:
    password = os.environ.get(PASSWORD_VAR)
    if password:
        return password
    if not sys.stdin.isatty():
        _fail(f"no terminal to ask for the password: set {PASSWORD_VAR}")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != password:
        _fail("passwords differ; nothing created")
    return password


def create_admin(runtime: Runtime, args: list[str]) -> None:
    """Create an admin_bkd account without an employee record. Idempotent: an existing account
    of that name is left exactly as it is (its password is not reset)."""
    if len(args) != 1:
        _fail("usage: python -m identity create-admin USERNAME")
    username = domain.normalize_username(args[0])
    with runtime.session_factory() as s:
        if s.scalar(select(Account.id).where(Account.username == username)):
            print(f"account {username!r} already exists; nothing changed")
            return
    password = _admin_password()
    try:
        with runtime.uow() as uow:
            # The operator chose this password themself, so no forced change at first login.
            services.create_account(uow, None, username=username, password=password, employee_id=None,
                                    roles=["admin_bkd"], must_change_password=False)
            uow.commit()
    except DomainError as exc:
        if exc.code == "duplicate_username":  # created by a concurrent run meanwhile
            print(f"account {username!r} already exists; nothing changed")
            return
        _fail(f"not created: {_error(exc)}")
    print(f"admin account {username!r} created")


def grant_role(runtime: Runtime, args: list[str]) -> None:
    """Give an account a role at once, without the second person the API asks for: whoever runs
    commands on the server holds the database and the keys anyway (this is how a new regency's
    first BPKAD and Bagian Organisasi accounts get their roles). Audited with no actor."""
    if len(args) != 2:
        _fail("usage: python -m identity grant-role USERNAME ROLE")
    try:
        with runtime.uow() as uow:
            services.grant_by_operator(uow, args[0], args[1], utcnow())
            uow.commit()
    except DomainError as exc:
        _fail(f"not granted: {_error(exc)}")
    print(f"role {args[1]!r} granted to {domain.normalize_username(args[0])!r}")


def rotate_keys(runtime: Runtime, args: list[str]) -> None:
    """Add a signing key that signs from now on; older keys keep verifying until retired."""
    if args:
        _fail("usage: python -m identity rotate-keys")
    try:
        kid = KeyStore(runtime).rotate()
    except DomainError as exc:
        _fail(_error(exc))
    print(f"new signing key {kid}; older keys stay in the JWKS until retired")


def retire_key(runtime: Runtime, args: list[str]) -> None:
    """Remove an older key from the JWKS: tokens it signed stop verifying (within a minute in
    identity, after their JWKS cache time elsewhere)."""
    if len(args) != 1:
        _fail("usage: python -m identity retire-key KID")
    try:
        KeyStore(runtime).retire(args[0])
    except DomainError as exc:
        _fail(_error(exc))
    print(f"key {args[0]} retired")


def extra_commands(runtime: Runtime) -> dict:
    return {
        "create-admin": lambda args: create_admin(runtime, args),
        "grant-role": lambda args: grant_role(runtime, args),
        "rotate-keys": lambda args: rotate_keys(runtime, args),
        "retire-key": lambda args: retire_key(runtime, args),
    }
