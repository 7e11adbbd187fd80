"""The outbox relay and the idempotent consumer against real PostgreSQL and RabbitMQ.

A tiny service ("organization" publishing duty events, "activity" consuming them) is enough:
the mechanisms know nothing of the domain.
"""
from __future__ import annotations

import threading

import pika
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, insert, select

from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.errors import Unrecoverable
from ekinerja_common.db import make_session_factory
from ekinerja_common.envelope import Envelope
from ekinerja_common.outbox import OUTBOX, add_messaging_tables
from ekinerja_common.relay import Relay
from ekinerja_common.testing import AMQP_URL, delete_prefixed_topology, fresh_database, queue_prefix, wait_until
from ekinerja_common import topology
from ekinerja_common.events import CATALOGUE
from ekinerja_common.uow import UnitOfWork


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
        settings = Settings(service="organization", database_url=url, queue_prefix=prefix, relay_poll_seconds=0.05)
        yield settings, engine, metadata
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
                            consumer_max_retries=2)
        yield settings, engine, metadata, seen
        engine.dispose()


def publish_rows(settings, engine, metadata, events: list[dict]) -> list[Envelope]:
    with UnitOfWork(make_session_factory(engine), metadata, "organization", "req-42") as uow:
        envs = [uow.publish("duty.published", data) for data in events]
        uow.commit()
    return envs


def unpublished(engine, metadata) -> int:
    o = metadata.tables[OUTBOX]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(o.c.published_at.is_(None))).scalar()


def channel_for(settings):
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    ch = conn.channel()
    ch.confirm_delivery()
    topology.declare(ch, settings)
    return conn, ch


def test_rolled_back_unit_of_work_publishes_nothing(producer):
    settings, engine, metadata = producer
    with UnitOfWork(make_session_factory(engine), metadata, "organization") as uow:
        uow.publish("duty.published", duty(1))
        # no commit: an exception or early return
    assert unpublished(engine, metadata) == 0


def test_relay_publishes_persistent_confirmed_messages_in_order(producer):
    settings, engine, metadata = producer
    envs = publish_rows(settings, engine, metadata, [duty(1), duty(2), duty(3)])
    conn, ch = channel_for(settings)
    try:
        assert Relay(settings, engine, metadata).publish_batch(ch) == 3
        assert unpublished(engine, metadata) == 0
        got = []
        for _ in range(3):
            method, props, body = ch.basic_get(topology.names(settings, "activity")["queue"], auto_ack=True)
            got.append((props, Envelope.from_json(body)))
        assert [e.id for _, e in got] == [e.id for e in envs]
        props, env = got[0]
        assert props.delivery_mode == 2 and props.message_id == env.id and props.type == "duty.published"
        assert props.content_type == "application/json" and props.headers["x-request-id"] == "req-42"
        assert env.correlation_id == "req-42"
        # Bound per the catalogue: every other consumer got its copy too, and nobody else did.
        for svc in ("identity", "approval", "payroll"):
            expected = 3 if svc in CATALOGUE["duty.published"].consumers else 0
            assert ch.queue_declare(topology.names(settings, svc)["queue"], passive=True).method.message_count == expected
    finally:
        conn.close()


def test_relay_retries_after_the_broker_connection_drops(producer):
    """A row is marked published only after a confirm: when the connection dies first, the row is
    still pending and the relay's next connection publishes it."""
    settings, engine, metadata = producer
    publish_rows(settings, engine, metadata, [duty(1)])
    conn, ch = channel_for(settings)
    conn.close()
    with pytest.raises(pika.exceptions.AMQPError):
        Relay(settings, engine, metadata).publish_batch(ch)
    assert unpublished(engine, metadata) == 1
    relay = Relay(settings, engine, metadata)
    t = threading.Thread(target=relay.run, daemon=True)
    t.start()
    try:
        wait_until(lambda: unpublished(engine, metadata) == 0, what="relay to publish after reconnect")
    finally:
        relay.stopping.set()
        t.join(5)


