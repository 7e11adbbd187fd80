"""One real stack for every end-to-end and fault test of this folder (starting it costs about a
minute): five services on PostgreSQL, a RabbitMQ node of its own (so that a fault test may kill
it), the nginx gateway, demo data seeded through the gateway."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest
import requests

from ekinerja_common.events import SERVICES
from ekinerja_common.testing import DedicatedBroker, fresh_database, queue_prefix

from deploy.local.seed import seed_stack
from deploy.local.stack import Ports, Stack

WIB = timezone(timedelta(hours=7))


@pytest.fixture(scope="session")
def broker():
    # With RabbitMQ's Prometheus plugin on a port of its own: test_observability scrapes it.
    metrics_port = Ports.free().gateway
    b = DedicatedBroker(Ports.free().gateway, plugins=("rabbitmq_prometheus",),
                        extra_config=f"prometheus.tcp.port = {metrics_port}\nprometheus.tcp.ip = 127.0.0.1\n")
    b.metrics_port = metrics_port
    b.start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, broker):
    prefix = queue_prefix()
    run_dir = tmp_path_factory.mktemp("stack")
    with fresh_database("e2e_identity") as u1, fresh_database("e2e_organization") as u2, \
            fresh_database("e2e_activity") as u3, fresh_database("e2e_approval") as u4, \
            fresh_database("e2e_payroll") as u5:
        urls = dict(zip(SERVICES, (u1, u2, u3, u4, u5)))
        s = Stack(run_dir, ports=Ports.free(), database_urls=urls, queue_prefix=prefix, amqp_url=broker.url,
                  env={"GUNICORN_WORKERS": "1", "RELAY_POLL_SECONDS": "0.05"}, login_rate="600r/m", login_burst=100)
        s.database_urls_for_test = urls
        with s:
            yield s


@pytest.fixture(scope="session")
def logins(stack):
    return {login.username: login for login in seed_stack(stack)}


class Client:
    """A person using the system through the gateway."""

    def __init__(self, stack: Stack, username: str, password: str):
        self.stack = stack
        self.http = requests.Session()
        self.http.trust_env = False
        r = self.post("/api/identity/auth/login", {"username": username, "password": password}, auth=False)
        assert r.status_code == 200, r.text
        self.account = r.json()["account"]
        self.http.headers["Authorization"] = "Bearer " + r.json()["access_token"]

    def get(self, path, **kw):
        return self.http.get(self.stack.url(path), timeout=10, **kw)

    def post(self, path, body=None, auth=True, **kw):
        return self.http.post(self.stack.url(path), json=body, timeout=10, **kw)

    def put(self, path, body):
        return self.http.put(self.stack.url(path), json=body, timeout=10)


@pytest.fixture(scope="session")
def person(stack, logins):
    """``person(username)``: a logged-in user of the seeded stack."""
    return lambda username: Client(stack, username, logins[username].password)


