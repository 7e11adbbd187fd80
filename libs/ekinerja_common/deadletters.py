"""``python -m <service> replay-dead-letters [--type T] [--dry-run]``: after the fix, the messages
this service's consumer dead-lettered go back to its main queue.

Each one is republished (persistent, confirmed) to ``<service>.events`` with the retry counter and
the death headers removed, then acknowledged in the dead-letter queue: a crash in between leaves
a copy in both, and the consumer's processed-message log makes the second one a no-op. Messages of
other types (``--type``) stay where they are, in their order. ``--dry-run`` lists what would move
and moves nothing.
"""
from __future__ import annotations

import json
from collections import Counter as Tally

import pika

from . import topology
from .config import Settings
from .consumer import DEATH_ERROR_HEADER, DEATH_REASON_HEADER, RETRIES_HEADER

# What the broker and the consumer add on the way to the dead-letter queue; a replayed message
# starts afresh without them.
_DEATH_HEADERS = (RETRIES_HEADER, DEATH_REASON_HEADER, DEATH_ERROR_HEADER, "x-death-service", "x-death",
                  "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
                  "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason")


def _type_of(props, body: bytes) -> str:
    if props.type:
        return props.type
    try:
        return str(json.loads(body).get("type", "?"))
    except (ValueError, AttributeError):
        return "?"


def replay(settings: Settings, event_type: str | None = None, dry_run: bool = False) -> dict:
    """Move (with ``dry_run``: only count) the dead letters of ``settings.service``, all or those
    of ``event_type``. Returns what matched, by type and by reason, and what moved."""
    names = topology.names(settings, settings.service)
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    by_type: Tally = Tally()
    by_reason: Tally = Tally()
    replayed = 0
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        waiting = channel.queue_declare(names["dead"], passive=True).method.message_count
        # Every message is fetched once, unacknowledged: the ones not moved return to the queue
        # in their order when the channel closes, and none is seen twice in this run.
        for _ in range(waiting):
            method, props, body = channel.basic_get(names["dead"], auto_ack=False)
            if method is None:
                break
            kind = _type_of(props, body)
            if event_type and kind != event_type:
                continue
            by_type[kind] += 1
            by_reason[str((props.headers or {}).get(DEATH_REASON_HEADER, "?"))] += 1
            if dry_run:
                continue
            headers = {k: v for k, v in (props.headers or {}).items() if k not in _DEATH_HEADERS}
            channel.basic_publish("", names["queue"], body, pika.BasicProperties(
                message_id=props.message_id, type=props.type, content_type=props.content_type,
                delivery_mode=pika.DeliveryMode.Persistent, headers=headers or None))
            channel.basic_ack(method.delivery_tag)
            replayed += 1
        channel.close()
    finally:
        if connection.is_open:
            connection.close()
    return {"service": settings.service, "dead_letter_queue": names["dead"], "dry_run": dry_run,
            "matched": sum(by_type.values()), "replayed": replayed, "left": waiting - replayed,
            "by_type": dict(by_type), "by_reason": dict(by_reason)}
