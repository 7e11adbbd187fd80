"""Access-token verification, done locally by every service.

Tokens are JWTs signed by identity with Ed25519 (``EdDSA``). The algorithm is pinned, and
``iss``, ``aud``, ``exp``, ``sub`` are required: a token signed with another algorithm, for
another audience or without an expiry is refused.

Public keys come from identity's JWKS. Every good answer is kept in the service's own database
(:class:`KeyCache`, see ``auth_store``), so a worker started while identity is down still verifies
valid tokens with the last good key set; a key set older than ``lifespan`` is fetched again (that
is how a retired key stops verifying), and a token naming an unknown key id triggers a fetch (how
key rotation reaches the other services without logging anyone out). When no key can be had at all
the answer is 503 ``service_unavailable`` with ``Retry-After``: an unreachable key source is never
a bad token, because a client that is told 401 throws its session away.

A token is also refused once its account was revoked after it was issued (deactivation, a role
taken away, a password reset or change): identity announces ``account.revoked`` with the account's
new token version, every service keeps the highest one (:class:`Revocations`), and a token whose
``ver`` claim is lower gets 401 ``token_revoked``.

A client sends the same token with every request until it expires, so a verifier remembers the
tokens it verified (``remember_seconds``, at most until the token's expiry): parsing a token twice
and checking its Ed25519 signature was a fifth of a short read's cost (issue 13). The revocation
check is not remembered: it runs on every request, and so does the check that the token's key is
still in the key set this process holds (``KeySource.has``, a dictionary lookup): a key retired
stops its remembered tokens as soon as this process learns of the retirement.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import jwt

from .errors import Forbidden, ServiceUnavailable, Text, Unauthorized

log = logging.getLogger("ekinerja.auth")

ALGORITHM = "EdDSA"

ROLES = ("pegawai", "admin_bkd", "organisasi", "bpkad", "majelis")

# An account still on its one-time password gets a token with this claim (and no roles, no
# employee): it is good for one thing, identity's POST /auth/password.
PASSWORD_CHANGE_CLAIM = "pwd_change"
# The account's token version when the token was issued; see the module docstring.
VERSION_CLAIM = "ver"

# Plain urllib with proxies disabled: an http_proxy in the environment must not capture identity.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account, the employee it belongs to (if any) and its roles."""

    account_id: str
    employee_id: str | None
    roles: frozenset[str] = field(default_factory=frozenset)
    name: str = ""
    # True for the token of an account that must replace its one-time password first.
    password_change_required: bool = False

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def require(self, *roles: str) -> None:
        if not self.has(*roles):
            raise Forbidden(Text("Peran Anda tidak mengizinkan tindakan ini", "Your role does not allow this action"))


class KeySource(Protocol):
    def key_for(self, token: str) -> Any: ...

    def has(self, kid: str) -> bool:
        """Whether ``kid`` is still a key this source verifies with (no fetch, no parsing)."""
        ...


class KeyCache(Protocol):
    """Where a service keeps the last good JWKS (its own database, see auth_store)."""

    def load(self) -> list[dict] | None: ...

    def save(self, keys: list[dict]) -> None: ...


class Revocations(Protocol):
    def min_version(self, account_id: str) -> int:
        """Tokens of ``account_id`` with a lower ``ver`` claim are void (0: none is)."""
        ...


def keys_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(retry_after=10)


def _kid(token: str) -> str | None:
    kid = jwt.get_unverified_header(token).get("kid")
    # The header is attacker-controlled: only a short string can name a key.
    return kid if isinstance(kid, str) and 0 < len(kid) <= 100 else None


class JwksKeySource:
    """Keys from identity's JWKS URL, kept in memory and in ``cache`` (the last good set).

    ``lifespan``: how long a fetched set is trusted before it is fetched again (a retired key stops
    verifying within this time); when identity cannot be reached the last good set stays in use.
    ``min_refetch``: at most one fetch per this many seconds for unknown key ids, so tokens with
    made-up kids cannot turn every request into a call to identity.
    """

    def __init__(self, url: str, cache: KeyCache | None = None, lifespan: float = 300, timeout: float = 3,
                 min_refetch: float = 10):
        self.url = url
        self.cache = cache
        self.lifespan = lifespan
        self.timeout = timeout
        self.min_refetch = min_refetch
        self._keys: dict[str, Any] = {}
        self._raw: list[dict] | None = None
        self._fetched = float("-inf")      # monotonic time of the last successful fetch
        self._attempted = float("-inf")    # ... of the last attempt, good or not
        self._last_ok = False
        self._loaded = False
        self._lock = threading.Lock()

    def key_for(self, token: str) -> Any:
        kid = _kid(token)
        if kid is None:
            raise jwt.InvalidTokenError("no usable key id")
        with self._lock:
            self._load_cached()
            now = time.monotonic()
            fresh = now - self._fetched < self.lifespan
            recently_tried = now - self._attempted < self.min_refetch
            if kid in self._keys and (fresh or recently_tried):
                # Stale but identity was just asked (and failed): the last good key serves, and
                # no request waits for another attempt before min_refetch has passed.
                return self._keys[kid]
            if kid not in self._keys and recently_tried:
                # Asked again too soon: answer from what the last attempt learnt.
                if self._last_ok:
                    raise jwt.InvalidTokenError("unknown key id")
                raise keys_unavailable()
            if self._refresh(now) or kid in self._keys:
                if kid in self._keys:
                    return self._keys[kid]
                raise jwt.InvalidTokenError("unknown key id")
            raise keys_unavailable()

    def has(self, kid: str) -> bool:
        return kid in self._keys

    def _load_cached(self) -> None:
        """Once per process: the last good set this service stored, until a fetch replaces it."""
        if self._loaded or self.cache is None:
            return
        self._loaded = True
        try:
            stored = self.cache.load()
        except Exception as exc:  # noqa: BLE001 - no cache is a cold start, not an error
            log.warning("cannot read the stored JWKS: %s", exc)
            return
        if stored:
            self._raw = stored
            self._keys = _parse(stored)

    def _refresh(self, now: float) -> bool:
        self._attempted = now
        try:
            with _http.open(self.url, timeout=self.timeout) as resp:
                raw = json.loads(resp.read())["keys"]
            keys = _parse(raw)
        except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as exc:
            self._last_ok = False
            log.warning("JWKS %s unavailable (%s); %s", self.url, exc,
                        "using the last good keys" if self._keys else "no keys to verify with")
            return False
        self._keys, self._fetched, self._last_ok = keys, now, True
        if raw != self._raw and self.cache is not None:
            try:
                self.cache.save(raw)
            except Exception as exc:  # noqa: BLE001 - verifying goes on; the next fetch tries again
                log.warning("cannot store the JWKS: %s", exc)
        self._raw = raw
        return True


