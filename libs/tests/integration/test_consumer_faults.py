"""The consumer against every broker failure mode and against messages no retry can cure
(issue 9 items 18 and 20), with a real RabbitMQ and PostgreSQL; and the dead-letter replay."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pika
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

from ekinerja_common import topology
from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.db import make_session_factory
from ekinerja_common.deadletters import replay
from ekinerja_common.envelope import Envelope
from ekinerja_common.errors import Unrecoverable
from ekinerja_common.metrics import health
from ekinerja_common.outbox import add_messaging_tables
from ekinerja_common.testing import AMQP_URL, SilentListener, delete_prefixed_topology, fresh_database, queue_prefix, wait_until

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def prefix():
    p = queue_prefix()
    yield p
    delete_prefixed_topology(p, ("identity", "organization", "activity", "approval", "payroll"))


@pytest.fixture
def receiver(prefix):
    metadata = MetaData()
    add_messaging_tables(metadata)
    seen = Table("seen", metadata, Column("duty_id", String, primary_key=True), Column("count", Integer))
    with fresh_database("consumer_faults") as url:
        engine = create_engine(url)
        metadata.create_all(engine)
        settings = Settings(service="activity", database_url=url, queue_prefix=prefix, retry_delay_ms=100,
                            consumer_max_retries=2)
        yield settings, engine, metadata, seen
        engine.dispose()


def envelope(n: int) -> Envelope:
    return Envelope("duty.published", "organization", {"duty_id": f"d{n}", "position_id": "p", "description": "x",
                                                         "output_unit": "u", "norma_waktu": n, "version": 1})


def send(settings, env: Envelope, headers: dict | None = None) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        topology.declare(ch, settings)
        ch.basic_publish("", topology.names(settings, settings.service)["queue"], env.to_json(),
                         pika.BasicProperties(message_id=env.id, type=env.type, delivery_mode=2, headers=headers))
    finally:
        conn.close()


def dead_letters(settings) -> list[tuple[dict, bytes]]:
    """The dead-letter queue's messages (looked at, left in place)."""
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        ch = conn.channel()
        got = []
        while True:
            method, props, body = ch.basic_get(topology.names(settings, settings.service)["dead"], auto_ack=False)
            if method is None:
                return got
            got.append((dict(props.headers or {}), body))
    finally:
        conn.close()


def applied(engine, seen, duty_id):
    with engine.connect() as conn:
        return conn.execute(select(seen.c.count).where(seen.c.duty_id == duty_id)).scalar()


def record(seen):
    def on_duty(uow, event):
        uow.session.execute(insert(seen).values(duty_id=event.data.duty_id, count=1))
    return on_duty


