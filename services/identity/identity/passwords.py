"""Password hashing with argon2id at OWASP's recommended parameters, chosen by measurement.

OWASP's Password Storage Cheat Sheet lists equivalent argon2id settings (m=47 MiB t=1, m=19 MiB
t=2, m=12 MiB t=3, m=9 MiB t=4, m=7 MiB t=5, all p=1). Measured on the 2-core machine of issue 13
(``bench/surge.py`` prints the bare verify rate beside the login rate), m=12 MiB, t=3, p=1 verifies
as fast as any of them and needs the least memory but one: a worker thread busy with a login holds
12 MiB instead of the 64 MiB of argon2-cffi's defaults (t=3, m=64 MiB, p=4, RFC 9106's
low-memory profile), which is what made identity's workers the largest of the stack and logins
cost ~160 ms of CPU each. Hashes made with other parameters keep verifying; a successful login
rehashes them (``needs_rehash``, sessions.login).

At most ``ARGON2_CONCURRENCY`` hashes run at once in a worker process (default 2). A burst of
logins (the 07:30 apel) then queues instead of running every request thread's 12 MiB hash at
once: a worker's other threads stay free for the requests that need no hash, and a worker holds
at most 24 MiB of argon2 memory. Measured with bench/surge.py on 2 cores and 2 workers × 4
threads (README "Month-end surge"): 1 at a time left a core idle whenever the gateway's
connections sent more logins to one worker than to the other (24 logins/s), 2 gave 38/s, no
bound 37/s with the identity worker 16 MiB larger. The glibc
allocator is told to give such blocks back to the system when they are freed (``_return_big_blocks``).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import secrets
import threading

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

TIME_COST = 3
MEMORY_KIB = 12 * 1024
PARALLELISM = 1
_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, type=Type.ID)
_at_once = threading.BoundedSemaphore(max(1, int(os.environ.get("ARGON2_CONCURRENCY", "2"))))


def _return_big_blocks() -> None:
    """Blocks of 1 MiB and more (argon2's 12 MiB) are mapped and unmapped per allocation. glibc's
    default raises that threshold to the largest block freed so far, after which every thread
    keeps its last 12 MiB resident in its own arena: the worker's memory grew by 12 MiB per
    thread that ever hashed. Only on glibc; elsewhere nothing changes."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):
        return
    M_MMAP_THRESHOLD = -3
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024)


_return_big_blocks()


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
    with _at_once:
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; a missing hash (unknown user) is checked against a dummy and
    is always False."""
    stored = password_hash or _dummy_hash()
    try:
        with _at_once:
            return _hasher.verify(stored, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's: rehash at next login."""
    return _hasher.check_needs_rehash(password_hash)


def parameters(password_hash: str) -> tuple[str, int, int, int]:
    """(type, time cost, memory KiB, parallelism) a stored hash was made with."""
    p = extract_parameters(password_hash)
    return (p.type.name.lower(), p.time_cost, p.memory_cost, p.parallelism)
