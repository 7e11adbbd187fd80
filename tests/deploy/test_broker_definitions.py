"""The broker of compose and Kubernetes: users, permissions and topology generated from the code
(ekinerja_common.broker_definitions), loaded by a real RabbitMQ node of the test's own exactly as
compose's broker loads them (load_definitions), then used the way each service uses it."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pika
import pika.exceptions
import pytest
import yaml

from ekinerja_common import broker_definitions
from ekinerja_common.events import SERVICES, consumed_by
from ekinerja_common.testing import DedicatedBroker, _free_port

from deploy.local.stack import ROOT

K8S_TOPOLOGY = ROOT / "deploy" / "k8s" / "base" / "rabbitmq" / "topology.yaml"


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    passwords = {s: f"pw-{s}-{uuid.uuid4().hex[:8]}" for s in SERVICES}
    admin = f"adm-{uuid.uuid4().hex[:8]}"
    b = DedicatedBroker(_free_port())
    path = f"{b.workdir}/definitions.json"
    env = {f"{s.upper()}_AMQP_PASSWORD": p for s, p in passwords.items()}
    done = subprocess.run([sys.executable, "-m", "ekinerja_common.broker_definitions", "json", path],
                          env={"PATH": "/usr/bin:/bin", "RABBITMQ_PASSWORD": admin, **env}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    b.extra_config = f"load_definitions = {path}\n"
    b.start()
    try:
        yield b, passwords, admin
    finally:
        b.stop()


def connect(b: DedicatedBroker, user: str, password: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(f"amqp://{user}:{password}@127.0.0.1:{b.port}/%2F"))


def refused(action) -> bool:
    try:
        action()
    except pika.exceptions.ChannelClosedByBroker as exc:
        return exc.reply_code == 403  # ACCESS_REFUSED
    except (pika.exceptions.ProbableAccessDeniedError, pika.exceptions.ProbableAuthenticationError):
        return True
    return False


def test_each_service_publishes_events_and_reads_only_its_own_queues(broker):
    b, passwords, _ = broker
    for service in ("identity", "payroll"):
        other = "payroll" if service == "identity" else "identity"
        conn = connect(b, service, passwords[service])
        try:
            ch = conn.channel()
            ch.confirm_delivery()
            # The relay's publish (mandatory, confirmed) reaches the consumers' queues: the
            # topology was there before any service connected.
            key = next(k for k in consumed_by(other))
            ch.basic_publish("ekinerja.events", key, b"{}", pika.BasicProperties(delivery_mode=2), mandatory=True)
            # The consumer's retry copy goes through the default exchange.
            ch.basic_publish("", f"{service}.events.retry", b"{}", pika.BasicProperties(delivery_mode=2))
            ch.basic_get(f"{service}.events", auto_ack=False)
            ch.basic_get(f"{service}.events.dead", auto_ack=False)
            assert refused(lambda: conn.channel().basic_get(f"{other}.events")), f"{service} read {other}'s queue"
            assert refused(lambda: conn.channel().queue_declare(f"{service}.extra", durable=True))
            assert refused(lambda: conn.channel().queue_delete(f"{service}.events"))
            assert refused(lambda: conn.channel().queue_purge(f"{other}.events"))
        finally:
            if conn.is_open:
                conn.close()
    assert refused(lambda: connect(b, "guest", "guest")), "guest must not exist"


def test_the_queues_are_declared_exactly_as_the_services_declare_them(broker):
    b, _, admin = broker
    conn = connect(b, "admin", admin)
    try:
        ch = conn.channel()
        # A non-passive declare with different arguments would fail with PRECONDITION_FAILED.
        from ekinerja_common import topology
        from ekinerja_common.config import Settings

        for s in SERVICES:
            topology.declare(ch, Settings(service=s, database_url="sqlite://"), force=True)
        assert ch.queue_declare("payroll.events", passive=True).method.message_count >= 1
    finally:
        conn.close()


def test_k8s_topology_is_generated_from_the_code_and_current():
    """deploy/k8s/base/rabbitmq/topology.yaml is what `python -m ekinerja_common.broker_definitions
    k8s` prints: quorum queues with the same dead-letter arguments, a User and a Permission per service."""
    docs = [d for d in yaml.safe_load_all(K8S_TOPOLOGY.read_text()) if d]
    assert docs == broker_definitions.k8s_objects()
    kinds = [d["kind"] for d in docs]
    assert kinds.count("User") == kinds.count("Permission") == len(SERVICES)
    assert {d["spec"]["type"] for d in docs if d["kind"] == "Queue"} == {"quorum"}
    perms = {d["metadata"]["name"]: d["spec"]["permissions"] for d in docs if d["kind"] == "Permission"}
    assert perms["payroll-amqp"]["read"] == r"^(payroll\.events|payroll\.events\.dead)$"
    assert perms["payroll-amqp"]["configure"] == "^$"


def test_definitions_need_every_password():
    done = subprocess.run([sys.executable, "-m", "ekinerja_common.broker_definitions", "json", "/dev/null"],
                          env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert done.returncode == 2 and "IDENTITY_AMQP_PASSWORD" in done.stderr and "RABBITMQ_PASSWORD" in done.stderr
    doc = broker_definitions.definitions({s: "x" for s in SERVICES}, "y")
    assert json.dumps(doc).count('"password"') == 0, "only hashes, never a password"
