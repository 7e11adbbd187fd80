"""The local runner's Stack and the gateway in front of it, as real processes: organization's web,
relay and consumer (SQLite or PostgreSQL), RabbitMQ, nginx with the rendered template."""
from __future__ import annotations

import os
import re
import socket

import pytest
import requests

from ekinerja_common.testing import delete_prefixed_topology, fresh_database, queue_prefix

from deploy.local.stack import Ports, Stack, StackError

pytestmark = pytest.mark.e2e


def get(url: str, **kw) -> requests.Response:
    with requests.Session() as s:
        s.trust_env = False
        return s.get(url, timeout=10, **kw)


def post(url: str, **kw) -> requests.Response:
    with requests.Session() as s:
        s.trust_env = False
        return s.post(url, timeout=10, **kw)


def assert_error(resp: requests.Response, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    err = resp.json()["error"]
    assert err["code"] == code
    assert err["message"] and err["message_en"] and err["fields"] == {}


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    web = tmp_path_factory.mktemp("web")
    (web / "index.html").write_text("<!doctype html><title>E-Kinerja test page</title>")
    (web / "app.js").write_text("export const ok = true;\n")
    prefix = queue_prefix()
    s = Stack(tmp_path_factory.mktemp("run"), services=["organization"], ports=Ports.free(), queue_prefix=prefix,
              web_root=web, env={"GUNICORN_WORKERS": "1"}, login_rate="1r/m", login_burst=2)
    try:
        with s:
            yield s
    finally:
        delete_prefixed_topology(prefix, ("organization",))


def test_health_through_the_gateway_echoes_the_request_id(stack):
    r = get(stack.url("/api/organization/healthz"), headers={"X-Request-ID": "smoke-test.42"})
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "service": "organization"}
    # Exactly one header: the gateway's, not a second copy from the service.
    assert r.raw.headers.getlist("X-Request-ID") == ["smoke-test.42"]


def test_a_request_id_is_made_when_missing_or_unusable(stack):
    made = get(stack.url("/api/organization/healthz")).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    for bad in ("has spaces in it", "x" * 101, "quote\"d"):
        replaced = get(stack.url("/api/organization/healthz"), headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", replaced), bad


def test_service_metrics_are_not_reachable_through_the_gateway(stack):
    # The service itself serves them (to Prometheus on the inside) ...
    assert get(stack.service_url("organization", "/metrics")).status_code == 200
    # ... but no spelling of the path gets them through the gateway.
    for path in ("/api/organization/metrics", "/api/organization//metrics", "/api/organization/%6Detrics",
                 "/api/organization/metrics/", "/api/organization/metrics?x=1", "/api/organization/./metrics"):
        r = get(stack.url(path))
        assert_error(r, 404, "not_found")
        assert "ekinerja_http_requests" not in r.text


def test_unknown_api_paths_get_a_json_404(stack):
    for path in ("/api/nothing/", "/api/nothing/at/all", "/api/"):
        assert_error(get(stack.url(path)), 404, "not_found")


def test_a_service_that_is_down_gets_a_json_502_and_logins_are_rate_limited(stack):
    # identity is not started in this stack; the gateway still routes to its address.
    assert_error(get(stack.url("/api/identity/me")), 502, "service_unavailable")
    answers = [post(stack.url("/api/identity/auth/login"), json={"username": "x", "password": "y"}) for _ in range(6)]
    statuses = [r.status_code for r in answers]
    assert statuses[0] == 502 and 429 in statuses, statuses
    limited = answers[statuses.index(429)]
    assert_error(limited, 429, "too_many_attempts")
    # The wait is shown, in the header and in the words a person reads.
    assert limited.headers["Retry-After"] == "5" and "5 detik" in limited.json()["error"]["message"]
    assert limited.headers["X-Request-ID"]


def test_the_web_client_is_served_with_client_side_routes(stack):
    for path in ("/", "/index.html", "/kegiatan/2026-01"):
        r = get(stack.url(path))
        assert r.status_code == 200 and "E-Kinerja test page" in r.text, path
        assert r.headers["Content-Type"].startswith("text/html")
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    js = get(stack.url("/app.js"))
    assert js.headers["Content-Type"].startswith("text/javascript")  # ES modules need it


def test_stub_status_only_on_the_loopback_status_port(stack):
    r = get(f"http://127.0.0.1:{stack.ports.gateway_status}/nginx_status")
    assert r.status_code == 200 and "Active connections" in r.text
    assert "Active connections" not in get(stack.url("/nginx_status")).text


def test_access_log_carries_request_id_and_upstream_time(stack):
    get(stack.url("/api/organization/healthz"), headers={"X-Request-ID": "log-line-check"})
    log = (stack.logs_dir / "gateway.access.log").read_text()
    line = next(x for x in log.splitlines() if "log-line-check" in x)
    assert '"upstream_time":"' in line and '"status":200' in line


def test_lifecycle_on_postgresql_kill_restart_and_nothing_left_after_stop(tmp_path):
    prefix = queue_prefix()
    with fresh_database("stack_smoke") as url:
        stack = Stack(tmp_path, services=["organization"], ports=Ports.free(), queue_prefix=prefix,
                      database_urls={"organization": url}, env={"GUNICORN_WORKERS": "2"})
        try:
            stack.start()
            assert get(stack.url("/api/organization/readyz")).json()["status"] == "ready"

            stack.kill("organization.consumer")
            assert not stack.alive("organization.consumer")
            assert stack.check() == ["organization.consumer"]
            stack.restart("organization.consumer")
            assert stack.alive("organization.consumer") and stack.check() == []

            stack.restart("organization.web")
            assert get(stack.url("/api/organization/readyz")).status_code == 200

            pids = stack.pids()
            assert set(pids) == {"organization.web", "organization.relay", "organization.consumer", "gateway"}
        finally:
            stack.stop()
            delete_prefixed_topology(prefix, ("organization",))
        for name, pid in pids.items():
            assert not group_exists(pid), f"{name} (group {pid}) survived stop()"
        for port in (stack.ports.gateway, stack.ports.gateway_status, stack.ports.web["organization"],
                     stack.ports.relay_metrics["organization"], stack.ports.consumer_metrics["organization"]):
            assert port_free(port)
        assert stack.stop() == []  # a second stop is harmless


def test_a_failing_migration_stops_the_start_and_names_the_process(tmp_path):
    stack = Stack(tmp_path, services=["organization"], ports=Ports.free(),
                  database_urls={"organization": "postgresql+psycopg://nobody@127.0.0.1:1/nowhere"}, check_broker=False)
    with pytest.raises(StackError) as failed:
        stack.start()
    message = str(failed.value)
    assert "organization.migrate failed" in message
    assert "127.0.0.1" in message and "port 1" in message  # the tail of the log says why
    assert all(not p.alive() for p in stack.procs.values())


def test_a_busy_port_is_reported_before_anything_starts(tmp_path):
    ports = Ports.free()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports.web["organization"]))
        holder.listen()
        with pytest.raises(StackError, match=rf"{ports.web['organization']} \(organization.web\)"):
            Stack(tmp_path, services=["organization"], ports=ports, check_broker=False).start()
    assert not (tmp_path / "logs").exists()


