"""A consumer catching up a backlog commits many messages in one transaction and acks them together
(``Consumer.deliver_batch``): each is still applied exactly once (duplicates, even inside one batch,
skipped), and a message whose handler fails sends its batch through one at a time, so that it alone
is retried and dead-lettered while the others are applied — nothing lost, nothing doubled."""
from __future__ import annotations

import threading

import pika
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, insert, select

from ekinerja_common import topology
from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer, batch_form
from ekinerja_common.db import make_session_factory
from ekinerja_common.outbox import add_messaging_tables
from ekinerja_common.relay import Relay
from ekinerja_common.testing import AMQP_URL, delete_prefixed_topology, fresh_database, queue_prefix, wait_until
from ekinerja_common.uow import UnitOfWork

POISON = "d77"


def duty(n: int) -> dict:
    return {"duty_id": f"d{n}", "position_id": "p", "description": "x", "output_unit": "u", "norma_waktu": n, "version": 1}


@pytest.fixture
def prefix():
    p = queue_prefix()
    yield p
    delete_prefixed_topology(p, ("identity", "organization", "activity", "approval", "payroll"))


@pytest.fixture
def producer(prefix):
    metadata = MetaData()
    add_messaging_tables(metadata)
    with fresh_database("relay") as url:
        engine = create_engine(url)
        metadata.create_all(engine)
        yield Settings(service="organization", database_url=url, queue_prefix=prefix), engine, metadata
        engine.dispose()


@pytest.fixture
def receiver(prefix):
    metadata = MetaData()
    add_messaging_tables(metadata)
    seen = Table("seen", metadata, Column("duty_id", String, primary_key=True), Column("count", Integer))
    with fresh_database("consumer") as url:
        engine = create_engine(url)
        metadata.create_all(engine)
        settings = Settings(service="activity", database_url=url, queue_prefix=prefix, retry_delay_ms=100,
                            consumer_max_retries=2, consumer_batch=50)
        yield settings, engine, metadata, seen
        engine.dispose()


def publish(settings, engine, metadata, events: list[dict]):
    """Through the outbox and the relay, as a producing service would."""
    with UnitOfWork(make_session_factory(engine), metadata, "organization") as uow:
        envs = [uow.publish("duty.published", data) for data in events]
        uow.commit()
    c = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        ch = c.channel()
        ch.confirm_delivery()
        topology.declare(ch, settings)
        Relay(settings, engine, metadata).publish_batch(ch)
        # Every tenth event a second time, right behind the others: duplicates inside one batch.
        for env in envs[::10]:
            ch.basic_publish(topology.names(settings, "activity")["exchange"], "duty.published", env.to_json(),
                             pika.BasicProperties(message_id=env.id, delivery_mode=2), mandatory=True)
    finally:
        c.close()


def queue_counts(settings) -> tuple[int, int]:
    names = topology.names(settings, "activity")
    c = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        ch = c.channel()
        return (ch.queue_declare(names["queue"], passive=True).method.message_count,
                ch.queue_declare(names["dead"], passive=True).method.message_count)
    finally:
        c.close()


@pytest.mark.parametrize("with_batch_form", [False, True])
def test_a_backlog_is_applied_in_batches_exactly_once_and_a_poisoned_message_alone_dead_lettered(
        producer, receiver, with_batch_form):
    settings, engine, metadata = producer
    r_settings, r_engine, r_metadata, seen = receiver
    attempts: list[str] = []
    runs: list[int] = []

    def on_duty(uow, event):
        duty_id = event.data.duty_id
        if duty_id == POISON:
            attempts.append(event.id)
            raise RuntimeError("handler bug")
        row = uow.session.execute(select(seen.c.count).where(seen.c.duty_id == duty_id)).scalar()
        if row is None:
            uow.session.execute(insert(seen).values(duty_id=duty_id, count=1))
        else:
            uow.session.execute(seen.update().where(seen.c.duty_id == duty_id).values(count=row + 1))

    if with_batch_form:  # the handler's batch form: the poison fails the run, and so its batch
        def on_duties(run):
            runs.append(len(run))
            for uow, event in run:
                on_duty(uow, event)

        on_duty = batch_form(on_duties)(on_duty)

    publish(settings, engine, metadata, [duty(n) for n in range(300)])
    consumer = Consumer(r_settings, make_session_factory(r_engine), r_metadata, {"duty.published": on_duty})
    batches: list[int] = []
    apply_many = consumer.apply_many

    def recording(batch):
        batches.append(len(batch))
        return apply_many(batch)

    consumer.apply_many = recording
    t = threading.Thread(target=consumer.run, daemon=True)
    t.start()
    try:
        wait_until(lambda: queue_counts(r_settings) == (0, 1), timeout=60, what="backlog applied, poison dead-lettered")
    finally:
        consumer.stopping.set()
        t.join(5)
    assert max(batches) > 1  # it did batch
    assert not with_batch_form or max(runs) > 1
    assert len(attempts) >= 1 + r_settings.consumer_max_retries  # the poison retried on its own
    with r_engine.connect() as c:
        counts = dict(c.execute(select(seen.c.duty_id, seen.c.count)).all())
        processed = c.execute(select(func.count()).select_from(r_metadata.tables["processed_messages"])).scalar()
    assert counts == {f"d{n}": 1 for n in range(300) if f"d{n}" != POISON}
    assert processed == 299


def test_the_same_event_twice_in_one_batch_is_applied_once(receiver):
    r_settings, r_engine, r_metadata, seen = receiver
    from ekinerja_common.envelope import Envelope

    def on_duty(uow, event):
        uow.session.execute(insert(seen).values(duty_id=event.data.duty_id, count=1))  # a second insert would fail

    consumer = Consumer(r_settings, make_session_factory(r_engine), r_metadata, {"duty.published": on_duty})
    first, other = (Envelope(type="duty.published", source="organization", data=duty(n)) for n in (1, 2))
    assert consumer.apply_many([first, other, first]) == ["handled", "handled", "duplicate"]
    assert consumer.apply_many([first, Envelope(type="unknown.event", source="x", data={})]) == ["duplicate", "ignored"]
    with r_engine.connect() as c:
        assert dict(c.execute(select(seen.c.duty_id, seen.c.count)).all()) == {"d1": 1, "d2": 1}
