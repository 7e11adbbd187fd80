"""What a service keeps in its own database so that token checks need no call to identity:
the last good JWKS (a worker started while identity is down still verifies) and the account
revocations announced by identity (``account.revoked``: deactivation, a role taken away, a
password reset or change take effect at once everywhere, not when the token expires).

Every service but identity adds the tables with :func:`add_auth_tables` (like the outbox) and
registers :func:`on_account_revoked` in its inbox; ``create_app`` builds its verifier with
:func:`verifier_for`.
"""
from __future__ import annotations

import json
from typing import Callable

from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table, Text, select, update

from .auth import JwksKeySource, TokenVerifier
from .db import read_one
from .envelope import utcnow
from .events import AccountRevoked, Event

JWKS_CACHE = "jwks_cache"
REVOCATIONS = "account_revocations"


def add_auth_tables(metadata: MetaData) -> None:
    Table(
        JWKS_CACHE,
        metadata,
        # One row (id 1): the whole key set as identity last published it.
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("jwks", Text, nullable=False),
        Column("fetched_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        REVOCATIONS,
        metadata,
        Column("account_id", String(36), primary_key=True),
        # Tokens of the account whose ``ver`` claim is lower than this are void.
        Column("min_version", Integer, nullable=False),
        Column("reason", String(30), nullable=False),
        Column("revoked_at", DateTime(timezone=True), nullable=False),
    )


# The same tables outside any service's metadata, for the code below (a consumer's handler gets a
# session, not the service's metadata).
_TABLES = MetaData()
add_auth_tables(_TABLES)


class DatabaseKeyCache:
    """The last good JWKS in the service's own database. ``engine`` is a function: the engine is
    made lazily, after gunicorn forked the worker."""

    def __init__(self, engine: Callable[[], Engine]):
        self.engine = engine
        self.table = _TABLES.tables[JWKS_CACHE]

    def load(self) -> list[dict] | None:
        with self.engine().connect() as conn:
            raw = conn.execute(select(self.table.c.jwks).where(self.table.c.id == 1)).scalar()
        return json.loads(raw) if raw else None

    def save(self, keys: list[dict]) -> None:
        t = self.table
        with self.engine().begin() as conn:
            values = {"jwks": json.dumps(keys, sort_keys=True), "fetched_at": utcnow()}
            if not conn.execute(update(t).where(t.c.id == 1).values(**values)).rowcount:
                conn.execute(t.insert().values(id=1, **values))


class DatabaseRevocations:
    """The revocations this service has heard of. One primary-key read per authenticated request:
    a cache here would be exactly the delay the table exists to remove."""

    # On PostgreSQL through db.read_one: one statement in autocommit, without SQLAlchemy's
    # statement machinery, which cost three times the read itself on every request (issue 13).
    _SQL = f"SELECT min_version FROM {REVOCATIONS} WHERE account_id = %s"

    def __init__(self, engine: Callable[[], Engine]):
        self.engine = engine
        self.table = _TABLES.tables[REVOCATIONS]

    def min_version(self, account_id: str) -> int:
        engine = self.engine()
        if engine.dialect.name == "postgresql":
            row = read_one(engine, self._SQL, (account_id,))
            return row[0] if row else 0
        # SQLite (the one-machine run): its engine opens every transaction with BEGIN IMMEDIATE.
        with engine.connect() as conn:
            found = conn.execute(select(self.table.c.min_version)
                                 .where(self.table.c.account_id == account_id)).scalar()
        return found or 0


def on_account_revoked(uow, event: Event[AccountRevoked]) -> None:
    """``account.revoked``: keep the highest token version per account (a late, older revocation
    changes nothing)."""
    d, session = event.data, uow.session
    t = _TABLES.tables[REVOCATIONS]
    row = session.execute(select(t.c.min_version).where(t.c.account_id == d.account_id).with_for_update()).first()
    values = {"min_version": d.token_version, "reason": d.reason[:30], "revoked_at": d.revoked_at}
    if row is None:
        session.execute(t.insert().values(account_id=d.account_id, **values))
    elif row.min_version < values["min_version"]:
        session.execute(update(t).where(t.c.account_id == d.account_id).values(**values))


def verifier_for(runtime) -> TokenVerifier:
    """The token verifier of a service other than identity: JWKS from ``JWKS_URL`` with the last
    good set kept in the service's database, and the revocations its consumer stored."""
    engine = lambda: runtime.engine  # noqa: E731 - lazily, after fork
    s = runtime.settings
    return TokenVerifier(JwksKeySource(s.jwks_url, DatabaseKeyCache(engine)),
                         s.jwt_issuer, s.jwt_audience, DatabaseRevocations(engine))


def create_auth_tables(op) -> None:
    """For the migration that brings a service these tables (its shape as of that migration:
    a later change of the tables needs a migration of its own)."""
    import sqlalchemy as sa

    op.create_table(JWKS_CACHE,
                    sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("jwks", sa.Text(), nullable=False),
                    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint("id"))
    op.create_table(REVOCATIONS,
                    sa.Column("account_id", sa.String(length=36), nullable=False),
                    sa.Column("min_version", sa.Integer(), nullable=False),
                    sa.Column("reason", sa.String(length=30), nullable=False),
                    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint("account_id"))


def drop_auth_tables(op) -> None:
    op.drop_table(REVOCATIONS)
    op.drop_table(JWKS_CACHE)