def count_of(engine, seen, duty_id):
    with engine.connect() as conn:
        return conn.execute(select(seen.c.count).where(seen.c.duty_id == duty_id)).scalar()


def test_consumer_applies_each_message_once_and_acks_after_commit(producer, receiver):
    settings, engine, metadata = producer
    r_settings, r_engine, r_metadata, seen = receiver

    def on_duty(uow, event):
        session = uow.session
        row = session.execute(select(seen.c.count).where(seen.c.duty_id == event.data.duty_id)).scalar()
        if row is None:
            session.execute(insert(seen).values(duty_id=event.data.duty_id, count=1))
        else:
            session.execute(seen.update().where(seen.c.duty_id == event.data.duty_id).values(count=row + 1))

    envs = publish_rows(settings, engine, metadata, [duty(1), duty(2)])
    conn, ch = channel_for(settings)
    try:
        Relay(settings, engine, metadata).publish_batch(ch)
        # The same event published twice (a relay crash between confirm and commit looks like this).
        ch.basic_publish(topology.names(settings, "activity")["exchange"], "duty.published", envs[0].to_json(),
                         pika.BasicProperties(message_id=envs[0].id, delivery_mode=2), mandatory=True)
    finally:
        conn.close()
    consumer = Consumer(r_settings, make_session_factory(r_engine), r_metadata, {"duty.published": on_duty})
    t = threading.Thread(target=consumer.run, daemon=True)
    t.start()
    try:
        wait_until(lambda: count_of(r_engine, seen, "d2") == 1, what="consumer to apply")
        q = topology.names(r_settings, "activity")["queue"]

        def drained():
            c = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
            try:
                return c.channel().queue_declare(q, passive=True).method.message_count == 0
            finally:
                c.close()

        wait_until(drained, what="queue to drain")
    finally:
        consumer.stopping.set()
        t.join(5)
    assert count_of(r_engine, seen, "d1") == 1  # the duplicate changed nothing
    with r_engine.connect() as c:
        assert c.execute(select(func.count()).select_from(r_metadata.tables["processed_messages"])).scalar() == 2


def run_until_dead_lettered(producer, receiver, number: int, handler) -> None:
    """Publish duty ``number`` through the relay, consume it with ``handler`` until the message
    lies in the dead-letter queue."""
    settings, engine, metadata = producer
    r_settings, r_engine, r_metadata, _ = receiver
    publish_rows(settings, engine, metadata, [duty(number)])
    conn, ch = channel_for(settings)
    try:
        Relay(settings, engine, metadata).publish_batch(ch)
    finally:
        conn.close()
    consumer = Consumer(r_settings, make_session_factory(r_engine), r_metadata, {"duty.published": handler})
    t = threading.Thread(target=consumer.run, daemon=True)
    t.start()
    names = topology.names(r_settings, "activity")

    def dead_count():
        c = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        try:
            return c.channel().queue_declare(names["dead"], passive=True).method.message_count
        finally:
            c.close()

    try:
        wait_until(lambda: dead_count() == 1, timeout=15, what="message in the dead-letter queue")
    finally:
        consumer.stopping.set()
        t.join(5)


def test_failing_handler_is_retried_then_dead_lettered(producer, receiver):
    r_settings, r_engine, _, seen = receiver
    attempts = []

    def broken(uow, event):
        uow.session.execute(insert(seen).values(duty_id=event.data.duty_id, count=1))
        attempts.append(event.id)
        raise RuntimeError("handler bug")

    run_until_dead_lettered(producer, receiver, 7, broken)
    assert len(attempts) == 1 + r_settings.consumer_max_retries
    assert count_of(r_engine, seen, "d7") is None  # every failed attempt rolled back


def test_an_unrecoverable_message_is_dead_lettered_at_once(producer, receiver):
    """A handler that raises Unrecoverable (damaged data no retry cures) is not retried: the
    message goes to the dead-letter queue after one attempt."""
    attempts = []

    def damaged(uow, event):
        attempts.append(event.id)
        raise Unrecoverable("a decision about a version never announced")

    run_until_dead_lettered(producer, receiver, 8, damaged)
    assert len(attempts) == 1
