"""Every process kind of the image, run exactly as its compose container would run it
(deploy/local/container.py: the image's ENV + the compose service's environment, read-only root,
tmpfs /tmp, the data volume on /app/var, the compose secrets in /run/secrets, uid 10001, the real
entrypoint) — and events flow end to end between them.

Only the network addresses differ from compose: PostgreSQL databases of the test, the machine's
RabbitMQ under a private queue prefix (QUEUE_PREFIX, the one variable compose does not set), and
free ports on 127.0.0.1 for the listeners. Compose's broker holds the topology and the services
declare none (EKINERJA_DECLARE_TOPOLOGY=none); the test plays the broker-definitions container by
declaring it under the prefix first. The per-service broker users are proved separately
(test_broker_definitions.py), on a broker of the test's own.

What it guards against (issue 14): under the image's settings the relay crashed on its first metric
update (PROMETHEUS_MULTIPROC_DIR set but never created outside web), the consumer reconnected after
every message while its healthcheck stayed green, and evidence files met a root-owned /app/var.
"""
from __future__ import annotations

import json
import re
import shlex
import secrets as pysecrets
import sys
import time
import uuid
from pathlib import Path

import pika
import pytest
import requests
from sqlalchemy import create_engine, text

from ekinerja_common.config import Settings
from ekinerja_common.events import SERVICES
from ekinerja_common.testing import AMQP_URL, delete_prefixed_topology, fresh_database, queue_prefix, wait_until
from ekinerja_common import topology

from deploy.local import container
from deploy.local.container import Container, Image
from deploy.local.stack import ROOT, Ports, http_ok

import yaml

pytestmark = pytest.mark.skipif(container.available() is not None, reason=str(container.available()))

USED = ("identity", "activity", "approval", "payroll")
NIPS = ("197103141996031002", "198007222005012003", "197811052003121001")


def http(url: str, **kw) -> requests.Response:
    s = requests.Session()
    s.trust_env = False
    return s.request(kw.pop("method", "GET"), url, timeout=10, **kw)


class World:
    """Containers of the compose file, on this machine."""

    def __init__(self, tmp: Path, urls: dict[str, str], prefix: str):
        self.tmp = tmp
        self.urls = urls
        self.prefix = prefix
        self.image = Image.from_dockerfile()
        self.compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        self.secret_values = {name: pysecrets.token_urlsafe(24) for name in self.compose.get("secrets", {})}
        self.admin_password = "Adm1n-" + pysecrets.token_urlsafe(12)
        self.ports = Ports.free()
        self.running: list[Container] = []
        self.volumes = {s: tmp / "volumes" / s for s in SERVICES}

    def env_for(self, compose_service: str, service: str, port: int | None = None) -> dict[str, str]:
        spec = self.compose["services"][compose_service]
        env = dict(self.image.env)
        env["PATH"] = f"{Path(sys.prefix) / 'bin'}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        env["HOME"] = self.image.workdir
        for key, value in (spec.get("environment") or {}).items():
            env[key] = str(value)
        # Network addresses: this machine's, not the compose network's.
        env[f"{service.upper()}_DATABASE_URL"] = self.urls[service]
        env["AMQP_URL"] = AMQP_URL
        env["JWKS_URL"] = f"http://127.0.0.1:{self.ports.web['identity']}/.well-known/jwks.json"
        env["QUEUE_PREFIX"] = self.prefix
        env["METRICS_ADDR"] = "127.0.0.1"
        if port is not None:
            env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
            env["METRICS_PORT"] = str(port)
        if "EKINERJA_ADMIN_PASSWORD" in env:
            env["EKINERJA_ADMIN_PASSWORD"] = self.admin_password
        env["GUNICORN_WORKERS"] = "1"  # two cores for the whole test suite
        left = {k: v for k, v in env.items() if "${" in v}
        assert not left, f"{compose_service}: compose variables this test does not provide: {left}"
        return env

    def container(self, compose_service: str, service: str, args: list[str] | None = None, port: int | None = None,
                  name: str | None = None) -> Container:
        spec = self.compose["services"][compose_service]
        command = args or [str(a) for a in spec["command"]]
        mounts = [v.split(":")[1] for v in spec.get("volumes", []) if isinstance(v, str)]
        name = name or compose_service
        c = Container(
            name=name, args=command, env=self.env_for(compose_service, service, port), image=self.image,
            scratch=self.tmp / "containers" / f"{name}-{uuid.uuid4().hex[:6]}",
            volume=self.volumes[service] if "/app/var" in mounts else None,
            read_only=bool(spec.get("read_only")), tmpfs=tuple(spec.get("tmpfs", ())),
            secrets={s: self.secret_values[s] for s in spec.get("secrets", [])},
        )
        return c

    def run(self, compose_service: str, service: str, args: list[str] | None = None, timeout: float = 120) -> Container:
        c = self.container(compose_service, service, args, name=f"{compose_service}-once").start()
        code = c.wait(timeout=timeout)
        assert code == 0, f"{compose_service} {args or ''} exited {code}:\n{c.output()[-3000:]}"
        return c

    def start(self, compose_service: str, service: str, port: int, ready_path: str) -> Container:
        c = self.container(compose_service, service, port=port).start()
        self.running.append(c)
        wait_until(lambda: (not c.alive() and pytest.fail(f"{compose_service} exited {c.popen.returncode}:\n{c.output()[-3000:]}"))
                   or http_ok(f"http://127.0.0.1:{port}{ready_path}"), timeout=90, interval=0.2,
                   what=f"{compose_service} ready")
        return c

    def stop(self) -> None:
        for c in reversed(self.running):
            c.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    prefix = queue_prefix()
    tmp = tmp_path_factory.mktemp("containers")
    tmp.chmod(0o755)
    with fresh_database("pm_identity") as u1, fresh_database("pm_activity") as u2, \
            fresh_database("pm_approval") as u3, fresh_database("pm_payroll") as u4:
        w = World(tmp, dict(zip(USED, (u1, u2, u3, u4))), prefix)
        # The broker-definitions container's part: the topology exists before any service starts.
        conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        try:
            for s in SERVICES:
                topology.declare(conn.channel(), Settings(service=s, database_url="sqlite://", queue_prefix=prefix), force=True)
        finally:
            conn.close()
        try:
            migrations = [w.container(f"{s}-migrate", s).start() for s in USED]
            for c in migrations:
                assert c.wait(timeout=180) == 0, c.output()[-3000:]
            yield w
        finally:
            w.stop()
            delete_prefixed_topology(prefix, SERVICES)


