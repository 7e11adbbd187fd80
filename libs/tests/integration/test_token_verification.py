"""Token checks that need no identity (issue 9 items 9 and 22): the last good JWKS kept in the
service's database, 503 (never 401) when no key can be had, revocations consumed from
account.revoked. A local stand-in serves the JWKS over real HTTP, as identity does; the cache
and revocation tables live in a real PostgreSQL database."""
from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import MetaData, create_engine

from ekinerja_common.auth import ALGORITHM, JwksKeySource, TokenVerifier
from ekinerja_common.auth_store import DatabaseKeyCache, DatabaseRevocations, add_auth_tables, on_account_revoked
from ekinerja_common.envelope import Envelope
from ekinerja_common.errors import ServiceUnavailable, Unauthorized
from ekinerja_common.testing import fresh_database
from ekinerja_common.web import create_base_app, principal


class JwksServer:
    """What identity's /.well-known/jwks.json answers, on a port of its own; stop() is identity down."""

    def __init__(self, keys: list[dict]):
        self.keys = keys
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                outer.hits += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def signing_key():
    key, kid = Ed25519PrivateKey.generate(), str(uuid.uuid4())
    jwk = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    return key, kid, jwk


def token(key, kid, sub="acc-1", ver=0, **extra):
    now = datetime.now(timezone.utc)
    claims = {"iss": "ekinerja-identity", "aud": "ekinerja", "sub": sub, "emp": None, "roles": ["pegawai"],
              "typ": "access", "ver": ver, "iat": now, "exp": now + timedelta(minutes=5), **extra}
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})


@pytest.fixture
def engine():
    with fresh_database("libauth") as url:
        engine = create_engine(url)
        metadata = MetaData()
        add_auth_tables(metadata)
        metadata.create_all(engine)
        yield engine
        engine.dispose()


def verifier(url, engine, **kw):
    """A fresh process's verifier: nothing in memory, only what the database holds."""
    return TokenVerifier(JwksKeySource(url, DatabaseKeyCache(lambda: engine), **kw), "ekinerja-identity", "ekinerja",
                         DatabaseRevocations(lambda: engine))


def test_a_fresh_worker_verifies_with_the_last_good_keys_while_identity_is_down(engine):
    key, kid, jwk = signing_key()
    identity = JwksServer([jwk])
    good = token(key, kid)
    assert verifier(identity.url, engine).verify(good).account_id == "acc-1"  # stores the key set
    identity.stop()
    assert verifier(identity.url, engine).verify(good).account_id == "acc-1"  # a new process, identity down
    # A key set older than its lifespan is fetched again; failing that, the last good one stays.
    assert verifier(identity.url, engine, lifespan=0).verify(good).account_id == "acc-1"


def test_no_key_to_be_had_is_503_with_retry_after_never_401(engine):
    key, kid, jwk = signing_key()
    identity = JwksServer([jwk])
    identity.stop()
    with pytest.raises(ServiceUnavailable) as raised:
        verifier(identity.url, engine).verify(token(key, kid))
    assert raised.value.status == 503 and raised.value.code == "service_unavailable" and raised.value.retry_after > 0

    app = create_base_app("svc", verifier(identity.url, engine), lambda: None, "t")

    @app.get("/calendar/<int:year>")
    def calendar(year):
        principal()
        return {"year": year}

    r = app.test_client().get("/calendar/2026", headers={"Authorization": f"Bearer {token(key, kid)}"})
    assert r.status_code == 503 and r.headers["Retry-After"].isdigit()
    body = r.get_json()["error"]
    assert body["code"] == "service_unavailable" and "coba lagi dalam" in body["message"]


def test_unknown_and_retired_keys_are_refused_once_identity_answers(engine):
    key, kid, jwk = signing_key()
    other, other_kid, _ = signing_key()
    identity = JwksServer([jwk])
    try:
        v = verifier(identity.url, engine, min_refetch=0)
        with pytest.raises(Unauthorized) as raised:
            v.verify(token(other, other_kid))  # a kid identity does not publish
        assert raised.value.code == "invalid_token"
        # identity retires the key: after the key set's lifespan the next fetch drops it.
        identity.keys = []
        with pytest.raises(Unauthorized):
            verifier(identity.url, engine, lifespan=0).verify(token(key, kid))
        # Made-up kids cannot make every request a call to identity.
        hits = identity.hits
        v = verifier(identity.url, engine, min_refetch=60)
        for _ in range(5):
            with pytest.raises(Unauthorized):
                v.verify(token(other, f"kid-{uuid.uuid4()}"))
        assert identity.hits - hits == 1
    finally:
        identity.stop()


def test_a_revoked_account_is_refused_from_the_revocation_on(engine):
    key, kid, jwk = signing_key()
    identity = JwksServer([jwk])
    try:
        v = verifier(identity.url, engine)
        old, new = token(key, kid, ver=0), token(key, kid, ver=1)
        assert v.verify(old).account_id == "acc-1"
        env = Envelope(type="account.revoked", source="identity", data={
            "account_id": "acc-1", "token_version": 1, "reason": "deactivated",
            "revoked_at": datetime.now(timezone.utc).isoformat()})
        from sqlalchemy.orm import Session

        from ekinerja_common.events import parse
        from ekinerja_common.uow import UnitOfWork

        with Session(engine) as s, s.begin():
            on_account_revoked(UnitOfWork.joining(s, None, "activity"), parse(env))
        with pytest.raises(Unauthorized) as raised:
            v.verify(old)
        assert raised.value.code == "token_revoked" and "masuk lagi" in raised.value.text.id
        assert v.verify(new).account_id == "acc-1"  # issued after the revocation
        # A late, older revocation changes nothing.
        late = Envelope(type="account.revoked", source="identity", data={**env.data, "token_version": 0})
        with Session(engine) as s, s.begin():
            on_account_revoked(UnitOfWork.joining(s, None, "activity"), parse(late))
        with pytest.raises(Unauthorized):
            v.verify(old)
        assert v.verify(token(key, kid, sub="acc-2")).account_id == "acc-2"  # other accounts untouched
    finally:
        identity.stop()
