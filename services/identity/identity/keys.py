"""Token-signing keys: Ed25519, kept in the identity database, published as a JWKS.

The live key of the highest generation signs. ``rotate`` adds a generation; older keys stay in the
JWKS, and keep verifying the tokens they signed, until retired. Private keys are encrypted at rest
with the passphrase of ``IDENTITY_KEY_PASSPHRASE`` or of the file ``IDENTITY_KEY_PASSPHRASE_FILE``
names (a compose/Kubernetes secret; the local runner generates one into its run directory): never
in the repository or the database. A key stored in the clear before a passphrase was configured is
encrypted the first time it is loaded with one.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ekinerja_common.auth import ALGORITHM
from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import Conflict, NotFound, Text
from ekinerja_common.runtime import Runtime

from .orm import SigningKey, new_id

PASSPHRASE_VAR = "IDENTITY_KEY_PASSPHRASE"
PASSPHRASE_FILE_VAR = "IDENTITY_KEY_PASSPHRASE_FILE"
# How long a verifying process trusts its cached public key before looking again, so that a key
# retired by another process stops verifying within this time.
PUBLIC_KEY_CACHE_SECONDS = 60


@dataclass(frozen=True)
class Signer:
    kid: str
    key: Ed25519PrivateKey


class KeyStore:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.passphrase = passphrase_from(runtime.settings.extra)
        self._private: dict[str, Ed25519PrivateKey] = {}
        self._public: dict[str, tuple[float, Ed25519PublicKey]] = {}

    # -- signing ----------------------------------------------------------------------------------
    def signer(self) -> Signer:
        row = self._newest()
        if row is None or row.retired_at is not None:
            row = self._create(row.generation + 1 if row else 1)
        key = self._private.get(row.kid)
        if key is None:
            key = self._private[row.kid] = self._load_private(row)
        return Signer(row.kid, key)

    def rotate(self) -> str:
        """Add a key that signs from now on; returns its kid."""
        newest = self._newest()
        row = self._add(newest.generation + 1 if newest else 1)
        if row is None:
            raise Conflict("rotation_conflict", Text("Rotasi kunci lain sedang berjalan, ulangi",
                                                     "Another key rotation happened at the same time; try again"))
        return row.kid

    def retire(self, kid: str) -> None:
        """Drop a key from the JWKS: tokens it signed stop verifying. The signing key cannot be
        retired (rotate first), so there is always a key to sign with."""
        with self.runtime.session_factory() as s, s.begin():
            row = s.get(SigningKey, kid, with_for_update=True)
            if row is None or row.retired_at is not None:
                raise NotFound(Text("Kunci tidak ditemukan atau sudah pensiun", "Key not found or already retired"))
            newest = s.scalar(select(func.max(SigningKey.generation)).where(SigningKey.retired_at.is_(None)))
            if row.generation == newest:
                raise Conflict("active_key", Text("Kunci penanda tangan aktif tidak dapat dipensiunkan; rotasi dulu",
                                                  "The active signing key cannot be retired; rotate first"))
            row.retired_at = utcnow()
        self._public.pop(kid, None)

    # -- verifying --------------------------------------------------------------------------------
    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        """The live public key named ``kid``, or None (unknown or retired)."""
        if not isinstance(kid, str) or len(kid) > 36:  # the header is attacker-controlled
            return None
        cached = self._public.get(kid)
        if cached and time.monotonic() - cached[0] < PUBLIC_KEY_CACHE_SECONDS:
            return cached[1]
        with self.runtime.session_factory() as s:
            row = s.get(SigningKey, kid)
        if row is None or row.retired_at is not None:
            # Misses are not cached: a flood of made-up kids must not grow memory.
            self._public.pop(kid, None)
            return None
        key = OKPAlgorithm.from_jwk(row.public_jwk)
        if not isinstance(key, Ed25519PublicKey):
            return None
        self._public[kid] = (time.monotonic(), key)
        return key

    def jwks(self) -> dict:
        rows = self._live()
        if not rows:
            self.signer()  # first need: creates the first key
            rows = self._live()
        return {"keys": [json.loads(r.public_jwk) for r in rows]}

    # -- storage ----------------------------------------------------------------------------------
    def _live(self) -> list[SigningKey]:
        with self.runtime.session_factory() as s:
            return list(s.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))
                                  .order_by(SigningKey.generation.desc())))

    def _newest(self) -> SigningKey | None:
        """The key of the highest generation. It is always the live one: the newest key cannot be
        retired, so one statement answers both "who signs" and "which generation comes next"."""
        with self.runtime.session_factory() as s:
            return s.scalars(select(SigningKey).order_by(SigningKey.generation.desc()).limit(1)).first()

    def _create(self, generation: int) -> SigningKey:
        """First need of a key: create one. When several workers race here, the unique generation
        lets exactly one insert win and the others use the winner's key."""
        row = self._add(generation)
        if row is None:
            row = self._newest()
        if row is None or row.retired_at is not None:  # pragma: no cover - retired within microseconds
            raise RuntimeError("no live signing key after concurrent creation")
        return row

    def _add(self, generation: int) -> SigningKey | None:
        key = Ed25519PrivateKey.generate()
        kid = new_id()
        jwk = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
        jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
        row = SigningKey(kid=kid, generation=generation, private_pem=self._pem(key), public_jwk=json.dumps(jwk),
                         created_at=utcnow())
        try:
            with self.runtime.session_factory() as s, s.begin():
                s.add(row)
        except IntegrityError:
            return None
        self._private[kid] = key
        return row

    def _load_private(self, row: SigningKey) -> Ed25519PrivateKey:
        pem = row.private_pem.encode()
        encrypted = _is_encrypted(row.private_pem)
        if encrypted and not self.passphrase:
            raise RuntimeError(f"signing key {row.kid} is encrypted: set {PASSPHRASE_VAR}")
        # A key stored before the passphrase was configured is plain; it still loads, and is
        # encrypted now so that the database no longer holds it in the clear.
        try:
            key = serialization.load_pem_private_key(pem, password=self.passphrase if encrypted else None)
        except ValueError:
            raise RuntimeError(f"signing key {row.kid} does not open with the configured {PASSPHRASE_VAR} "
                               "(a restore without the old passphrase: run rotate-keys)") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise RuntimeError(f"signing key {row.kid} is not Ed25519")
        if self.passphrase and not encrypted:
            with self.runtime.session_factory() as s, s.begin():
                stored = s.get(SigningKey, row.kid, with_for_update=True)
                if stored is not None and not _is_encrypted(stored.private_pem):
                    stored.private_pem = self._pem(key)
        return key

    def _pem(self, key: Ed25519PrivateKey) -> str:
        encryption = (serialization.BestAvailableEncryption(self.passphrase) if self.passphrase
                      else serialization.NoEncryption())
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def _is_encrypted(pem: str) -> bool:
    return "ENCRYPTED" in pem.split("\n", 1)[0]


def passphrase_from(settings_extra: dict[str, str]) -> bytes | None:
    """The key passphrase: the variable itself, or the first line of the file it names."""
    value = settings_extra.get(PASSPHRASE_VAR)
    path = settings_extra.get(PASSPHRASE_FILE_VAR)
    if not value and path:
        with open(path, encoding="utf-8") as fh:
            value = fh.readline().strip()
        if not value:
            raise RuntimeError(f"{PASSPHRASE_FILE_VAR} names an empty file: {path}")
    return value.encode() if value else None
