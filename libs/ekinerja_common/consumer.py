"""The event consumer: a process per service that applies incoming events to its database.

Each message is handled in one transaction that also records its id in ``processed_messages``;
the message is acknowledged only after that commit. When the broker has handed over more
messages than the one in hand (a backlog), up to ``consumer_batch`` of them are applied in one
transaction and acknowledged together after its commit (``deliver_batch``); should anything in
the batch fail, the batch is rolled back and its messages go through one at a time, so that
retries and dead-lettering stay per message. Within a batch, a run of consecutive events whose
handler declares a batch form (``batch_form``) is applied by that form in one go. A redelivered
message finds its id and is acknowledged without effect. A handler that fails is retried after a
delay (through the ``.retry`` queue) up to ``consumer_max_retries`` times, then dead-lettered to
``<service>.events.dead`` with ``x-death-reason`` (``retries_exhausted``, ``unrecoverable``,
``malformed_body``, ``malformed_header``) where an operator inspects it and replays it with
``python -m <service> replay-dead-letters`` (ekinerja_common.deadletters). On SIGTERM the consumer
finishes the message in hand, cancels (unacked prefetched messages return to the queue) and exits.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime, timezone
from typing import Callable

import pika
import pika.exceptions
from prometheus_client import Counter, Histogram
from sqlalchemy import MetaData, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from . import events, topology
from .config import Settings
from .envelope import Envelope, utcnow
from .errors import Unrecoverable
from .logs import request_id_var
from .metrics import health, start_metrics_server
from .outbox import OUTBOX, PROCESSED
from .uow import UnitOfWork, bind_publisher

log = logging.getLogger("ekinerja.consumer")

# A handler gets the unit of work of the message's transaction (``uow.session``, ``uow.publish``)
# and the event with its data parsed into the catalogue's model; it raises Unrecoverable to send
# the message straight to the dead-letter queue.
Handler = Callable[[UnitOfWork, events.Event], None]
# A handler's batch form (``batch_form``): the handler's arguments for a run of consecutive events
# of its type in one batch, in delivery order (each event with its own unit of work, for its
# correlation id); it must leave the same rows as the handler applied to each in turn.
BatchHandler = Callable[[list[tuple[UnitOfWork, events.Event]]], None]


def batch_form(batch: BatchHandler) -> Callable[[Handler], Handler]:
    """Declares ``batch`` as the handler's batch form, which ``Consumer.apply_many`` uses for runs
    of the handler's events in a backlog (a few statements for the run instead of a few per
    event). The handler stays what a lone delivery, and a batch's one-at-a-time fallback, use."""
    def declare(handler: Handler) -> Handler:
        handler.batch = batch  # type: ignore[attr-defined]
        return handler
    return declare


def _no_session_publisher(event_type: str, data) -> Envelope:
    raise RuntimeError("a batch handler publishes through each event's unit of work")

HANDLED = Counter("ekinerja_consumer_messages_total", "Messages by outcome", ["service", "type", "outcome"])
DURATION = Histogram("ekinerja_consumer_handle_seconds", "Time to handle one message", ["service", "type"])
LAG = Histogram("ekinerja_consumer_lag_seconds", "From the event's occurred_at to its effect committed here",
                ["service", "type"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400))

RETRIES_HEADER = "x-retries"
DEATH_REASON_HEADER = "x-death-reason"
DEATH_ERROR_HEADER = "x-death-error"
DEAD_LETTERED = Counter("ekinerja_consumer_dead_lettered_total", "Messages moved to the dead-letter queue, by reason",
                        ["service", "reason"])


