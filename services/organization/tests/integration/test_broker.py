"""Organization's side of the event flow through a real RabbitMQ: its relay delivers position
and duty events to the services that consume them, and its consumer builds the placements read
model from identity's employee.placed — a redelivered message changes nothing."""
import json
import threading
import uuid

import pika
import pytest
from sqlalchemy import select

from ekinerja_common import topology
from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope
from ekinerja_common.events import SERVICES
from ekinerja_common.relay import Relay
from ekinerja_common.testing import delete_prefixed_topology, wait_until

from organization.inbox import HANDLERS
from organization.orm import Placement


@pytest.fixture
def channel(runtime):
    conn = pika.BlockingConnection(pika.URLParameters(runtime.settings.amqp_url))
    ch = conn.channel()
    ch.confirm_delivery()
    topology.declare(ch, runtime.settings)
    yield ch
    conn.close()
    delete_prefixed_topology(runtime.settings.queue_prefix, SERVICES)


def drain(channel, queue):
    out = []
    while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
        out.append(json.loads(got[2]))
    return out


def test_relay_delivers_structure_events_to_their_consumers(org, client, runtime, channel, tree):
    org.duty(tree["staff"]["id"], "Menangani tiket", 30, 100)
    assert client.delete(f"/positions/{tree['staff']['id']}", headers=org.h).status_code == 204
    assert Relay(runtime.settings, runtime.engine, runtime.metadata).publish_batch(channel) == 3 + 4 + 1 + 2
    identity = drain(channel, topology.names(runtime.settings, "identity")["queue"])
    assert [m["type"] for m in identity] == ["position.created"] * 4 + ["position.updated"]
    assert identity[-1]["data"]["active"] is False and identity[-1]["data"]["position_id"] == tree["staff"]["id"]
    activity = drain(channel, topology.names(runtime.settings, "activity")["queue"])
    # Activity hears of units too: a late-entry permission to an OPD covers its bidang.
    assert [m["type"] for m in activity] == ["unit.created"] * 3 + ["position.created"] * 4 + [
        "duty.published", "duty.retired", "position.updated"]
    payroll = drain(channel, topology.names(runtime.settings, "payroll")["queue"])
    assert [m["type"] for m in payroll] == ["unit.created"] * 3 + ["position.created"] * 4 + ["position.updated"]
    assert [m["data"]["code"] for m in payroll[:3]] == ["DISKOMINFO", "APTIKA", "APTIKA-INFRA"]


def test_placements_arrive_through_the_broker_once_however_often_sent(org, client, runtime, channel, tree):
    consumer = Consumer(runtime.settings, runtime.session_factory, runtime.metadata, HANDLERS)
    worker = threading.Thread(target=consumer.run, daemon=True)
    worker.start()
    try:
        names = topology.names(runtime.settings, "identity")
        placement_id = str(uuid.uuid4())
        ended = Envelope(type="employee.placed", source="identity", data={
            "placement_id": placement_id, "employee_id": "e1", "position_id": tree["staff"]["id"],
            "start_date": "2026-01-01", "end_date": "2026-03-31", "kind": "definitive", "version": 2})
        first = Envelope(type="employee.placed", source="identity", data={**ended.data, "end_date": None, "version": 1})
        # The newer version twice (a redelivery), then the older one late.
        for env in (ended, ended, first):
            channel.basic_publish(names["exchange"], env.type, env.to_json(), pika.BasicProperties(
                message_id=env.id, type=env.type, content_type="application/json", delivery_mode=2), mandatory=True)

        def settled():
            with runtime.session_factory() as s:
                seen = s.scalar(select(runtime.metadata.tables["processed_messages"].c.id)
                                .where(runtime.metadata.tables["processed_messages"].c.id == first.id))
                return seen and s.get(Placement, placement_id)

        row = wait_until(settled, what="the three deliveries")
        assert (str(row.end_date), row.version) == ("2026-03-31", 2)
    finally:
        consumer.stopping.set()
        worker.join(10)
    report = client.get("/abk?date=2026-04-01", headers=org.h).get_json()
    assert next(p for p in report["positions"] if p["code"] == "PRANATA")["actual"] == 0
