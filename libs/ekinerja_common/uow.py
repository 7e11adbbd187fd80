"""Unit of work: one database transaction holding the business change and its outgoing events."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from sqlalchemy import MetaData, Table, insert
from sqlalchemy.orm import Session, sessionmaker

from .envelope import Envelope, utcnow
from .events import EventData, as_data, check_event
from .outbox import OUTBOX

Data = dict[str, Any] | EventData


def checked_envelope(source: str, event_type: str, data: Data, correlation_id: str | None) -> Envelope:
    """The envelope of an event about to be written: ``data`` is the type's model
    (ekinerja_common.events) or its JSON object; the catalogue check runs here, so a producer bug
    fails its own transaction."""
    data = as_data(event_type, data)
    check_event(event_type, source, data)
    return Envelope(type=event_type, source=source, data=data, correlation_id=correlation_id)


def outbox_row(env: Envelope, created_at) -> dict[str, Any]:
    """The outbox table's row of an envelope (the one shape every writer of the outbox uses)."""
    return {"id": env.id, "type": env.type, "body": env.to_json(), "correlation_id": env.correlation_id,
            "created_at": created_at, "attempts": 0}


def insert_event(session: Session, outbox: Table, source: str, event_type: str, data: Data,
                 correlation_id: str | None) -> Envelope:
    """Write one event into the outbox in the session's transaction (the relay sends it after
    commit)."""
    env = checked_envelope(source, event_type, data, correlation_id)
    session.execute(insert(outbox).values(**outbox_row(env, utcnow())))
    return env


Publish = Callable[[str, Data], Envelope]
_PUBLISH = "ekinerja.publish"


def bind_publisher(session: Session, publish: Publish) -> None:
    """Let the code running in this session's transaction publish (the consumer binds one for its
    handlers, so an event handler's effects and the events they cause commit together)."""
    session.info[_PUBLISH] = publish


def publisher(session: Session) -> Publish:
    """The publish function bound to this session (inside a consumer's handler)."""
    try:
        return session.info[_PUBLISH]
    except KeyError:
        raise RuntimeError("no publisher is bound to this session (only consumer handlers have one)") from None


class UnitOfWork:
    """``with UnitOfWork(...) as uow: ...; uow.publish(...); uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back, events included: an event is
    sent if and only if its business change was stored.
    """

    def __init__(self, session_factory: sessionmaker[Session] | None, metadata: MetaData | None, source: str,
                 correlation_id: str | None = None):
        self._session_factory = session_factory
        # None: a handler's unit of work in a test without an outbox (publishing then fails).
        self._outbox = metadata.tables[OUTBOX] if metadata is not None else None
        self.source = source
        self.correlation_id = correlation_id
        self.session: Session
        self.published: list[Envelope] = []

    @classmethod
    def joining(cls, session: Session, metadata: MetaData | None, source: str,
                correlation_id: str | None = None) -> "UnitOfWork":
        """The unit of work of an event handler: the consumer's transaction, which the consumer
        commits together with the message's id (so ``commit`` is not the handler's to call)."""
        uow = cls(None, metadata, source, correlation_id)
        uow.session = session
        return uow

    def __enter__(self) -> "UnitOfWork":
        if self._session_factory is None:
            raise RuntimeError("a joined unit of work runs in its consumer's transaction")
        self.session = self._session_factory()
        self.published = []
        return self

    def __exit__(self, *exc) -> None:
        self.session.rollback()
        self.session.close()

    def publish(self, event_type: str, data: Data) -> Envelope:
        env = insert_event(self.session, self._outbox, self.source, event_type, data, self.correlation_id)
        self.published.append(env)
        return env

    def publish_many(self, event_type: str, items: Sequence[Data]) -> list[Envelope]:
        """``publish`` for a batch (bulk imports): every item is checked the same way, and the
        outbox rows go in as one executemany INSERT (pipelined by the driver), not one statement
        and round trip per event."""
        envs = [checked_envelope(self.source, event_type, data, self.correlation_id) for data in items]
        now = utcnow()
        if envs:
            self.session.execute(insert(self._outbox), [outbox_row(e, now) for e in envs])
        self.published.extend(envs)
        return envs

    def publish_row(self, event_type: str, data: Data) -> dict[str, Any]:
        """``publish`` for a caller that writes the outbox row itself, inside a statement of its
        own (activity's one-statement submission): the same check and envelope, recorded in
        ``published``; the caller must write the returned row in this unit of work."""
        env = checked_envelope(self.source, event_type, data, self.correlation_id)
        self.published.append(env)
        return outbox_row(env, utcnow())

    def commit(self) -> None:
        if self._session_factory is None:
            raise RuntimeError("an event handler does not commit: its consumer does, with the message id")
        self.session.commit()
