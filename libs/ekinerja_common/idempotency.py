"""``Idempotency-Key`` on the writes that create something: a client that lost the answer sends
the same request again with the same key and gets the stored answer, not a second entry (nor an
"overlaps itself" refusal). TEAM.md's contract: same key + same body -> the stored answer replayed
(same status, same body); same key + another body -> 422 ``idempotency_key_reused``.

Keys are kept per caller (account id, key) in each service's ``idempotency_keys`` table for
``IDEMPOTENCY_KEY_HOURS`` (default 24; ``python -m <service> prune`` deletes older ones).

Nothing doubled, nothing lost, also when a worker dies mid-request: the view hands its answer to
:func:`commit`, which stores the key and the answer *in the transaction of the change itself*.
Either both are stored or neither: a retry after a crash finds the stored answer, or runs anew.
Two requests with the same key at once: the first to commit stores the key; the other's insert
of the same key waits for that commit and then fails, rolling its own change back, and it answers
with the winner's stored answer (so does one refused by a rule because the winner got there
first, e.g. "overlaps an entry": the entry is its own). A view that cannot build its answer before
committing is covered too: its answer is stored right after the commit (:func:`idempotent`).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

from flask import Response, current_app, g, jsonify, request
from sqlalchemy import Column, DateTime, Integer, MetaData, PrimaryKeyConstraint, String, Table, Text, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .envelope import utcnow
from .errors import DomainError, Text as Message

TABLE = "idempotency_keys"
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


def keep_hours() -> int:
    return int(os.environ.get("IDEMPOTENCY_KEY_HOURS", "24"))


def add_idempotency_table(metadata: MetaData) -> Table:
    return Table(
        TABLE, metadata,
        Column("account_id", String(100), nullable=False),
        Column("key", String(MAX_KEY_LENGTH), nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
        PrimaryKeyConstraint("account_id", "key", name="pk_idempotency_keys"),
    )


def create_table(op) -> None:
    """The body of each service's migration that adds the table (alembic ``op``)."""
    import sqlalchemy as sa

    op.create_table(
        TABLE,
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("key", sa.String(MAX_KEY_LENGTH), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", TABLE, ["created_at"])


def prune(session: Session, table: Table) -> int:
    """Delete keys past their keeping time; returns how many."""
    cutoff = utcnow() - timedelta(hours=keep_hours())
    return session.execute(delete(table).where(table.c.created_at < cutoff)).rowcount or 0


@dataclass
class _Scope:
    """The key of the request being handled (on ``flask.g``)."""

    table: Table
    account_id: str
    key: str
    request_hash: str
    stored: bool = False

    def values(self, status: int, body: Any) -> dict:
        return {"account_id": self.account_id, "key": self.key, "request_hash": self.request_hash,
                "status": status, "body": json.dumps(body, ensure_ascii=False, default=str), "created_at": utcnow()}


def _request_hash() -> str:
    """What "the same request" means: method, path, query and the body's content (a JSON body
    canonically, so key order and spacing do not matter; a multipart body by its fields and
    files, so a new boundary does not either)."""
    h = hashlib.sha256(f"{request.method} {request.path}?{request.query_string.decode()}\n".encode())
    if request.mimetype == "multipart/form-data":
        for name, value in sorted(request.form.items(multi=True)):
            h.update(f"form {name}={value}\n".encode())
        for name, f in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            h.update(f"file {name} {f.filename}\n".encode())
            h.update(hashlib.sha256(f.stream.read()).digest())
            f.stream.seek(0)
    else:
        raw = request.get_data(cache=True)
        try:
            h.update(json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode())
        except ValueError:
            h.update(raw)
    return h.hexdigest()


def _stored(session: Session, scope: _Scope):
    t = scope.table
    return session.execute(select(t.c.request_hash, t.c.status, t.c.body, t.c.created_at).where(
        t.c.account_id == scope.account_id, t.c.key == scope.key)).first()


def _replay(row, scope: _Scope) -> Response:
    if row.request_hash != scope.request_hash:
        raise DomainError("idempotency_key_reused", Message(
            "Idempotency-Key ini sudah dipakai untuk permintaan lain; buat kunci baru untuk permintaan yang berbeda",
            "This Idempotency-Key was used for another request; use a new key for a different request"),
            {"Idempotency-Key": Message("Sudah dipakai untuk isi permintaan yang lain", "Already used with another body")})
    resp = jsonify(json.loads(row.body))
    resp.status_code = row.status
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def commit(uow, body: Any, status: int = 200) -> tuple[Any, int]:
    """Commit ``uow`` with this request's key and answer stored in the same transaction, and
    return the answer for the view to return. Without a key it is a plain commit."""
    scope: _Scope | None = g.get("idempotency")
    if scope is not None:
        uow.session.execute(insert(scope.table).values(**scope.values(status, body)))
        scope.stored = True
    uow.commit()
    return body, status


def idempotent(view: Callable) -> Callable:
    """For a Flask view that creates something. With an ``Idempotency-Key`` header, a repeat of
    a request already answered gets that answer again; see the module's doc. The caller must be
    authenticated (keys are per account). Without the header the view runs as it is."""

    @functools.wraps(view)
    def inner(*args: Any, **kwargs: Any):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise DomainError("invalid_idempotency_key", Message(
                f"Idempotency-Key harus 1–{MAX_KEY_LENGTH} karakter", f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} characters"),
                status=400)
        from .web import principal

        runtime = current_app.extensions["runtime"]
        scope = _Scope(runtime.metadata.tables[TABLE], principal().account_id, key, _request_hash())
        with runtime.session_factory() as session:
            row = _stored(session, scope)
            if row is not None and row.created_at.replace(tzinfo=row.created_at.tzinfo or utcnow().tzinfo) \
                    < utcnow() - timedelta(hours=keep_hours()):
                # Expired: the key is free again.
                t = scope.table
                session.execute(delete(t).where(t.c.account_id == scope.account_id, t.c.key == scope.key))
                session.commit()
                row = None
        if row is not None:
            return _replay(row, scope)
        g.idempotency = scope
        try:
            result = view(*args, **kwargs)
        except (DomainError, IntegrityError):
            # A concurrent request with this key may have won: its insert of the key made ours
            # fail (IntegrityError, our change rolled back), or its change made ours break a
            # rule. Then its answer is the answer to this request too.
            with runtime.session_factory() as session:
                row = _stored(session, scope)
            if row is not None:
                return _replay(row, scope)
            raise
        finally:
            g.pop("idempotency", None)
        resp = current_app.make_response(result)
        from .preview import dry_run_requested

        if not scope.stored and resp.status_code < 300 and resp.is_json and not dry_run_requested(request.args):
            # The view committed before it had its answer: stored right after (a crash between
            # the two leaves the change without its key: documented in the view's doc string).
            with runtime.session_factory() as session:
                try:
                    session.execute(insert(scope.table).values(**scope.values(resp.status_code, resp.get_json())))
                    session.commit()
                except IntegrityError:
                    session.rollback()
        return resp

    inner._idempotent = True  # type: ignore[attr-defined]
    return inner