class Running:
    def __init__(self, consumer: Consumer):
        self.consumer = consumer
        self.thread = threading.Thread(target=consumer.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.consumer.stopping.set()
        self.thread.join(20)


def test_a_malformed_retry_header_goes_to_the_dead_letter_queue_and_the_queue_keeps_flowing(receiver):
    settings, engine, metadata, seen = receiver
    bad, good = envelope(1), envelope(2)

    def handler(uow, event):
        if event.data.duty_id == "d1":
            raise RuntimeError("a handler failure: the retry path reads the header")
        record(seen)(uow, event)

    send(settings, bad, headers={"x-retries": "two"})
    send(settings, good)
    with Running(Consumer(settings, make_session_factory(engine), metadata, {"duty.published": handler})) as run:
        wait_until(lambda: applied(engine, seen, "d2") == 1, timeout=20, what="the message behind the bad one")
        wait_until(lambda: len(dead_letters(settings)) == 1, timeout=20, what="the bad one dead-lettered")
        assert run.thread.is_alive()  # no crash, hence no crash loop
    headers, body = dead_letters(settings)[0]
    assert Envelope.from_json(body).id == bad.id
    assert headers["x-death-reason"] == "malformed_header"
    assert "RuntimeError" in headers["x-death-error"]


def test_an_unparseable_message_is_dead_lettered_with_its_reason(receiver):
    settings, engine, metadata, seen = receiver
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        ch = conn.channel()
        topology.declare(ch, settings)
        ch.basic_publish("", topology.names(settings, "activity")["queue"], b"{not json",
                         pika.BasicProperties(message_id="m-broken", delivery_mode=2))
    finally:
        conn.close()
    send(settings, envelope(3))
    with Running(Consumer(settings, make_session_factory(engine), metadata, {"duty.published": record(seen)})):
        wait_until(lambda: applied(engine, seen, "d3") == 1, timeout=20, what="the message behind the broken one")
        wait_until(lambda: len(dead_letters(settings)) == 1, timeout=20, what="the broken one dead-lettered")
    headers, body = dead_letters(settings)[0]
    assert body == b"{not json" and headers["x-death-reason"] == "malformed_body"


def test_dead_letters_are_replayed_after_the_fix_once_with_the_retry_counter_reset(receiver):
    settings, engine, metadata, seen = receiver
    fixed = threading.Event()

    def handler(uow, event):
        if not fixed.is_set():
            raise Unrecoverable("refers to a duty version never announced")
        record(seen)(uow, event)

    first, second = envelope(4), envelope(5)
    send(settings, first, headers={"x-retries": 1})
    send(settings, second)
    consumer = Consumer(settings, make_session_factory(engine), metadata, {"duty.published": handler})
    with Running(consumer):
        wait_until(lambda: len(dead_letters(settings)) == 2, timeout=20, what="both dead-lettered")
        assert {h["x-death-reason"] for h, _ in dead_letters(settings)} == {"unrecoverable"}

        dry = replay(settings, dry_run=True)
        assert (dry["matched"], dry["replayed"], dry["left"]) == (2, 0, 2)
        assert dry["by_type"] == {"duty.published": 2} and dry["by_reason"] == {"unrecoverable": 2}
        assert len(dead_letters(settings)) == 2  # a dry run moves nothing
        assert replay(settings, event_type="activity.approved")["matched"] == 0

        fixed.set()
        done = replay(settings)
        assert (done["matched"], done["replayed"], done["left"]) == (2, 2, 0)
        wait_until(lambda: applied(engine, seen, "d4") == 1 and applied(engine, seen, "d5") == 1, timeout=20,
                   what="the replayed messages applied")
    assert dead_letters(settings) == []
    # Replaying again (an operator's second run) finds nothing and doubles nothing.
    assert replay(settings)["replayed"] == 0
    assert applied(engine, seen, "d4") == 1


def test_the_replay_command_is_an_operator_command_of_every_service(receiver):
    settings, engine, metadata, seen = receiver
    send(settings, envelope(6))
    # Dead-letter by hand what a consumer would have.
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        ch = conn.channel()
        method, props, body = ch.basic_get(topology.names(settings, "activity")["queue"], auto_ack=False)
        ch.basic_publish("", topology.names(settings, "activity")["dead"], body,
                         pika.BasicProperties(type=props.type, delivery_mode=2,
                                              headers={"x-death-reason": "retries_exhausted", "x-retries": 5}))
        ch.basic_ack(method.delivery_tag)
    finally:
        conn.close()
    env = {**os.environ, "AMQP_URL": AMQP_URL, "QUEUE_PREFIX": settings.queue_prefix,
           "ACTIVITY_DATABASE_URL": settings.database_url}
    out = subprocess.run([sys.executable, "-m", "activity", "replay-dead-letters", "--type", "duty.published", "--dry-run"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert '"matched": 1' in out.stdout and '"replayed": 0' in out.stdout
    out = subprocess.run([sys.executable, "-m", "activity", "replay-dead-letters"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and '"replayed": 1' in out.stdout, out.stderr
    assert dead_letters(settings) == []
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        method, props, _ = conn.channel().basic_get(topology.names(settings, "activity")["queue"], auto_ack=True)
        assert method is not None and "x-retries" not in (props.headers or {}) and "x-death-reason" not in (props.headers or {})
    finally:
        conn.close()


def test_a_broker_that_never_speaks_amqp_does_not_end_the_consumer(receiver):
    """A TCP listener that accepts and stays silent (a frozen broker): pika gives up on each
    handshake (AMQPConnectorStackTimeout, neither AMQPError nor OSError); the consumer reports
    itself disconnected and tries again, with backoff, for as long as it runs."""
    settings, engine, metadata, seen = receiver
    with SilentListener() as silent:
        hung = Settings(service="activity", database_url=settings.database_url, queue_prefix=settings.queue_prefix,
                        amqp_url=f"amqp://guest:guest@127.0.0.1:{silent.port}/%2F?stack_timeout=1&socket_timeout=1"
                                 "&connection_attempts=1")
        with Running(Consumer(hung, make_session_factory(engine), metadata, {"duty.published": record(seen)})) as run:
            wait_until(lambda: silent.accepted >= 3, timeout=60, interval=0.2, what="the consumer to try again and again")
            assert run.thread.is_alive()
            assert not health.connected and "broker unavailable" in health.detail