def metric(port: int, name: str, **labels) -> float:
    body = http(f"http://127.0.0.1:{port}/metrics").text
    total = 0.0
    for m in re.finditer(rf"^{re.escape(name)}\{{([^}}]*)\}} ([0-9.e+-]+)$", body, re.M):
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(2))
    return total


def test_web_relay_and_consumer_carry_events_as_the_containers_run_them(world):
    ports = world.ports
    world.run("identity-admin", "identity")
    web = world.start("identity-web", "identity", ports.web["identity"], "/readyz")
    relay = world.start("identity-relay", "identity", ports.relay_metrics["identity"], "/readyz")
    consumer = world.start("payroll-consumer", "payroll", ports.consumer_metrics["payroll"], "/readyz")

    base = f"http://127.0.0.1:{ports.web['identity']}"
    r = http(f"{base}/auth/login", method="POST", json={"username": "admin", "password": world.admin_password})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    for i, nip in enumerate(NIPS):
        r = http(f"{base}/employees", method="POST", headers={"Authorization": f"Bearer {token}", "X-Request-ID": f"pm-{i}"},
                 json={"nip": nip, "name": f"Pegawai Uji {i}", "employee_kind": "PNS", "status": "PNS", "golongan": "III/a"})
        assert r.status_code == 201, r.text

    # identity web -> outbox -> identity relay -> broker -> payroll consumer -> payroll's database.
    payroll_db = create_engine(world.urls["payroll"])

    def employees_in_payroll() -> int:
        with payroll_db.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM employees")).scalar()

    try:
        wait_until(lambda: employees_in_payroll() == len(NIPS), timeout=60, interval=0.5,
                   what="the employees to reach payroll")
    finally:
        payroll_db.dispose()

    relay_port, consumer_port = ports.relay_metrics["identity"], ports.consumer_metrics["payroll"]
    assert metric(relay_port, "ekinerja_relay_published_total", type="employee.registered") >= len(NIPS)
    wait_until(lambda: metric(consumer_port, "ekinerja_consumer_messages_total", type="employee.registered",
                              outcome="handled") == len(NIPS), timeout=20, what="the consumer's handled counter")
    # One broker connection for all of it: no reconnect per message.
    assert metric(consumer_port, "ekinerja_broker_connections_total") == 1, consumer.output()[-3000:]
    assert metric(relay_port, "ekinerja_broker_connections_total") == 1, relay.output()[-3000:]
    assert metric(consumer_port, "ekinerja_consumer_lag_seconds_count", type="employee.registered") == len(NIPS)
    for port in (relay_port, consumer_port):
        assert metric(port, "ekinerja_process_resident_memory_bytes") > 0
        health = http(f"http://127.0.0.1:{port}/readyz").json()
        assert health["connected"] is True and health["status"] == "ready", health
    assert all(c.alive() for c in (web, relay, consumer))

    # The web container: per-worker process metrics and JSON log lines carrying the request id.
    assert metric(ports.web["identity"], "ekinerja_process_open_fds") > 0
    assert metric(ports.web["identity"], "ekinerja_gunicorn_workers") == 1
    lines = [json.loads(line) for line in web.output().splitlines() if line.startswith("{")]
    assert not [line for line in web.output().splitlines() if line.strip() and not line.startswith("{")], \
        "every line of the web container is JSON"
    access = [line for line in lines if line["logger"] == "gunicorn.access" and line["request_id"] == "pm-1"]
    assert access and access[0]["status"] == 201, lines[-5:]


