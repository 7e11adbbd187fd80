"""The outbox relay: a process per service that publishes stored events to RabbitMQ.

Guarantees (DESIGN.md §3): persistent messages, publisher confirms, ``mandatory``; a row is marked
published only after the broker confirmed it, so a crash anywhere means the row is sent again
(at least once) and consumers deduplicate by id. Broker outages are waited out with backoff.
"""
from __future__ import annotations

import logging
import signal
import threading
import time

import pika
import pika.exceptions
from prometheus_client import Counter, Gauge, Histogram

from .metrics import health, start_metrics_server
from sqlalchemy import Engine, MetaData, func, select, update

from .config import Settings
from .envelope import utcnow
from .outbox import OUTBOX
from . import topology

log = logging.getLogger("ekinerja.relay")

PUBLISHED = Counter("ekinerja_relay_published_total", "Events published and confirmed", ["service", "type"])
UNROUTED = Counter("ekinerja_relay_unrouted_total", "Events confirmed but bound to no queue", ["service", "type"])
FAILURES = Counter("ekinerja_relay_failures_total", "Publish attempts that failed", ["service", "reason"])
PENDING = Gauge("ekinerja_relay_pending", "Outbox rows not yet published", ["service"])
OLDEST = Gauge("ekinerja_relay_oldest_pending_seconds", "Age of the oldest unpublished outbox row", ["service"])
CONFIRM = Histogram("ekinerja_relay_confirm_seconds", "From publish to the broker's confirm, per event", ["service"],
                    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5))


class Relay:
    def __init__(self, settings: Settings, engine: Engine, metadata: MetaData):
        self.settings = settings
        self.engine = engine
        self.outbox = metadata.tables[OUTBOX]
        self.stopping = threading.Event()
        self.names = topology.names(settings, settings.service)
        for reason in ("nack", "connection", "error"):  # exposed at 0 from the start, for dashboards
            FAILURES.labels(settings.service, reason)

    # -- one pass ---------------------------------------------------------------------------
    def publish_batch(self, channel) -> int:
        """Publish up to one batch; returns how many rows were confirmed."""
        o = self.outbox
        done = 0
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(o.c.seq, o.c.id, o.c.type, o.c.body, o.c.correlation_id)
                .where(o.c.published_at.is_(None))
                .order_by(o.c.seq)
                .limit(self.settings.relay_batch)
                # Several relay replicas (k8s) each take disjoint rows; SQLite ignores this.
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                props = pika.BasicProperties(
                    message_id=row.id, type=row.type, content_type="application/json",
                    delivery_mode=pika.DeliveryMode.Persistent,
                    headers={"x-request-id": row.correlation_id or ""},
                    timestamp=int(time.time()),
                )
                sent_at = time.perf_counter()
                try:
                    # In confirm mode this returns once the broker confirmed (or raises).
                    channel.basic_publish(self.names["exchange"], row.type, row.body, props, mandatory=True)
                    CONFIRM.labels(self.settings.service).observe(time.perf_counter() - sent_at)
                except pika.exceptions.UnroutableError:
                    # Confirmed but no queue wants it: every consumer's queue is declared from the
                    # catalogue before publishing, so this only happens for an event nobody consumes.
                    UNROUTED.labels(self.settings.service, row.type).inc()
                    log.warning("event %s (%s) matched no queue", row.id, row.type)
                except pika.exceptions.NackError:
                    FAILURES.labels(self.settings.service, "nack").inc()
                    conn.execute(update(o).where(o.c.seq == row.seq).values(
                        attempts=o.c.attempts + 1, last_error="nacked by broker"))
                    break  # keep order: retry this row before any later one
                conn.execute(update(o).where(o.c.seq == row.seq).values(published_at=utcnow(), attempts=o.c.attempts + 1))
                PUBLISHED.labels(self.settings.service, row.type).inc()
                done += 1
        return done

    def refresh_gauges(self) -> None:
        o = self.outbox
        with self.engine.connect() as conn:
            count, oldest = conn.execute(
                select(func.count(), func.min(o.c.created_at)).where(o.c.published_at.is_(None))
            ).one()
        PENDING.labels(self.settings.service).set(count)
        if oldest is not None and oldest.tzinfo is None:  # SQLite returns naive UTC
            oldest = oldest.replace(tzinfo=utcnow().tzinfo)
        OLDEST.labels(self.settings.service).set((utcnow() - oldest).total_seconds() if oldest else 0)

    def refresh_gauges_quietly(self) -> None:
        try:
            self.refresh_gauges()
        except Exception:  # noqa: BLE001 - the database may be down too; the gauges then keep their last value
            log.debug("relay %s: gauges not refreshed", self.settings.service, exc_info=True)

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                connection = pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url))
                try:
                    channel = connection.channel()
                    channel.confirm_delivery()
                    topology.declare(channel, self.settings)
                    log.info("relay %s connected", self.settings.service)
                    health.set_connected(True)
                    backoff = 0.5
                    last_gauge = 0.0
                    while not self.stopping.is_set():
                        health.beat()
                        sent = self.publish_batch(channel)
                        if time.monotonic() - last_gauge > 5:
                            self.refresh_gauges()
                            last_gauge = time.monotonic()
                        if sent == 0:
                            # Sleep in the broker's loop so heartbeats are answered meanwhile.
                            connection.sleep(self.settings.relay_poll_seconds)
                finally:
                    if connection.is_open:
                        connection.close()
            except (pika.exceptions.AMQPError, OSError) as exc:
                FAILURES.labels(self.settings.service, "connection").inc()
                health.set_connected(False, f"broker unavailable: {exc!r}"[:200])
                self.refresh_gauges_quietly()  # the backlog must stay visible while the broker is down
                log.warning("relay %s: broker unavailable (%s); retrying in %.1fs", self.settings.service, exc, backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 15.0)
            except Exception:  # database down or a bug: keep the process alive and retry
                FAILURES.labels(self.settings.service, "error").inc()
                health.set_connected(False, "error (see log)")
                self.refresh_gauges_quietly()
                log.exception("relay %s failed; retrying in %.1fs", self.settings.service, backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 15.0)
        log.info("relay %s stopped", self.settings.service)

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())


def serve(settings: Settings, engine: Engine, metadata: MetaData) -> None:
    start_metrics_server(settings)
    relay = Relay(settings, engine, metadata)
    relay.install_signal_handlers()
    relay.run()
