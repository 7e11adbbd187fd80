"""Helpers for the services' integration tests: a throw-away PostgreSQL database, signing keys
that tests control, and an isolated broker namespace. Real components, no mocks."""
from __future__ import annotations

import contextlib
import os
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Iterator

import jwt
import pika
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from .auth import ALGORITHM, CallableKeySource, TokenVerifier

PG_ADMIN_URL = os.environ.get("EKINERJA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("EKINERJA_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/%2F")


@contextlib.contextmanager
def fresh_database(name_hint: str) -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its URL, drop it afterwards."""
    name = f"t_{name_hint}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class TestKeys:
    """An Ed25519 key the test signs with, and a verifier that trusts only it."""

    __test__ = False  # not a pytest class

    def __init__(self, issuer: str = "ekinerja-identity", audience: str = "ekinerja"):
        self.key = Ed25519PrivateKey.generate()
        self.kid = uuid.uuid4().hex
        self.issuer = issuer
        self.audience = audience
        self.verifier = TokenVerifier(
            CallableKeySource(lambda kid: self.key.public_key() if kid == self.kid else None), issuer, audience
        )

    def token(self, employee_id: str | None, *roles: str, account_id: str | None = None, **overrides) -> str:
        now = datetime.now(timezone.utc)
        claims = {
            "iss": self.issuer, "aud": self.audience, "sub": account_id or employee_id or uuid.uuid4().hex,
            "emp": employee_id, "roles": list(roles or ("pegawai",)), "typ": "access",
            "iat": now, "exp": now + timedelta(minutes=5),
        }
        claims.update(overrides)
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def headers(self, employee_id: str | None, *roles: str, **kw) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(employee_id, *roles, **kw)}"}


def queue_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}."


def delete_prefixed_topology(prefix: str, services: tuple[str, ...]) -> None:
    """Remove the queues and exchanges a test created under its prefix."""
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        ch = conn.channel()
        for s in services:
            for suffix in ("", ".retry", ".dead"):
                ch.queue_delete(f"{prefix}{s}.events{suffix}")
        ch.exchange_delete(f"{prefix}ekinerja.events")
        ch.exchange_delete(f"{prefix}ekinerja.dead")
    finally:
        conn.close()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
