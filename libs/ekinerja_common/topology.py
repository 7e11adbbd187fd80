"""Declares the broker topology from the event catalogue (idempotent; both relay and consumer
run it on connect, so it does not matter which starts first)."""
from __future__ import annotations

import os

from .config import Settings
from .events import SERVICES, consumed_by


def names(settings: Settings, service: str) -> dict[str, str]:
    p = settings.queue_prefix
    q = f"{p}{service}.events"
    return {
        "exchange": p + settings.exchange,
        "dead_exchange": p + settings.dead_exchange,
        "queue": q,
        "retry": q + ".retry",
        "dead": q + ".dead",
    }


def declare(channel, settings: Settings, force: bool = False) -> None:
    """Declare everything (every service's queues, so that no event is unroutable whoever starts
    first). With EKINERJA_DECLARE_TOPOLOGY=none the broker already holds it (compose loads
    definitions, Kubernetes has the topology operator) and the service's user may not configure
    anything: nothing is declared (``force`` is for ekinerja_common.broker_definitions)."""
    if not force and os.environ.get("EKINERJA_DECLARE_TOPOLOGY", "all") == "none":
        return
    n = names(settings, settings.service)
    channel.exchange_declare(n["exchange"], exchange_type="topic", durable=True)
    channel.exchange_declare(n["dead_exchange"], exchange_type="direct", durable=True)
    # Quorum queues in a RabbitMQ cluster (k8s overlay), classic on a single node.
    queue_type = os.environ.get("EKINERJA_QUEUE_TYPE", "classic")
    for service in SERVICES:
        n = names(settings, service)
        channel.queue_declare(n["dead"], durable=True, arguments={"x-queue-type": queue_type})
        channel.queue_bind(n["dead"], n["dead_exchange"], routing_key=n["dead"])
        channel.queue_declare(n["queue"], durable=True, arguments={
            "x-queue-type": queue_type,
            "x-dead-letter-exchange": n["dead_exchange"],
            "x-dead-letter-routing-key": n["dead"],
        })
        # A failed message waits here until its per-message expiration, then dead-letters back
        # into the main queue: a delayed retry without a plugin and without blocking the consumer.
        channel.queue_declare(n["retry"], durable=True, arguments={
            "x-queue-type": queue_type,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": n["queue"],
        })
        for key in consumed_by(service):
            channel.queue_bind(n["queue"], n["exchange"], routing_key=key)
