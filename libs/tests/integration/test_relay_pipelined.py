"""The relay's pipelined confirms (issue 13) against real PostgreSQL and RabbitMQ: a whole batch
outstanding at once, rows marked only after their own confirm, order kept, a nacked row (and all
after it) left for the next pass, and a broker lost mid-window costing duplicates, never losses."""
from __future__ import annotations

import threading

import pika
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, insert, select

from ekinerja_common import topology
from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.db import make_session_factory
from ekinerja_common.envelope import Envelope
from ekinerja_common.outbox import OUTBOX, add_messaging_tables
from ekinerja_common.relay import PipelinedChannel, Relay
from ekinerja_common.testing import (AMQP_URL, DedicatedBroker, delete_prefixed_topology, fresh_database,
                                     queue_prefix, wait_until)
from ekinerja_common.uow import UnitOfWork

SERVICES = ("identity", "organization", "activity", "approval", "payroll")


def duty(n: int) -> dict:
    return {"duty_id": f"d{n}", "position_id": "p", "description": "x", "output_unit": "u", "norma_waktu": n, "version": 1}


@pytest.fixture
def prefix():
    p = queue_prefix()
    yield p
    delete_prefixed_topology(p, SERVICES)


@pytest.fixture
def producer(prefix):
    metadata = MetaData()
    add_messaging_tables(metadata)
    with fresh_database("relay_pipe") as url:
        engine = create_engine(url)
        metadata.create_all(engine)
        settings = Settings(service="organization", database_url=url, queue_prefix=prefix, relay_batch=500,
                            relay_poll_seconds=0.05)
        yield settings, engine, metadata
        engine.dispose()


def store(engine, metadata, n: int) -> list[Envelope]:
    with UnitOfWork(make_session_factory(engine), metadata, "organization", "req-13") as uow:
        envs = [uow.publish("duty.published", duty(i)) for i in range(n)]
        uow.commit()
    return envs


def marked(engine, metadata) -> list[str]:
    o = metadata.tables[OUTBOX]
    with engine.connect() as conn:
        return list(conn.execute(select(o.c.id).where(o.c.published_at.is_not(None)).order_by(o.c.seq)).scalars())


def declared(settings, url=AMQP_URL):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    topology.declare(conn.channel(), settings)
    return conn


def drain(url: str, queue: str) -> list[str]:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        ids = []
        while (got := ch.basic_get(queue, auto_ack=True))[0] is not None:
            ids.append(got[1].message_id)
        return ids
    finally:
        conn.close()


def test_a_whole_batch_is_outstanding_at_once_and_arrives_in_outbox_order(producer):
    settings, engine, metadata = producer
    envs = store(engine, metadata, 1200)
    declared(settings).close()
    channel = PipelinedChannel(AMQP_URL)
    relay = Relay(settings, engine, metadata)
    try:
        assert relay.publish_batch(channel) == 500
        assert relay.publish_batch(channel) == 500
        assert relay.publish_batch(channel) == 200
        assert relay.publish_batch(channel) == 0
    finally:
        channel.close()
    assert marked(engine, metadata) == [e.id for e in envs]
    assert drain(AMQP_URL, topology.names(settings, "activity")["queue"]) == [e.id for e in envs]


def test_a_nacked_row_and_every_later_one_stay_unpublished_until_a_later_pass(producer):
    """RabbitMQ nacks a message a full ``reject-publish`` queue refuses: a real nack. The rows
    before it are marked; it and the rows after it are not (order kept), and it records the nack."""
    settings, engine, metadata = producer
    envs = store(engine, metadata, 6)
    conn = declared(settings)
    full = f"{settings.queue_prefix}full"
    ch = conn.channel()
    ch.queue_declare(full, arguments={"x-max-length": 2, "x-overflow": "reject-publish"})
    ch.queue_bind(full, topology.names(settings, "organization")["exchange"], routing_key="duty.published")
    channel = PipelinedChannel(AMQP_URL)
    relay = Relay(settings, engine, metadata)
    try:
        assert relay.publish_batch(channel) == 2
        assert marked(engine, metadata) == [e.id for e in envs[:2]]
        o = metadata.tables[OUTBOX]
        with engine.connect() as c:
            third = c.execute(select(o.c.attempts, o.c.last_error).where(o.c.id == envs[2].id)).one()
        assert third.last_error == "nacked by broker" and third.attempts == 1
        ch.queue_purge(full)  # room again: the next passes publish the rest, two at a time
        while relay.publish_batch(channel):
            ch.queue_purge(full)
    finally:
        channel.close()
        ch.queue_delete(full)
        conn.close()
    assert marked(engine, metadata) == [e.id for e in envs]
    got = drain(AMQP_URL, topology.names(settings, "activity")["queue"])
    # Nacked copies may still have reached the queues that had room: duplicates, never a gap,
    # and the first copy of each event arrives in outbox order.
    assert list(dict.fromkeys(got)) == [e.id for e in envs]


