"""Pruning of the messaging tables every service carries (``python -m <service> prune``, daily).

* ``outbox``: rows the broker confirmed more than ``OUTBOX_RETENTION_DAYS`` (default 30) ago. An
  unpublished row is never deleted, however old: it is an event nobody has received yet.
* ``processed_messages``: ids handled more than ``PROCESSED_RETENTION_DAYS`` (default 30) ago.
  Duplicates arrive within seconds (a relay that crashed before marking a row sent, a consumer that
  crashed before its ack), so a month is far beyond any redelivery. A dead-lettered message was
  never recorded as processed, so replaying it later is unaffected.

Deletes run in batches so that a large backlog never holds a long lock on a busy table.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

from sqlalchemy import Engine, MetaData, delete, select

from .envelope import utcnow
from .outbox import OUTBOX, PROCESSED

BATCH = 5000


def retention_days() -> tuple[int, int]:
    return int(os.environ.get("OUTBOX_RETENTION_DAYS", "30")), int(os.environ.get("PROCESSED_RETENTION_DAYS", "30"))


def prune(engine: Engine, metadata: MetaData, *, outbox_days: int, processed_days: int,
          now: datetime | None = None) -> dict[str, int]:
    """Delete what is older than the retention; returns how many rows of each table went."""
    if outbox_days < 1 or processed_days < 1:
        raise ValueError("retention must be at least one day")
    now = now or utcnow()
    outbox, processed = metadata.tables[OUTBOX], metadata.tables[PROCESSED]
    done = {"outbox": 0, "processed_messages": 0}
    jobs = (
        ("outbox", outbox, outbox.c.seq,
         outbox.c.published_at.is_not(None) & (outbox.c.published_at < now - timedelta(days=outbox_days))),
        ("processed_messages", processed, processed.c.id, processed.c.processed_at < now - timedelta(days=processed_days)),
    )
    for name, table, key, old in jobs:
        while True:
            with engine.begin() as conn:
                keys = conn.execute(select(key).where(old).limit(BATCH)).scalars().all()
                if keys:
                    conn.execute(delete(table).where(key.in_(keys)))
            done[name] += len(keys)
            if len(keys) < BATCH:
                break
    return done
