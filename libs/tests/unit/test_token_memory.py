"""A verifier remembers the tokens it verified (issue 13: the signature check was a fifth of a
short read), but never past a token's expiry, and the revocation check still runs every time."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ekinerja_common.auth import ALGORITHM, CallableKeySource, TokenVerifier
from ekinerja_common.errors import Unauthorized

KEY = Ed25519PrivateKey.generate()
KID = uuid.uuid4().hex


class CountingKeys(CallableKeySource):
    def __init__(self):
        self.calls = 0
        super().__init__(lambda kid: KEY.public_key() if kid == KID else None)

    def key_for(self, token):
        self.calls += 1
        return super().key_for(token)


class Revoked:
    def __init__(self):
        self.versions: dict[str, int] = {}
        self.calls = 0

    def min_version(self, account_id: str) -> int:
        self.calls += 1
        return self.versions.get(account_id, 0)


def token(exp: datetime, **claims) -> str:
    body = {"iss": "ekinerja-identity", "aud": "ekinerja", "sub": "acc-1", "emp": "emp-1", "roles": ["pegawai"],
            "typ": "access", "iat": datetime.now(timezone.utc) - timedelta(minutes=1), "exp": exp, **claims}
    return jwt.encode(body, KEY, algorithm=ALGORITHM, headers={"kid": KID})


def test_a_token_is_verified_once_and_its_revocation_checked_every_time():
    keys, revoked = CountingKeys(), Revoked()
    v = TokenVerifier(keys, "ekinerja-identity", "ekinerja", revoked)
    t = token(datetime.now(timezone.utc) + timedelta(minutes=5))
    for _ in range(3):
        assert v.verify(t).employee_id == "emp-1"
    assert keys.calls == 1 and revoked.calls == 3
    revoked.versions["acc-1"] = 1
    with pytest.raises(Unauthorized) as refused:
        v.verify(t)
    assert refused.value.code == "token_revoked"


def test_a_remembered_token_is_refused_once_it_expires():
    keys = CountingKeys()
    v = TokenVerifier(keys, "ekinerja-identity", "ekinerja")
    # Expired 9 s ago: the 10 s leeway still accepts it, for one more second.
    t = token(datetime.now(timezone.utc) - timedelta(seconds=9))
    assert v.verify(t).account_id == "acc-1"
    time.sleep(1.5)
    with pytest.raises(Unauthorized) as refused:
        v.verify(t)
    assert refused.value.code == "token_expired" and keys.calls == 2


def test_a_bad_token_is_never_remembered():
    keys = CountingKeys()
    v = TokenVerifier(keys, "ekinerja-identity", "ekinerja")
    t = token(datetime.now(timezone.utc) + timedelta(minutes=5))
    forged = t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(Unauthorized):
            v.verify(forged)
    assert keys.calls == 2


def test_the_memory_is_bounded():
    v = TokenVerifier(CountingKeys(), "ekinerja-identity", "ekinerja", remember_max=5)
    exp = datetime.now(timezone.utc) + timedelta(minutes=5)
    for n in range(20):
        v.verify(token(exp, jti=str(n)))
    assert len(v._verified) == 5


def test_a_remembered_token_stops_as_soon_as_its_key_is_retired():
    live = {KID: KEY.public_key()}
    v = TokenVerifier(CallableKeySource(live.get), "ekinerja-identity", "ekinerja")
    t = token(datetime.now(timezone.utc) + timedelta(minutes=5))
    assert v.verify(t).account_id == "acc-1"
    del live[KID]  # identity retired the key
    with pytest.raises(Unauthorized) as refused:
        v.verify(t)
    assert refused.value.code == "invalid_token"