def test_scheduled_jobs_run_in_their_containers(world):
    world.run("identity-scheduler", "identity", ["identity", "schedule", "--run", "rotate-keys"])
    world.run("approval-scheduler", "approval", ["approval", "schedule", "--run", "escalate"])
    world.run("activity-scheduler", "activity", ["activity", "schedule", "--run", "close-day"])
    for service in USED:
        done = world.run(f"{service}-scheduler", service, [service, "prune"])
        report = json.loads([line for line in done.output().splitlines() if line.startswith('{"service"')][-1])
        assert report["service"] == service and set(report["deleted"]) == {"outbox", "processed_messages"}

    # The attendance inbox lives in activity's data volume, writable by the image's user on a
    # read-only root: a device file dropped there is imported (or, refused, kept with its errors).
    world.run("activity-scheduler", "activity", ["activity", "schedule", "--run", "import-attendance"])  # makes the inbox
    inbox = world.volumes["activity"] / "attendance-inbox"
    assert inbox.stat().st_uid == world.image.uid
    sample = ROOT / "services" / "activity" / "samples" / "presensi-2026-10-05.csv"
    (inbox / sample.name).write_bytes(sample.read_bytes())
    c = world.container("activity-scheduler", "activity", ["activity", "schedule", "--run", "import-attendance"]).start()
    c.wait(timeout=120)
    assert not (inbox / sample.name).exists(), c.output()[-3000:]
    moved = list((inbox / "done").iterdir()) + list((inbox / "failed").iterdir())
    assert sample.name in {p.name for p in moved}, c.output()[-3000:]

    # The scheduler's own loop: healthy, and it knows its next runs.
    port = world.ports.relay_metrics["activity"]
    world.start("activity-scheduler", "activity", port, "/readyz")
    assert metric(port, "ekinerja_job_next_run_timestamp_seconds", job="close-day") > time.time()


PROBE = """
import os, sys
assert (os.getuid(), os.getgid()) == (10001, 10001), (os.getuid(), os.getgid())
assert os.getcwd() == "/app" and os.environ["HOME"] == "/app"
for path in ("/app/x", "/usr/x", "/etc/x", "/x"):
    try:
        open(path, "w")
    except OSError as e:
        assert e.errno in (13, 30), e  # permission denied / read-only file system
    else:
        sys.exit(path + " is writable")
open("/tmp/ok", "w").write("tmpfs")
if os.path.ismount("/app/var"):
    open("/app/var/ok", "w").write("volume")
    print("volume")
for name in os.listdir("/run/secrets"):
    print("secret", name, len(open("/run/secrets/" + name).read()))
"""


@pytest.mark.parametrize("compose_service, service, expect", [
    ("activity-web", "activity", ["volume"]),
    ("identity-web", "identity", ["volume", "secret identity_key_passphrase 32"]),
    ("payroll-relay", "payroll", ["volume"]),
])
def test_the_containers_are_read_only_and_unprivileged(world, compose_service, service, expect):
    c = world.container(compose_service, service)
    c.command_override = "exec python -c " + shlex.quote(PROBE)
    c.start()
    assert c.wait(timeout=60) == 0, c.output()
    assert c.output().split("\n")[:-1] == expect, c.output()
