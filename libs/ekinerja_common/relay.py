"""The outbox relay: a process per service that publishes stored events to RabbitMQ.

Guarantees (DESIGN.md §3): persistent messages, publisher confirms, ``mandatory``; a row is marked
published only after the broker confirmed it, so a crash anywhere means the row is sent again
(at least once) and consumers deduplicate by id. Broker outages are waited out with backoff.

Confirms are pipelined (issue 13): a batch of rows is published without waiting, up to
``relay_batch`` messages outstanding, and the confirms are collected as they arrive
(:class:`PipelinedChannel`, a pika ``SelectConnection`` driven from the relay's thread). Waiting
for each confirm in turn capped the relay at one broker round trip plus fsync per event.
Rows are published in outbox order on one channel, so the broker keeps their order; a batch is
marked up to its first row that was not acked (nack, or no confirm before the connection went
away): that row and every later one stay pending and go out again, in order, with the next batch.
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


class PipelinedChannel:
    """A confirm-mode channel whose ``publish`` does not wait: ``publish`` returns the delivery
    tag, ``wait`` pumps the connection until the given tags are confirmed (or the timeout, or the
    connection is lost: then it raises). Acked tags land in ``acked``, nacked ones in ``nacked``;
    ``returned`` holds the message ids the broker returned as unroutable (they are acked too).

    A pika ``SelectConnection`` whose I/O loop this object turns itself (``poll`` and
    ``process_timeouts``), so the relay stays one thread with blocking database calls between."""

    def __init__(self, amqp_url: str, open_timeout: float = 15.0):
        self.acked: set[int] = set()
        self.nacked: set[int] = set()
        self.returned: set[str] = set()
        self.outstanding: set[int] = set()
        self._next_tag = 1
        self._channel = None
        self._confirming = False
        self._error: Exception | None = None
        params = pika.URLParameters(amqp_url)
        self._conn = pika.SelectConnection(params, on_open_callback=self._on_open,
                                           on_open_error_callback=self._on_open_error,
                                           on_close_callback=self._on_closed)
        self._conn.ioloop.activate_poller()  # what IOLoop.start() would do; this thread turns it
        try:
            self._pump_until(lambda: self._confirming, open_timeout, "channel in confirm mode")
        except BaseException:
            self.close()
            raise

    # -- pika callbacks ---------------------------------------------------------------------
    def _on_open(self, conn) -> None:
        conn.channel(on_open_callback=self._on_channel)

    def _on_open_error(self, _conn, exc) -> None:
        self._error = exc if isinstance(exc, Exception) else pika.exceptions.AMQPConnectionError(str(exc))

    def _on_closed(self, _conn, reason) -> None:
        self._error = self._error or (reason if isinstance(reason, Exception)
                                      else pika.exceptions.AMQPConnectionError(str(reason)))

    def _on_channel(self, channel) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm,
                                 callback=lambda _frame: setattr(self, "_confirming", True))

    def _on_channel_closed(self, _channel, reason) -> None:
        self._error = self._error or pika.exceptions.ChannelClosed(0, str(reason))
        if self._conn.is_open:
            self._conn.close()

    def _on_return(self, _channel, _method, props, _body) -> None:
        self.returned.add(props.message_id)

    def _on_confirm(self, frame) -> None:
        method = frame.method
        if method.multiple:
            tags = {t for t in self.outstanding if t <= method.delivery_tag}
        else:
            tags = {method.delivery_tag} & self.outstanding
        self.outstanding -= tags
        (self.acked if isinstance(method, pika.spec.Basic.Ack) else self.nacked).update(tags)

    # -- driving the I/O loop ---------------------------------------------------------------
    def _raise_if_broken(self) -> None:
        if self._error is not None:
            raise self._error if isinstance(self._error, pika.exceptions.AMQPError) else \
                pika.exceptions.AMQPConnectionError(repr(self._error))

    def _turn(self, max_wait: float) -> None:
        # A timer bounds the poll: without one pika's poller may sleep up to five seconds.
        timer = self._conn.ioloop.call_later(max(0.0, max_wait), lambda: None)
        try:
            self._conn.ioloop.poll()
            self._conn.ioloop.process_timeouts()
        finally:
            self._conn.ioloop.remove_timeout(timer)

    def _pump_until(self, done, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            self._raise_if_broken()
            left = deadline - time.monotonic()
            if left <= 0:
                raise pika.exceptions.AMQPConnectionError(f"no {what} within {timeout:.0f}s")
            self._turn(min(left, 0.5))
        self._raise_if_broken()

    # -- the publisher's side ---------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._error is None and self._conn.is_open

    def publish(self, exchange: str, routing_key: str, body: str | bytes, props: pika.BasicProperties) -> int:
        self._raise_if_broken()
        self._channel.basic_publish(exchange, routing_key, body, props, mandatory=True)
        tag, self._next_tag = self._next_tag, self._next_tag + 1
        self.outstanding.add(tag)
        return tag

    def wait(self, tags: set[int], timeout: float) -> None:
        """Until every tag in ``tags`` is acked or nacked; raises if the connection breaks or the
        timeout passes first (what was confirmed until then stays in ``acked``)."""
        self._pump_until(lambda: not (tags & self.outstanding), timeout, "confirm")

    def sleep(self, seconds: float) -> None:
        """Wait while answering heartbeats."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._raise_if_broken()
            self._turn(min(left, 0.5))

    def close(self) -> None:
        if self._conn.is_open:
            self._conn.close()
        try:
            self._pump_until(lambda: self._conn.is_closed, 5.0, "close")
        except pika.exceptions.AMQPError:
            pass
        finally:
            self._conn.ioloop.deactivate_poller()
            self._conn.ioloop.close()


