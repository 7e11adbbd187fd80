"""UnitOfWork.publish_many: the bulk variant of publish used by imports, against real PostgreSQL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import MetaData, create_engine, func, select

from ekinerja_common.db import make_session_factory
from ekinerja_common.outbox import OUTBOX, add_messaging_tables
from ekinerja_common.uow import UnitOfWork
from ekinerja_common.testing import fresh_database


def duty(n: int) -> dict:
    return {"duty_id": f"d{n}", "position_id": "p", "description": "x", "output_unit": "u", "norma_waktu": n, "version": 1}


@pytest.fixture
def store():
    metadata = MetaData()
    add_messaging_tables(metadata)
    with fresh_database("uow") as url:
        engine = create_engine(url)
        metadata.create_all(engine)
        yield make_session_factory(engine), metadata, engine
        engine.dispose()


def test_publish_many_writes_one_outbox_row_per_event_in_order(store):
    factory, metadata, engine = store
    with UnitOfWork(factory, metadata, "organization", correlation_id="req-9") as uow:
        envs = uow.publish_many("duty.published", [duty(n) for n in range(1, 2501)])
        uow.commit()
    assert len(envs) == 2500 and uow.published == envs
    outbox = metadata.tables[OUTBOX]
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.id, outbox.c.type, outbox.c.body, outbox.c.correlation_id,
                                   outbox.c.published_at, outbox.c.attempts).order_by(outbox.c.seq)).all()
    assert [r.id for r in rows] == [e.id for e in envs]
    assert {(r.type, r.correlation_id, r.published_at, r.attempts) for r in rows} == {("duty.published", "req-9", None, 0)}
    assert [json.loads(r.body)["data"]["norma_waktu"] for r in rows] == list(range(1, 2501))


def test_publish_many_checks_every_item_before_writing_any(store):
    factory, metadata, engine = store
    with UnitOfWork(factory, metadata, "organization") as uow:
        with pytest.raises(ValueError, match="lacks"):
            uow.publish_many("duty.published", [duty(1), {"duty_id": "d2"}])
        assert uow.publish_many("duty.published", []) == []
        uow.commit()
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(metadata.tables[OUTBOX])) == 0


def test_publish_many_rolls_back_with_the_unit_of_work(store):
    factory, metadata, engine = store
    with UnitOfWork(factory, metadata, "organization") as uow:
        uow.publish_many("duty.published", [duty(1), duty(2)])
        # no commit: leaving the block discards the events with the business change
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(metadata.tables[OUTBOX])) == 0