def _parse(raw: list[dict]) -> dict[str, Any]:
    """kid -> public key, for the Ed25519 signing keys only."""
    keys = {}
    for jwk in raw:
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("alg", ALGORITHM) != ALGORITHM:
            continue
        if isinstance(jwk.get("kid"), str):
            keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm=ALGORITHM).key
    return keys


class CallableKeySource:
    """Keys looked up by kid through a function (identity verifies its own tokens this way, and
    tests use it with a key they generate)."""

    def __init__(self, lookup: Callable[[str], Any]):
        self.lookup = lookup

    def has(self, kid: str) -> bool:
        return self.lookup(kid) is not None

    def key_for(self, token: str) -> Any:
        kid = _kid(token)
        key = self.lookup(kid) if kid else None
        if key is None:
            raise jwt.InvalidTokenError("unknown key id")
        return key


def _invalid() -> Unauthorized:
    return Unauthorized(Text("Token akses tidak valid", "Invalid access token"), "invalid_token")


# Seconds of clock difference allowed between identity and a service for ``exp`` and ``iat``.
LEEWAY = 10


class TokenVerifier:
    def __init__(self, keys: KeySource, issuer: str, audience: str, revocations: Revocations | None = None,
                 remember_seconds: float = 30.0, remember_max: int = 4096):
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.revocations = revocations
        self.remember_seconds = remember_seconds
        self.remember_max = remember_max
        # token -> (its caller, its version claim, its key id, monotonic time it is remembered until)
        self._verified: OrderedDict[str, tuple[Principal, int, str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        with self._lock:
            known = self._verified.get(token)
        if known is not None and time.monotonic() < known[3] and self.keys.has(known[2]):
            found, version = known[0], known[1]
        else:
            found, version, kid, until = self._verify_signed(token)
            with self._lock:
                self._verified[token] = (found, version, kid, until)
                while len(self._verified) > self.remember_max:
                    self._verified.popitem(last=False)  # the oldest
        if self.revocations is not None and version < self.revocations.min_version(found.account_id):
            raise Unauthorized(Text("Sesi Anda telah dicabut (akun dinonaktifkan, peran atau kata sandi diubah); "
                                    "silakan masuk lagi",
                                    "Your session was revoked (account disabled, roles or password changed); "
                                    "please log in again"), "token_revoked")
        return found

    def _verify_signed(self, token: str) -> tuple[Principal, int, str, float]:
        """The signature and claims checked: the caller, the token's version, its key id and
        until when (a monotonic time) this answer may be remembered."""
        try:
            key = self.keys.key_for(token)
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], audience=self.audience, issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]}, leeway=LEEWAY,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized(Text("Sesi Anda telah berakhir, silakan masuk lagi", "Your session expired, please log in again"), "token_expired")
        except (jwt.PyJWKError, jwt.InvalidTokenError) as exc:
            raise _invalid() from exc
        if claims.get("typ") != "access" or not isinstance(claims["sub"], str):
            raise _invalid()
        version = claims.get(VERSION_CLAIM, 0)
        if not isinstance(version, int):
            raise _invalid()
        found = Principal(
            account_id=claims["sub"],
            employee_id=claims.get("emp"),
            roles=frozenset(r for r in claims.get("roles", []) if r in ROLES),
            name=claims.get("name", ""),
            password_change_required=bool(claims.get(PASSWORD_CHANGE_CLAIM)),
        )
        # Never past the expiry jwt.decode allows (exp + leeway), converted to the monotonic clock.
        valid_for = float(claims["exp"]) + LEEWAY - time.time()
        kid = _kid(token) or ""
        return found, version, kid, time.monotonic() + max(0.0, min(self.remember_seconds, valid_for))