@pytest.fixture
def own_broker():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    b = DedicatedBroker(port).start()
    yield b
    b.stop()


def test_a_broker_lost_mid_window_costs_duplicates_never_a_lost_event(own_broker, prefix):
    metadata = MetaData()
    add_messaging_tables(metadata)
    seen = Table("seen", metadata, Column("duty_id", String, primary_key=True), Column("count", Integer))
    with fresh_database("relay_drop") as url, fresh_database("relay_drop_consumer") as r_url:
        engine, r_engine = create_engine(url), create_engine(r_url)
        metadata.create_all(engine)
        metadata.create_all(r_engine)
        settings = Settings(service="organization", database_url=url, queue_prefix=prefix, amqp_url=own_broker.url,
                            relay_batch=3000)
        envs = store(engine, metadata, 3000)
        declared(settings, own_broker.url).close()

        class DroppingChannel(PipelinedChannel):
            """Kills the broker as soon as the first confirm arrives: the rest of the window is
            outstanding when the connection goes."""

            def _on_confirm(self, frame):
                super()._on_confirm(frame)
                if not getattr(self, "dropped", False):
                    self.dropped = True
                    own_broker.kill()

        relay = Relay(settings, engine, metadata)
        channel = DroppingChannel(own_broker.url)
        with pytest.raises(pika.exceptions.AMQPError):
            relay.publish_batch(channel)
        first = marked(engine, metadata)
        assert 0 < len(first) < len(envs)  # only what was confirmed before the drop
        assert first == [e.id for e in envs[:len(first)]]

        own_broker.start()
        channel = PipelinedChannel(own_broker.url)
        try:
            while relay.publish_batch(channel):
                pass
        finally:
            channel.close()
        assert marked(engine, metadata) == [e.id for e in envs]

        # The consumer side: whatever arrived twice is applied once.
        r_settings = Settings(service="activity", database_url=r_url, queue_prefix=prefix, amqp_url=own_broker.url)

        def on_duty(uow, event):
            duty_id = event.data.duty_id
            row = uow.session.execute(select(seen.c.count).where(seen.c.duty_id == duty_id)).scalar()
            if row is None:
                uow.session.execute(insert(seen).values(duty_id=duty_id, count=1))
            else:
                uow.session.execute(seen.update().where(seen.c.duty_id == duty_id).values(count=row + 1))

        consumer = Consumer(r_settings, make_session_factory(r_engine), metadata, {"duty.published": on_duty})
        t = threading.Thread(target=consumer.run, daemon=True)
        t.start()
        try:
            def applied():
                with r_engine.connect() as c:
                    return c.execute(select(func.count()).select_from(seen)).scalar() == len(envs)

            wait_until(applied, timeout=120, what="every event applied")

            def queue_empty():
                c = pika.BlockingConnection(pika.URLParameters(own_broker.url))
                try:
                    q = topology.names(r_settings, "activity")["queue"]
                    return c.channel().queue_declare(q, passive=True).method.message_count == 0
                finally:
                    c.close()

            wait_until(queue_empty, timeout=60, what="duplicates drained")
        finally:
            consumer.stopping.set()
            t.join(10)
        with r_engine.connect() as c:
            assert c.execute(select(func.max(seen.c.count))).scalar() == 1
        engine.dispose()
        r_engine.dispose()