def retry_count(headers: dict | None) -> int | None:
    """How often the message was retried already (0 if never), or None when the header holds
    something no consumer writes."""
    value = (headers or {}).get(RETRIES_HEADER, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


class Consumer:
    def __init__(self, settings: Settings, session_factory: sessionmaker[Session], metadata: MetaData,
                 handlers: dict[str, Handler]):
        self.settings = settings
        self.session_factory = session_factory
        self.metadata = metadata
        self.processed = metadata.tables[PROCESSED]
        self.outbox = metadata.tables[OUTBOX]
        self.handlers = handlers
        self.stopping = threading.Event()
        self.names = topology.names(settings, settings.service)

    def apply(self, env: Envelope) -> str:
        """Apply one event exactly once. Returns ``handled``, ``duplicate`` or ``ignored``.
        Raises whatever the handler raises (the transaction is then rolled back), and
        Unrecoverable for data that does not fit its type's model (no retry would change it)."""
        with self.session_factory() as session, session.begin():
            seen = session.execute(select(self.processed.c.id).where(self.processed.c.id == env.id)).first()
            if seen:
                return "duplicate"
            return self._apply_in(session, env)

    def apply_many(self, envs: list[Envelope]) -> list[str]:
        """Apply events in one transaction, each exactly once (``apply``'s outcomes, in order).
        Raises whatever a handler raises; then nothing of the batch is committed."""
        outcomes: list[str] = []
        with self.session_factory() as session, session.begin():
            seen = set(session.scalars(select(self.processed.c.id).where(
                self.processed.c.id.in_([env.id for env in envs]))))
            done = []
            # Consecutive events whose handler has a batch form go to it together, so that the
            # order of all events stays the order of delivery.
            run: list[tuple[UnitOfWork, events.Event]] = []
            for env in envs:
                if env.id in seen:  # processed before, or earlier in this very batch
                    outcomes.append("duplicate")
                    continue
                seen.add(env.id)
                batch = getattr(self.handlers.get(env.type), "batch", None)
                if run and (batch is None or env.type != run[0][1].type):
                    self._apply_run(session, run)
                    run = []
                if batch is not None:
                    run.append(self._joined(session, env))
                    outcomes.append("handled")
                else:
                    token = request_id_var.set(env.correlation_id or env.id)
                    try:
                        outcomes.append(self._apply_in(session, env, record=False))
                    finally:
                        request_id_var.reset(token)
                done.append({"id": env.id, "type": env.type, "processed_at": utcnow()})
            if run:
                self._apply_run(session, run)
            if done:  # the batch's log in one statement (an executemany, pipelined by the driver)
                # Without flushing the handlers' new rows first: a read model may still complete
                # them before the commit (approval's supervisor) and insert them as they are then.
                with session.no_autoflush:
                    session.execute(insert(self.processed), done)
        return outcomes

    def _joined(self, session: Session, env: Envelope) -> tuple[UnitOfWork, events.Event]:
        """The event parsed, with the unit of work its handler publishes through: its events carry
        the incoming event's correlation id and commit with its effect, or not at all."""
        try:
            event = events.parse(env)
        except ValueError as exc:
            raise Unrecoverable(f"{env.type} data does not fit its catalogue model: {exc}") from exc
        return UnitOfWork.joining(session, self.metadata, self.settings.service, env.correlation_id or env.id), event

    def _apply_run(self, session: Session, run: list[tuple[UnitOfWork, events.Event]]) -> None:
        # Code reaching for the session's publisher inside a run would get no event's correlation id.
        bind_publisher(session, _no_session_publisher)
        self.handlers[run[0][1].type].batch(run)  # type: ignore[attr-defined]

    def _apply_in(self, session: Session, env: Envelope, record: bool = True) -> str:
        """Run the event's handler in the session's transaction and (``record``) log the event as
        processed."""
        handler = self.handlers.get(env.type)
        if handler is not None:
            uow, event = self._joined(session, env)
            bind_publisher(session, uow.publish)
            handler(uow, event)
        if record:
            session.execute(insert(self.processed).values(id=env.id, type=env.type, processed_at=utcnow()))
        return "handled" if handler else "ignored"

    def deliver_batch(self, channel, deliveries: list[tuple]) -> list[str]:
        """Handle several deliveries ``(method, props, body)`` in one transaction, then ack them
        all at once (never before the commit). Any failure — a handler's, the database's, a
        malformed message — rolls the batch back and sends each through ``deliver`` on its own."""
        if len(deliveries) == 1:
            return [self.deliver(channel, *deliveries[0])]
        start = time.perf_counter()
        try:
            envs = [Envelope.from_json(body) for _, _, body in deliveries]
            outcomes = self.apply_many(envs)
        except OperationalError as exc:
            # The database is unreachable: as ``deliver`` does, one pause, all back to the queue.
            log.warning("batch of %d: database unavailable (%s); requeued", len(deliveries), exc)
            self.stopping.wait(1.0)
            channel.basic_nack(deliveries[-1][0].delivery_tag, multiple=True, requeue=True)
            return ["requeued"] * len(deliveries)
        except Exception as exc:  # noqa: BLE001 - whatever it was, one at a time decides per message
            log.info("batch of %d rolled back (%s); one at a time", len(deliveries), exc)
            return [self.deliver(channel, *d) for d in deliveries]
        # Earlier deliveries of this channel are all acked or nacked: multiple acks exactly these.
        channel.basic_ack(deliveries[-1][0].delivery_tag, multiple=True)
        elapsed = (time.perf_counter() - start) / len(deliveries)
        for env, outcome in zip(envs, outcomes):
            DURATION.labels(self.settings.service, env.type).observe(elapsed)
            HANDLED.labels(self.settings.service, env.type, outcome).inc()
            if outcome == "handled":
                self._observe_lag(env)
        return outcomes

    def deliver_waiting(self, channel, method, props, body: bytes) -> list[str]:
        """Handle this delivery together with those the broker already handed over (up to
        ``consumer_batch``), without waiting for more."""
        deliveries = [(method, props, body)]
        waiting = min(channel.get_waiting_message_count(), self.settings.consumer_batch - 1)
        consuming = channel.consume(self.names["queue"], inactivity_timeout=0.5)
        for _ in range(waiting):
            more = next(consuming)
            if more[0] is None:
                break
            deliveries.append(more)
        return self.deliver_batch(channel, deliveries)

    def deliver(self, channel, method, props, body: bytes) -> str:
        """Handle one delivery and ack/retry/dead-letter it. Returns the outcome. Never raises
        for something in the message: a message that cannot be handled goes to the dead-letter
        queue with its reason, so that one bad message cannot stop the queue."""
        try:
            env = Envelope.from_json(body)
        except (ValueError, TypeError) as exc:
            log.error("malformed message %s dead-lettered: %s", getattr(props, "message_id", None), exc)
            self.dead_letter(channel, method, props, body, "malformed_body", exc)
            HANDLED.labels(self.settings.service, "?", "malformed").inc()
            return "malformed"
        token = request_id_var.set(env.correlation_id or env.id)
        start = time.perf_counter()
        try:
            outcome = self._handle(channel, method, props, body, env)
        finally:
            DURATION.labels(self.settings.service, env.type).observe(time.perf_counter() - start)
            request_id_var.reset(token)
        HANDLED.labels(self.settings.service, env.type, outcome).inc()
        if outcome == "handled":
            self._observe_lag(env)
        return outcome

    def _handle(self, channel, method, props, body: bytes, env: Envelope) -> str:
        try:
            try:
                outcome = self.apply(env)
            except IntegrityError:
                # Another replica recorded the same id meanwhile: the effect exists already.
                if self._already_processed(env.id):
                    outcome = "duplicate"
                else:
                    raise
            channel.basic_ack(method.delivery_tag)
            return outcome
        except OperationalError as exc:
            # The database is unreachable: not the message's fault, so it does not use up a retry.
            # Back to the queue after a pause; the broker redelivers it.
            log.warning("%s %s: database unavailable (%s); requeued", env.type, env.id, exc)
            self.stopping.wait(1.0)
            channel.basic_nack(method.delivery_tag, requeue=True)
            return "requeued"
        except Unrecoverable as exc:
            # No retry can cure it: straight to the dead-letter queue, the queue keeps flowing.
            log.error("%s %s cannot be applied, dead-lettered: %s", env.type, env.id, exc)
            self.dead_letter(channel, method, props, body, "unrecoverable", exc)
            return "unrecoverable"
        except (pika.exceptions.AMQPError, OSError):
            raise  # the broker connection, not the message: run() reconnects
        except Exception as exc:  # the handler failed: retry later, then dead-letter
            retries = retry_count(props.headers)
            if retries is None:
                # A retry counter nobody could have written (x-retries: "two"): the message is
                # damaged, retrying would only fail the same way.
                log.error("%s %s has a malformed %s header %r, dead-lettered: %s", env.type, env.id,
                          RETRIES_HEADER, (props.headers or {}).get(RETRIES_HEADER), exc)
                self.dead_letter(channel, method, props, body, "malformed_header", exc)
                return "unrecoverable"
            if retries >= self.settings.consumer_max_retries:
                log.error("%s %s failed %d times, dead-lettered: %s", env.type, env.id, retries + 1, exc)
                self.dead_letter(channel, method, props, body, "retries_exhausted", exc)
                return "dead"
            headers = dict(props.headers or {})
            headers[RETRIES_HEADER] = retries + 1
            retry_props = pika.BasicProperties(
                message_id=props.message_id, type=props.type, content_type=props.content_type,
                delivery_mode=pika.DeliveryMode.Persistent, headers=headers,
                # Back off exponentially: 1x, 2x, 4x ... the configured delay.
                expiration=str(self.settings.retry_delay_ms * 2 ** retries),
            )
            # Publish the retry copy (confirmed) before acking the original: a crash in between
            # leaves two copies, and the processed-message log makes the second one a no-op.
            channel.basic_publish("", self.names["retry"], body, retry_props)
            channel.basic_ack(method.delivery_tag)
            log.warning("%s %s failed (attempt %d), retrying: %s", env.type, env.id, retries + 1, exc)
            return "retried"

    def dead_letter(self, channel, method, props, body: bytes, reason: str, exc: BaseException | None) -> None:
        """Move the message to ``<service>.events.dead`` with why (``x-death-reason``, the error
        in ``x-death-error``): a confirmed copy first, then the ack of the original, so it is never
        lost (a crash in between leaves a copy in both; the replay then finds it processed)."""
        headers = dict(getattr(props, "headers", None) or {})
        headers[DEATH_REASON_HEADER] = reason
        headers[DEATH_ERROR_HEADER] = (f"{type(exc).__name__}: {exc}" if exc else "")[:500]
        headers["x-death-service"] = self.settings.service
        dead_props = pika.BasicProperties(
            message_id=getattr(props, "message_id", None), type=getattr(props, "type", None),
            content_type=getattr(props, "content_type", None) or "application/json",
            delivery_mode=pika.DeliveryMode.Persistent, headers=headers)
        channel.basic_publish("", self.names["dead"], body, dead_props)
        channel.basic_ack(method.delivery_tag)
        DEAD_LETTERED.labels(self.settings.service, reason).inc()

    def _observe_lag(self, env: Envelope) -> None:
        try:
            occurred = datetime.fromisoformat(env.occurred_at.replace("Z", "+00:00"))
        except ValueError:
            return
        if occurred.tzinfo is None:
            occurred = occurred.replace(tzinfo=timezone.utc)
        LAG.labels(self.settings.service, env.type).observe(max(0.0, (utcnow() - occurred).total_seconds()))

    def _already_processed(self, message_id: str) -> bool:
        with self.session_factory() as session:
            return session.execute(select(self.processed.c.id).where(self.processed.c.id == message_id)).first() is not None

    def run(self) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                connection = pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url))
                try:
                    channel = connection.channel()
                    channel.confirm_delivery()
                    topology.declare(channel, self.settings)
                    channel.basic_qos(prefetch_count=self.settings.consumer_prefetch)
                    log.info("consumer %s listening on %s", self.settings.service, self.names["queue"])
                    health.set_connected(True)
                    backoff = 0.5
                    for method, props, body in channel.consume(self.names["queue"], inactivity_timeout=0.5):
                        health.beat()
                        if self.stopping.is_set():
                            break
                        if method is None:
                            continue
                        self.deliver_waiting(channel, method, props, body)
                    # Unacked prefetched messages go back to the queue for the next consumer.
                    channel.cancel()
                finally:
                    if connection.is_open:
                        connection.close()
            except Exception as exc:  # noqa: BLE001 - every broker failure mode, not only AMQPError/OSError
                # A broker that accepts TCP but never speaks AMQP raises AMQPConnectorStackTimeout
                # (neither AMQPError nor OSError); a half-open socket, a channel closed by the
                # broker, a bug in a path above: whatever it is, the consumer must stay and try
                # again (unacked messages went back to the queue with the connection).
                health.set_connected(False, f"broker unavailable: {exc!r}"[:200])
                log.warning("consumer %s: broker unavailable (%r); retrying in %.1fs", self.settings.service, exc, backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 15.0)
        log.info("consumer %s stopped", self.settings.service)

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())


def serve(settings: Settings, session_factory: sessionmaker[Session], metadata: MetaData,
          handlers: dict[str, Handler]) -> None:
    start_metrics_server(settings)
    consumer = Consumer(settings, session_factory, metadata, handlers)
    consumer.install_signal_handlers()
    consumer.run()