def test_a_service_package_that_is_not_installed_is_named(tmp_path):
    system_python = "/usr/bin/python3"  # an interpreter without the project's packages
    if not os.access(system_python, os.X_OK):
        pytest.skip("no system python3")
    with pytest.raises(StackError, match=r"not importable by /usr/bin/python3: organization\b"):
        Stack(tmp_path, services=["organization"], ports=Ports.free(), python=system_python, check_broker=False).start()
    assert not (tmp_path / "logs").exists()


def test_unknown_services_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown services"):
        Stack(tmp_path, services=["organisation"])


def test_the_runner_restarts_a_process_that_dies_with_backoff_and_says_so(stack):
    """Issue 9 item 18: a consumer that died (of anything) is started again by the runner, as
    compose or Kubernetes would; one ended on purpose (kill()) stays down until restart()."""
    import signal

    from ekinerja_common.testing import wait_until

    from deploy.local.stack import http_ok

    name = "organization.consumer"
    proc = stack.procs[name]
    before = proc.pid
    os.killpg(proc.pid, signal.SIGKILL)  # dies on its own, as far as the runner knows
    wait_until(lambda: not stack.alive(name), what="the consumer to be gone")
    said = stack.supervise()
    assert len(said) == 1 and said[0].startswith(f"{name} exited") and "restarting in 1s (restart 1)" in said[0]
    restarted = wait_until(lambda: stack.supervise(), timeout=30, interval=0.2, what="the restart")
    assert restarted == [f"{name} restarted (restart 1)"] and proc.pid != before
    wait_until(lambda: http_ok(f"http://127.0.0.1:{stack.ports.port_of(name)}/readyz"), timeout=60, what="ready again")
    assert "supervisor: organization.consumer restarted (restart 1)" in proc.log.read_text()

    # Dying again soon after: the next wait is twice as long.
    os.killpg(proc.pid, signal.SIGKILL)
    wait_until(lambda: not stack.alive(name), what="the consumer to be gone again")
    assert "restarting in 2s (restart 2)" in stack.supervise()[0]
    wait_until(lambda: stack.supervise(), timeout=30, interval=0.2, what="the second restart")
    assert stack.alive(name)

    # Ended on purpose: left alone.
    stack.kill(name)
    assert stack.supervise() == [] and not stack.alive(name)
    stack.restart(name)
    assert stack.alive(name) and stack.supervise() == []
