"""Access-token verification, done locally by every service.

Tokens are JWTs signed by identity with Ed25519 (``EdDSA``). The algorithm is pinned, and
``iss``, ``aud``, ``exp``, ``sub`` are required: a token signed with another algorithm, for
another audience or without an expiry is refused. Public keys come from identity's JWKS
(cached; refetched when a token names an unknown key id, which is how key rotation reaches
the other services without logging anyone out).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import jwt

from .errors import Forbidden, Text, Unauthorized

ALGORITHM = "EdDSA"

ROLES = ("pegawai", "admin_bkd", "organisasi", "bpkad", "majelis")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account, the employee it belongs to (if any) and its roles."""

    account_id: str
    employee_id: str | None
    roles: frozenset[str] = field(default_factory=frozenset)
    name: str = ""

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def require(self, *roles: str) -> None:
        if not self.has(*roles):
            raise Forbidden(Text("Peran Anda tidak mengizinkan tindakan ini", "Your role does not allow this action"))


class KeySource(Protocol):
    def key_for(self, token: str) -> Any: ...


class JwksKeySource:
    """Keys from identity's JWKS URL, cached by PyJWKClient."""

    def __init__(self, url: str):
        self.client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)

    def key_for(self, token: str) -> Any:
        return self.client.get_signing_key_from_jwt(token).key


class CallableKeySource:
    """Keys looked up by kid through a function (identity verifies its own tokens this way, and
    tests use it with a key they generate)."""

    def __init__(self, lookup: Callable[[str], Any]):
        self.lookup = lookup

    def key_for(self, token: str) -> Any:
        kid = jwt.get_unverified_header(token).get("kid")
        key = self.lookup(kid) if kid else None
        if key is None:
            raise jwt.InvalidTokenError("unknown key id")
        return key


class TokenVerifier:
    def __init__(self, keys: KeySource, issuer: str, audience: str):
        self.keys = keys
        self.issuer = issuer
        self.audience = audience

    def verify(self, token: str) -> Principal:
        try:
            key = self.keys.key_for(token)
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], audience=self.audience, issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]}, leeway=10,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized(Text("Sesi Anda telah berakhir, silakan masuk lagi", "Your session expired, please log in again"), "token_expired")
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise Unauthorized(Text("Token akses tidak valid", "Invalid access token"), "invalid_token") from exc
        if claims.get("typ") != "access":
            raise Unauthorized(Text("Token akses tidak valid", "Invalid access token"), "invalid_token")
        return Principal(
            account_id=claims["sub"],
            employee_id=claims.get("emp"),
            roles=frozenset(r for r in claims.get("roles", []) if r in ROLES),
            name=claims.get("name", ""),
        )
