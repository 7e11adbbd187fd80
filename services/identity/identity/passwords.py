"""Password hashing with argon2id (argon2-cffi's defaults: the RFC 9106 low-memory profile)."""
from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    # Verified against when the username is unknown, so that a wrong username costs as much time
    # as a wrong password and response times do not reveal which accounts exist.
    return _hasher.hash(secrets.token_urlsafe(16))


# No look-alike characters (0/O, 1/l/I): the one-time password is read off a screen or paper.
_OTP_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
OTP_LENGTH = 14  # ~80 bits from secrets; it lives only until the first login replaces it


def one_time_password() -> str:
    """A random password for an account an administrator creates or resets; the user must
    replace it at first login."""
    return "".join(secrets.choice(_OTP_ALPHABET) for _ in range(OTP_LENGTH))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; a missing hash (unknown user) is checked against a dummy and
    is always False."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: rehash at next login."""
    return _hasher.check_needs_rehash(password_hash)
