"""What identity hands out at login: a short-lived signed access token (JWT, EdDSA) and an
opaque refresh token that only its SHA-256 represents in the database."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from ekinerja_common.auth import ALGORITHM, PASSWORD_CHANGE_CLAIM, VERSION_CLAIM
from ekinerja_common.config import Settings

from .keys import KeyStore, Signer
from .orm import Account, Employee

ACCESS_TTL = timedelta(minutes=15)
DEFAULT_REFRESH_TTL_HOURS = 12  # a working day plus overtime; IDENTITY_REFRESH_TTL_HOURS overrides


def new_refresh_token() -> tuple[str, str]:
    """(token for the client, digest to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    # A plain digest suffices: the token is 256 random bits, nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Issuer:
    keys: KeyStore
    issuer: str
    audience: str
    refresh_ttl: timedelta

    @classmethod
    def from_settings(cls, keys: KeyStore, settings: Settings) -> "Issuer":
        hours = int(settings.extra.get("IDENTITY_REFRESH_TTL_HOURS", DEFAULT_REFRESH_TTL_HOURS))
        return cls(keys, settings.jwt_issuer, settings.jwt_audience, timedelta(hours=hours))

    @property
    def access_seconds(self) -> int:
        return int(ACCESS_TTL.total_seconds())

    def signer(self) -> Signer:
        """The key to sign with. Fetch it before opening the transaction that will use it: on
        SQLite every transaction holds the write lock, and the key store reads (or creates the
        first key) on a connection of its own that would wait for that lock."""
        return self.keys.signer()

    def access_token(self, signer: Signer, account: Account, employee: Employee | None, now: datetime) -> str:
        claims = {
            "iss": self.issuer, "aud": self.audience, "sub": account.id,
            "emp": employee.id if employee else None,
            "name": employee.name if employee else account.username,
            "roles": account.roles, "typ": "access",
            # Tokens of an older version are refused everywhere (account.revoked).
            VERSION_CLAIM: account.token_version or 0,
            "iat": now, "exp": now + ACCESS_TTL,
        }
        if account.must_change_password:
            # The one-time password must be replaced first. Other services know nothing of this
            # flag and verify tokens on their own, so the token itself says so: the common web base
            # refuses it everywhere but at POST /auth/password (403 password_change_required), and
            # it carries no roles and no employee in case anything checked it otherwise.
            claims.update({"roles": [], "emp": None, PASSWORD_CHANGE_CLAIM: True})
        return jwt.encode(claims, signer.key, algorithm=ALGORITHM, headers={"kid": signer.kid})
