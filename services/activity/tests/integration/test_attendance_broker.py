"""Attendance and calendar events leave through the real outbox relay and RabbitMQ and land in
payroll's queue, as the catalogue binds them; a re-import adds nothing to the queue."""
import io
import json
from datetime import date

import pika
import pytest

from ekinerja_common import topology
from ekinerja_common.relay import Relay
from ekinerja_common.testing import AMQP_URL, delete_prefixed_topology
from ekinerja_common.events import SERVICES


@pytest.fixture
def broker(runtime):
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    ch = conn.channel()
    ch.confirm_delivery()
    topology.declare(ch, runtime.settings)
    yield ch
    conn.close()
    delete_prefixed_topology(runtime.settings.queue_prefix, SERVICES)


def drain(ch, queue):
    out = []
    while True:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            return out
        out.append((props, json.loads(body)))


def test_events_reach_payroll_through_the_relay(client, keys, feed, world, runtime, broker):
    emp = feed.employee(name="Budi")
    feed.placement(emp.data["employee_id"], world.position_id, date(2026, 1, 1))
    nip = emp.data["nip"]
    bkd = keys.headers("bkd-1", "admin_bkd")
    text = f"nip,date,check_in,check_out\n{nip},2026-10-05,08:05,16:00\n{nip},2026-10-06,07:30,16:00\n"
    upload = lambda: client.post("/attendance/import", data={"file": (io.BytesIO(text.encode()), "a.csv")}, headers=bkd,
                                 content_type="multipart/form-data")
    assert upload().status_code == 200
    assert client.put("/calendar/2026", json={"schedule": {"1": {"start": "07:30", "end": "16:00"}},
                                              "holidays": [], "collective_leave": []}, headers=bkd).status_code == 200
    relay = Relay(runtime.settings, runtime.engine, runtime.metadata)
    assert relay.publish_batch(broker) == 2  # one attendance day with a code, one calendar
    queue = topology.names(runtime.settings, "payroll")["queue"]
    received = drain(broker, queue)
    assert [body["type"] for _, body in received] == ["attendance.recorded", "calendar.updated"]
    props, body = received[0]
    assert props.message_id == body["id"] and props.type == "attendance.recorded"
    assert props.content_type == "application/json" and props.delivery_mode == 2
    assert body["data"] == {"employee_id": emp.data["employee_id"], "date": "2026-10-05", "codes": ["TL2"],
                            "deduction_pct": "1", "version": 1}
    assert received[1][1]["data"]["working_weekdays"] == [1]
    # Approval does not consume attendance: nothing for it.
    assert drain(broker, topology.names(runtime.settings, "approval")["queue"]) == []
    # The same file again: no rows in the outbox, nothing more on the wire.
    assert upload().get_json()["changed"] == 0
    assert relay.publish_batch(broker) == 0 and drain(broker, queue) == []
