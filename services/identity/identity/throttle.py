"""Guessing protection for logins and password changes (plain rules, no framework; README
"Login and password-change limits").

Failed attempts are counted per *scope*; a scope that has used up its free failures makes the next
attempt wait, and the wait doubles with each further failure up to a ceiling. Nothing is ever
locked for good, and the answer is the same for a username that exists and one that does not
(scopes are keyed by the name typed, not by the account), so the limits reveal no NIP.

Logins, with rates a 2,000-person office behind one NAT address lives with at 07:30:

- **username + address**: 5 free failures, then 30 s, 60 s … up to 15 min. This is what slows one
  person guessing one account.
- **username, from anywhere**: 20 free failures, then 30 s … up to 5 min: a guesser spread over
  many addresses. It never applies from an address the account logged in from successfully in the
  last 30 days, so a stranger elsewhere cannot keep the person out.
- **address, any username**: 200 free failures per 15 minutes, then 10 s … up to 5 min: one
  address trying many names. Successful logins do not count, so an office full of people typing
  their right password is never slowed.

Password changes (``POST /auth/password``, which needs the account's own token) count wrong
*current* passwords separately — 5 free per account, 20 per address — and never touch logins: a
stolen token can guess slowly at best, and the person can still log in.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Rule:
    scope: str
    free_failures: int
    first_wait: timedelta
    max_wait: timedelta
    # Failures older than this are forgotten: the count starts again.
    window: timedelta


LOGIN_USER_ADDRESS = Rule("login.user_address", 5, timedelta(seconds=30), timedelta(minutes=15), timedelta(hours=1))
LOGIN_USER = Rule("login.user", 20, timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=1))
LOGIN_ADDRESS = Rule("login.address", 200, timedelta(seconds=10), timedelta(minutes=5), timedelta(minutes=15))
PASSWORD_ACCOUNT = Rule("password.account", 5, timedelta(seconds=60), timedelta(minutes=15), timedelta(hours=1))
PASSWORD_ADDRESS = Rule("password.address", 20, timedelta(seconds=60), timedelta(minutes=15), timedelta(hours=1))
RULES = {r.scope: r for r in (LOGIN_USER_ADDRESS, LOGIN_USER, LOGIN_ADDRESS, PASSWORD_ACCOUNT, PASSWORD_ADDRESS)}

# An address the account logged in from this recently is "known": the username-wide limit, which a
# stranger could trip, does not apply there.
KNOWN_ADDRESS = timedelta(days=30)


@dataclass(frozen=True)
class Counter:
    failures: int = 0
    first_failure_at: datetime | None = None
    blocked_until: datetime | None = None
    last_success_at: datetime | None = None


def key(scope: str, subject: str, address: str | None = None) -> str:
    """The stored key of a scope's counter: a digest, so no table column holds the raw pair."""
    return hashlib.sha256(f"{scope}\x00{subject}\x00{address or ''}".encode()).hexdigest()


def wait_seconds(counter: Counter | None, now: datetime) -> int:
    """Seconds until the next attempt is allowed (0: now)."""
    if counter is None or counter.blocked_until is None or counter.blocked_until <= now:
        return 0
    return max(1, math.ceil((counter.blocked_until - now).total_seconds()))


def after_failure(rule: Rule, counter: Counter | None, now: datetime) -> Counter:
    counter = counter or Counter()
    if counter.first_failure_at is None or now - counter.first_failure_at > rule.window:
        # The old failures are forgotten (a wait still running stays).
        counter = Counter(blocked_until=counter.blocked_until, last_success_at=counter.last_success_at)
    failures = counter.failures + 1
    blocked = counter.blocked_until
    beyond = failures - rule.free_failures
    if beyond > 0:
        wait = min(rule.max_wait, rule.first_wait * 2 ** min(beyond - 1, 20))
        blocked = max(blocked, now + wait) if blocked else now + wait
    return Counter(failures, counter.first_failure_at or now, blocked, counter.last_success_at)


def after_success(now: datetime) -> Counter:
    """The person got in: their failures are forgotten and the address becomes known."""
    return Counter(last_success_at=now)


def is_known_address(pair: Counter | None, now: datetime) -> bool:
    return pair is not None and pair.last_success_at is not None and now - pair.last_success_at <= KNOWN_ADDRESS


def login_scopes(username: str, address: str) -> dict[str, str]:
    """scope -> counter key of one login attempt."""
    return {LOGIN_USER_ADDRESS.scope: key(LOGIN_USER_ADDRESS.scope, username, address),
            LOGIN_USER.scope: key(LOGIN_USER.scope, username),
            LOGIN_ADDRESS.scope: key(LOGIN_ADDRESS.scope, "", address)}


def password_scopes(account_id: str, address: str) -> dict[str, str]:
    return {PASSWORD_ACCOUNT.scope: key(PASSWORD_ACCOUNT.scope, account_id),
            PASSWORD_ADDRESS.scope: key(PASSWORD_ADDRESS.scope, "", address)}


def login_wait(counters: dict[str, Counter | None], now: datetime) -> int:
    """The wait before this login attempt may be checked at all (0: go ahead)."""
    scopes = [LOGIN_USER_ADDRESS.scope, LOGIN_ADDRESS.scope]
    if not is_known_address(counters.get(LOGIN_USER_ADDRESS.scope), now):
        scopes.append(LOGIN_USER.scope)
    return max(wait_seconds(counters.get(s), now) for s in scopes)


def password_wait(counters: dict[str, Counter | None], now: datetime) -> int:
    return max(wait_seconds(c, now) for c in counters.values()) if counters else 0