class BlockingPublisher:
    """The same interface over a ``BlockingChannel`` in confirm mode (each publish waits for its
    confirm): for callers and tests that hold a blocking channel."""

    def __init__(self, channel):
        self.channel = channel
        self.acked: set[int] = set()
        self.nacked: set[int] = set()
        self.returned: set[str] = set()
        self._next_tag = 1

    def publish(self, exchange, routing_key, body, props) -> int:
        tag, self._next_tag = self._next_tag, self._next_tag + 1
        try:
            self.channel.basic_publish(exchange, routing_key, body, props, mandatory=True)
            self.acked.add(tag)
        except pika.exceptions.UnroutableError:
            self.returned.add(props.message_id)
            self.acked.add(tag)
        except pika.exceptions.NackError:
            self.nacked.add(tag)
        return tag

    def wait(self, tags, timeout) -> None:
        return None


class Relay:
    def __init__(self, settings: Settings, engine: Engine, metadata: MetaData):
        self.settings = settings
        self.engine = engine
        self.outbox = metadata.tables[OUTBOX]
        self.stopping = threading.Event()
        self.names = topology.names(settings, settings.service)
        self.confirm_timeout = 30.0
        for reason in ("nack", "connection", "error"):  # exposed at 0 from the start, for dashboards
            FAILURES.labels(settings.service, reason)

    # -- one pass ---------------------------------------------------------------------------
    def publish_batch(self, channel) -> int:
        """Publish up to one batch (``relay_batch`` rows, all outstanding at once) and mark the
        confirmed ones; returns how many rows were marked. ``channel`` is a
        :class:`PipelinedChannel` or a blocking channel in confirm mode."""
        if isinstance(channel, PipelinedChannel):
            publisher = channel
            publisher.acked.clear(), publisher.nacked.clear(), publisher.returned.clear()
        else:
            publisher = BlockingPublisher(channel)
        o = self.outbox
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(o.c.seq, o.c.id, o.c.type, o.c.body, o.c.correlation_id)
                .where(o.c.published_at.is_(None))
                .order_by(o.c.seq)
                .limit(self.settings.relay_batch)
                # Several relay replicas (k8s) each take disjoint rows; SQLite ignores this.
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            sent: list[tuple[object, int]] = []
            started = time.perf_counter()
            broken: BaseException | None = None
            try:
                for row in rows:
                    props = pika.BasicProperties(
                        message_id=row.id, type=row.type, content_type="application/json",
                        delivery_mode=pika.DeliveryMode.Persistent,
                        headers={"x-request-id": row.correlation_id or ""},
                        timestamp=int(time.time()),
                    )
                    sent.append((row, publisher.publish(self.names["exchange"], row.type, row.body, props)))
                    if publisher.nacked:
                        break  # (blocking channel) a later row must not overtake this one
                publisher.wait({tag for _, tag in sent}, self.confirm_timeout)
            except (pika.exceptions.AMQPError, OSError) as exc:
                # What was confirmed before the connection went away is still marked below.
                broken = exc
            CONFIRM.labels(self.settings.service).observe((time.perf_counter() - started) / max(1, len(sent)))
            done = []
            for row, tag in sent:
                if tag not in publisher.acked:
                    if tag in publisher.nacked:
                        FAILURES.labels(self.settings.service, "nack").inc()
                        conn.execute(update(o).where(o.c.seq == row.seq).values(
                            attempts=o.c.attempts + 1, last_error="nacked by broker"))
                    break  # keep order: this row and every later one go out again, in order
                done.append(row)
            now = utcnow()
            for start in range(0, len(done), 1000):
                conn.execute(update(o).where(o.c.seq.in_([r.seq for r in done[start:start + 1000]]))
                             .values(published_at=now, attempts=o.c.attempts + 1))
            for row in done:
                if row.id in publisher.returned:
                    # Confirmed but no queue wants it: every consumer's queue is declared from the
                    # catalogue before publishing, so this only happens for an event nobody consumes.
                    UNROUTED.labels(self.settings.service, row.type).inc()
                    log.warning("event %s (%s) matched no queue", row.id, row.type)
                PUBLISHED.labels(self.settings.service, row.type).inc()
        if broken is not None:
            raise broken
        return len(done)

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
                self._declare_topology()
                channel = PipelinedChannel(self.settings.amqp_url)
                try:
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
                            channel.sleep(self.settings.relay_poll_seconds)
                finally:
                    channel.close()
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

    def _declare_topology(self) -> None:
        """Every queue exists before the first publish (a blocking connection of its own: the
        declarations are request/response, publishing is what needs the pipelined one)."""
        connection = pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url))
        try:
            topology.declare(connection.channel(), self.settings)
        finally:
            if connection.is_open:
                connection.close()

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())


def serve(settings: Settings, engine: Engine, metadata: MetaData) -> None:
    start_metrics_server(settings)
    relay = Relay(settings, engine, metadata)
    relay.install_signal_handlers()
    relay.run()
