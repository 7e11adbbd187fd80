"""Identity's side of the event flow through a real RabbitMQ: organization's position.created
reaches identity's consumer, and identity's relay delivers employee.registered to the services
that consume it."""
import json
import threading
import uuid

import pika
import pytest
from sqlalchemy import select

from ekinerja_common import topology
from ekinerja_common.consumer import Consumer
from ekinerja_common.envelope import Envelope
from ekinerja_common.events import CATALOGUE, SERVICES
from ekinerja_common.relay import Relay
from ekinerja_common.testing import delete_prefixed_topology, wait_until

from identity.inbox import HANDLERS
from identity.orm import PositionRef


@pytest.fixture
def channel(runtime):
    conn = pika.BlockingConnection(pika.URLParameters(runtime.settings.amqp_url))
    ch = conn.channel()
    ch.confirm_delivery()
    topology.declare(ch, runtime.settings)
    yield ch
    conn.close()
    delete_prefixed_topology(runtime.settings.queue_prefix, SERVICES)


def test_position_event_through_the_broker_unblocks_placement(api, client, admin_h, runtime, channel):
    consumer = Consumer(runtime.settings, runtime.session_factory, runtime.metadata, HANDLERS)
    worker = threading.Thread(target=consumer.run, daemon=True)
    worker.start()
    try:
        pid = str(uuid.uuid4())
        env = Envelope(type="position.created", source="organization", data={
            "position_id": pid, "code": "KASUBAG", "name": "Kepala Subbagian Umum", "kind": "pengawas",
            "kelas_jabatan": 9, "parent_id": None, "unit_id": "u1", "factor": "1", "version": 1})
        names = topology.names(runtime.settings, "organization")
        channel.basic_publish(names["exchange"], env.type, env.to_json(), pika.BasicProperties(
            message_id=env.id, type=env.type, content_type="application/json", delivery_mode=2), mandatory=True)

        def arrived():
            with runtime.session_factory() as s:
                return s.scalar(select(PositionRef.name).where(PositionRef.position_id == pid))

        assert wait_until(arrived, what="position.created in identity") == "Kepala Subbagian Umum"
    finally:
        consumer.stopping.set()
        worker.join(10)
    e = api.register(admin_h)
    r = client.post(f"/employees/{e['id']}/placements",
                    json={"position_id": pid, "start_date": "2025-01-01", "kind": "definitive"}, headers=admin_h)
    assert r.status_code == 201 and r.get_json()["position_code"] == "KASUBAG"


def test_relay_delivers_identity_events_to_their_consumers(api, admin_h, runtime, channel):
    e = api.register(admin_h)
    assert Relay(runtime.settings, runtime.engine, runtime.metadata).publish_batch(channel) == 1
    for service in CATALOGUE["employee.registered"].consumers:
        queue = topology.names(runtime.settings, service)["queue"]
        method, props, body = channel.basic_get(queue, auto_ack=True)
        assert method is not None, service
        message = json.loads(body)
        assert props.type == "employee.registered" and message["source"] == "identity"
        assert message["data"]["employee_id"] == e["id"] and message["data"]["nip"] == e["nip"]


def test_an_import_reaches_every_consumer_queue_through_the_relay(api, client, admin_h, runtime, channel):
    body = "nip,name,employee_kind,status,golongan\n" + "".join(
        f"1985010{1 + i % 9}2010011{i + 1:03d},Pegawai {i},PNS,PNS,II/c\n" for i in range(120))
    r = client.post("/employees/import", data=body, headers={**admin_h, "Content-Type": "text/csv"})
    assert r.status_code == 201, r.get_json()
    relay = Relay(runtime.settings, runtime.engine, runtime.metadata)
    assert relay.publish_batch(channel) + relay.publish_batch(channel) == 120
    for service in CATALOGUE["employee.registered"].consumers:
        queue = topology.names(runtime.settings, service)["queue"]
        ids = set()
        while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
            message = json.loads(got[2])
            assert message["type"] == "employee.registered" and message["data"]["version"] == 1
            ids.add(message["data"]["employee_id"])
        assert len(ids) == 120, service
