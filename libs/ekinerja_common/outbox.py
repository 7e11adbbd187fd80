"""The transactional outbox and the processed-message log, as tables every service carries.

A web request writes its business rows *and* the events they cause in one transaction (see
:class:`ekinerja_common.uow.UnitOfWork`); the relay process publishes them later. A consumer
records each handled message id in ``processed_messages`` in the same transaction as the
effect, so a redelivery changes nothing.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text

OUTBOX = "outbox"
PROCESSED = "processed_messages"


def add_messaging_tables(metadata: MetaData) -> None:
    """Add the outbox and processed-message tables to a service's metadata (and so to its
    migrations)."""
    Table(
        OUTBOX,
        metadata,
        # Integer on SQLite so that it becomes the ROWID alias and autoincrements there too.
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("id", String(36), nullable=False, unique=True),
        Column("type", String(100), nullable=False),
        Column("body", Text, nullable=False),
        Column("correlation_id", String(100)),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text),
        Index("ix_outbox_unpublished", "published_at", "seq"),
    )
    Table(
        PROCESSED,
        metadata,
        Column("id", String(36), primary_key=True),
        Column("type", String(100), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
