"""The deployment files that cannot run on a machine without a Docker engine, checked as far as
this machine allows: the gateway template through ``nginx -t`` (local and compose values), the
compose file and Prometheus/Grafana configuration parsed and cross-checked against the code, the
image's entrypoint and the PostgreSQL first-start script run for real."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ekinerja_common import consumer, metrics, relay
from ekinerja_common.events import SERVICES
from ekinerja_common.testing import PG_ADMIN_URL

from deploy.local import gateway
from deploy.local.stack import ROOT, Ports, http_ok

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"


def load_yaml(path: Path):
    """PyYAML is not among the project's pinned packages; until it is, parse with an interpreter
    of this machine that has it (Debian's python3-yaml)."""
    try:
        import yaml

        return yaml.safe_load(path.read_text())
    except ImportError:
        pass
    for python in dict.fromkeys(filter(None, ("/usr/bin/python3", shutil.which("python3")))):
        if subprocess.run([python, "-c", "import yaml"], capture_output=True).returncode == 0:
            out = subprocess.run([python, "-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
                                 input=path.read_text(), capture_output=True, text=True, check=True)
            return json.loads(out.stdout)
    pytest.skip("no YAML parser: pin PyYAML in requirements.txt/constraints.txt or install python3-yaml")


@pytest.fixture(scope="module")
def compose():
    return load_yaml(COMPOSE)


def nginx_t(tmp_path: Path, values: dict) -> subprocess.CompletedProcess:
    conf = gateway.write_config(tmp_path, values)
    return subprocess.run([gateway.nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(conf)],
                          capture_output=True, text=True)


# -- gateway ------------------------------------------------------------------------------------

def local_values(tmp_path: Path) -> dict:
    (tmp_path / "logs").mkdir(exist_ok=True)
    return gateway.local_values(run_dir=tmp_path, logs_dir=tmp_path / "logs", web_root=ROOT / "web", host="127.0.0.1",
                                gateway_port=8080, status_port=8081, service_ports=dict(Ports().web))


def test_rendered_gateway_config_passes_nginx_t(tmp_path):
    done = nginx_t(tmp_path, local_values(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_rendering_leaves_nginx_variables_and_refuses_a_missing_value(tmp_path):
    values = local_values(tmp_path)
    rendered = gateway.render(values)
    assert "$request_id" in rendered and "$binary_remote_addr" in rendered
    assert not re.search(r"\$\{[A-Z]", rendered)
    del values["PAYROLL_UPSTREAM"]
    with pytest.raises(KeyError, match="PAYROLL_UPSTREAM"):
        gateway.render(values)


def test_gateway_routes_every_service_and_hides_metrics():
    template = gateway.TEMPLATE.read_text()
    for service in SERVICES:
        assert re.search(rf"location /api/{service}/\s+\{{ proxy_pass http://{service}/; \}}", template), service
    assert "location ~ ^/api/[^/]+/metrics(/|$)" in template
    assert "client_max_body_size 16m;" in template


def test_compose_gateway_provides_every_placeholder_and_passes_nginx_t(compose, tmp_path):
    env = {k: str(v) for k, v in compose["services"]["gateway"]["environment"].items()}
    assert gateway.placeholders() <= set(env), gateway.placeholders() - set(env)
    for service in SERVICES:
        assert env[f"{service.upper()}_UPSTREAM"] == f"{service}-web:8000"
    # The container's paths and host names do not exist here: keep every other value as compose
    # gives it (listen ports, STATUS_ALLOW, rate) and point those at this machine.
    (tmp_path / "logs").mkdir()
    env.update(RUN_DIR=str(tmp_path), ERROR_LOG=str(tmp_path / "logs" / "e.log"),
               ACCESS_LOG=str(tmp_path / "logs" / "a.log"), WEB_ROOT=str(ROOT / "web"))
    for service in SERVICES:
        env[f"{service.upper()}_UPSTREAM"] = "127.0.0.1:8000"
    done = nginx_t(tmp_path, env)
    assert done.returncode == 0, done.stderr
    mount = [v for v in compose["services"]["gateway"]["volumes"] if "nginx.conf.template" in v]
    assert mount == ["./deploy/gateway/nginx.conf.template:/etc/nginx/templates/nginx.conf.template:ro"]
    assert env["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx"


# -- compose ------------------------------------------------------------------------------------

def test_every_service_has_migrate_web_relay_consumer_scheduler_with_its_own_database_and_broker_user(compose):
    services = compose["services"]
    for svc in SERVICES:
        expected = {"migrate": [svc, "migrate"], "web": [svc, "web"], "relay": [svc, "relay"], "consumer": [svc, "consume"],
                    "scheduler": [svc, "schedule"]}
        for kind, command in expected.items():
            c = services[f"{svc}-{kind}"]
            assert c["image"] == "ekinerja:local" and c["build"]["dockerfile"] == "deploy/Dockerfile"
            assert c["command"] == command
            env = c["environment"]
            db_keys = [k for k in env if k.endswith("_DATABASE_URL")]
            assert db_keys == [f"{svc.upper()}_DATABASE_URL"], f"{svc}-{kind} sees {db_keys}"
            url = env[db_keys[0]]
            assert url.startswith(f"postgresql+psycopg://{svc}:${{{svc.upper()}_DB_PASSWORD:?")
            assert url.endswith(f"@postgres:5432/{svc}")
            assert env["JWKS_URL"] == "http://identity-web:8000/.well-known/jwks.json"
            assert env["AMQP_URL"].startswith(f"amqp://{svc}:${{{svc.upper()}_AMQP_PASSWORD:?") and "@rabbitmq:5672/" in env["AMQP_URL"]
            assert env["EKINERJA_DECLARE_TOPOLOGY"] == "none"  # the broker's definitions hold it
            assert env["METRICS_ADDR"] == "0.0.0.0"
            # The process model of test_process_model.py: read-only root, tmpfs /tmp, bounded.
            assert c["read_only"] is True and c["tmpfs"] == ["/tmp"], f"{svc}-{kind}"
            assert c["stop_grace_period"] == "30s"
            assert c["logging"]["options"]["max-size"] and c["deploy"]["resources"]["limits"]["memory"]
            if kind == "migrate":
                assert c["restart"] == "no"
                assert c["depends_on"] == {"postgres": {"condition": "service_healthy"}}
            else:
                assert c["depends_on"][f"{svc}-migrate"] == {"condition": "service_completed_successfully"}
                assert "/readyz" in " ".join(c["healthcheck"]["test"])
            if kind in ("relay", "consumer"):
                assert c["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}
            if svc == "identity":
                assert c["secrets"] == ["identity_key_passphrase"]
                assert env["IDENTITY_KEY_PASSPHRASE_FILE"] == "/run/secrets/identity_key_passphrase"
            if svc in ("activity", "approval") and kind in ("web", "scheduler"):
                assert c["volumes"] == [f"{svc}-data:/app/var"]  # evidence files / attendance inbox
    for name, c in services.items():
        assert "logging" in c and "deploy" in c, f"{name}: log rotation and resource limits"
    assert compose["secrets"]["identity_key_passphrase"] == {"file": "./secrets/identity_key_passphrase"}
    ignored = subprocess.run(["git", "check-ignore", "-q", "secrets/identity_key_passphrase"], cwd=ROOT)
    assert ignored.returncode == 0, "secrets/ must be ignored by git"
    assert services["rabbitmq"]["depends_on"] == {"broker-definitions": {"condition": "service_completed_successfully"}}
    assert services["prometheus"]["ports"] == ["127.0.0.1:9090:9090"] and services["alertmanager"]["ports"] == ["127.0.0.1:9093:9093"]
    gw = services["gateway"]
    assert gw["ports"] == ["8080:8080"]
    assert {f"{s}-web" for s in SERVICES} == set(gw["depends_on"])
    assert services["prometheus"]["ports"] == ["127.0.0.1:9090:9090"]
    assert services["grafana"]["ports"] == ["3000:3000"]


def test_secrets_come_only_from_the_uncommitted_env_file(compose):
    raw = COMPOSE.read_text()
    used = set(re.findall(r"\$\{([A-Z_]+):\?", raw))
    assert not re.findall(r"\$\{([A-Z_]+)(?:[:-](?!\?)|\})", raw), "every variable must be mandatory (:?)"
    example = dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
                   if line and not line.startswith("#"))
    assert set(example) == used
    assert all(v == "" for v in example.values()), ".env.example must not carry a value"
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "_PASS")) and not key.endswith("_FILE"):
                assert str(value).startswith("${"), f"{name}: {key} is a literal"
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert ignored.returncode == 0, ".env must be ignored by git"


def test_compose_cli_accepts_the_file(tmp_path):
    """docker-compose (Debian's, installed by bootstrap test mode) validates the file; it needs no
    engine for this. Missing, the test fails: it is not allowed to be skipped."""
    env_file = tmp_path / "test.env"
    env_file.write_text("".join(f"{k}=x{uuid.uuid4().hex[:8]}\n" for k in re.findall(r"^([A-Z_]+)=", ENV_EXAMPLE.read_text(), re.M)))
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) and subprocess.run([*argv, "version"], capture_output=True).returncode == 0:
            done = subprocess.run([*argv, "--env-file", str(env_file), "-f", str(COMPOSE), "config", "--quiet"],
                                  capture_output=True, text=True, cwd=ROOT)
            assert done.returncode == 0, done.stderr
            return
    pytest.fail("no docker compose client: deploy/local/bootstrap.sh test installs Debian's docker-compose")


def test_dockerfile_builds_one_image_for_every_service():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "\nFROM python:3.11-slim\n" in dockerfile
    assert "pip install -c constraints.txt -r requirements.txt" in dockerfile
    assert 'ENTRYPOINT ["ekinerja"]' in dockerfile and "\nUSER ekinerja\n" in dockerfile
    assert "COPY deploy/docker-entrypoint.sh /usr/local/bin/ekinerja" in dockerfile
    # Run-time packages only in the image: no test tools (Playwright alone was 165 of 363 MB).
    runtime = {l.strip().split("[")[0].lower() for l in (ROOT / "requirements.txt").read_text().splitlines()
               if l.strip() and not l.startswith(("#", "-"))}
    assert not runtime & {"pytest", "hypothesis", "playwright", "pyyaml", "kubernetes-validate", "matplotlib"}
    assert "-r requirements-test.txt" not in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"**/tests", "tests", "bench", "web", ".venv", ".env", "secrets"} <= set(ignored)
    assert 'VOLUME ["/app/var"]' in dockerfile and "EKINERJA_DATA_DIR=/app/var" in dockerfile
    assert "chown 10001:10001 /app/var" in dockerfile


def test_entrypoint_runs_a_service_process(tmp_path):
    """The image's entrypoint, run here with the venv instead of the image's Python."""
    script = ROOT / "deploy" / "docker-entrypoint.sh"
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
           "ORGANIZATION_DATABASE_URL": f"sqlite:///{tmp_path / 'organization.db'}"}
    done = subprocess.run(["sh", str(script), "organization", "migrate"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Running upgrade" in done.stderr
    refused = subprocess.run(["sh", str(script), "nonsense", "web"], env=env, capture_output=True, text=True)
    assert refused.returncode == 64 and "usage:" in refused.stderr

    port = Ports.free().gateway
    prom = tmp_path / "prom"
    prom.mkdir()
    (prom / "counter_999.db").write_bytes(b"left by an earlier run")
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", PROMETHEUS_MULTIPROC_DIR=str(prom), GUNICORN_WORKERS="1")
    web = subprocess.Popen(["sh", str(script), "organization", "web"], env=env, cwd=tmp_path, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not http_ok(f"http://127.0.0.1:{port}/readyz"):
            assert web.poll() is None and time.monotonic() < deadline, web.stderr.read().decode() if web.poll() else "timeout"
            time.sleep(0.2)
        assert not (prom / "counter_999.db").exists()
        assert http_ok(f"http://127.0.0.1:{port}/metrics")
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=60)


def test_postgres_init_creates_one_closed_database_per_service():
    """deploy/postgres/init-databases.sh for real, under a prefix, against the test PostgreSQL."""
    if not shutil.which("psql"):
        pytest.skip("psql is not installed")
    admin = make_url(PG_ADMIN_URL)
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    passwords = {s: f"pw-{uuid.uuid4().hex[:12]}" for s in SERVICES}
    env = {**os.environ, "EKINERJA_DB_PREFIX": prefix, "POSTGRES_USER": admin.username or "postgres",
           "POSTGRES_DB": admin.database or "postgres", "PGHOST": admin.host or "127.0.0.1",
           "PGPORT": str(admin.port or 5432), **{f"{s.upper()}_DB_PASSWORD": p for s, p in passwords.items()}}
    if admin.password:
        env["PGPASSWORD"] = admin.password
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        done = subprocess.run(["bash", str(ROOT / "deploy" / "postgres" / "init-databases.sh")], env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        for svc in SERVICES:
            own = admin.set(username=prefix + svc, password=passwords[svc], database=prefix + svc)
            e = create_engine(own)
            with e.begin() as conn:
                conn.execute(text("CREATE TABLE t (x int)"))
            e.dispose()
        other = admin.set(username=prefix + "payroll", password=passwords["payroll"], database=prefix + "identity")
        e = create_engine(other)
        with pytest.raises(Exception, match="permission denied for database"):
            e.connect()
        e.dispose()
    finally:
        with engine.connect() as conn:
            for svc in SERVICES:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{prefix}{svc}" WITH (FORCE)'))
                conn.execute(text(f'DROP ROLE IF EXISTS "{prefix}{svc}"'))
        engine.dispose()


# -- Prometheus and Grafana ----------------------------------------------------------------------

def targets(config) -> dict[str, set[str]]:
    return {job["job_name"]: {t for sc in job.get("static_configs", []) for t in sc["targets"]} for job in config["scrape_configs"]}


def test_prometheus_scrapes_every_process_of_the_compose_stack(compose):
    jobs = targets(load_yaml(ROOT / "deploy" / "prometheus" / "prometheus.yml"))
    assert jobs["ekinerja-web"] == {f"{s}-web:8000" for s in SERVICES}
    assert jobs["ekinerja-relay"] == {f"{s}-relay:9100" for s in SERVICES}
    assert jobs["ekinerja-consumer"] == {f"{s}-consumer:9100" for s in SERVICES}
    assert jobs["nginx"] == {"nginx-exporter:9113"}
    assert jobs["rabbitmq"] == jobs["rabbitmq-queues"] == {"rabbitmq:15692"}
    hosts = {t.split(":")[0] for ts in jobs.values() for t in ts} - {"localhost"}
    assert hosts <= set(compose["services"]), hosts - set(compose["services"])
    assert compose["services"]["nginx-exporter"]["command"] == ["--nginx.scrape-uri=http://gateway:8081/nginx_status"]


def test_local_prometheus_config_matches_the_runner_ports():
    jobs = targets(load_yaml(ROOT / "deploy" / "prometheus" / "prometheus.local.yml"))
    ports = Ports()
    assert jobs["ekinerja-web"] == {f"127.0.0.1:{p}" for p in ports.web.values()}
    assert jobs["ekinerja-relay"] == {f"127.0.0.1:{p}" for p in ports.relay_metrics.values()}
    assert jobs["ekinerja-consumer"] == {f"127.0.0.1:{p}" for p in ports.consumer_metrics.values()}


def exposed_metric_names() -> set[str]:
    """Every sample name the code can expose: the collectors of the metrics, relay, consumer and
    scheduler modules."""
    from prometheus_client.metrics import MetricWrapperBase

    from ekinerja_common import schedule

    names = set()
    for module in (metrics, relay, consumer, schedule):
        for collector in vars(module).values():
            if not isinstance(collector, MetricWrapperBase):
                continue
            for family in collector.describe():
                suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}[family.type]
                names.update(family.name + s for s in suffixes)
    return names


OUR_DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("ekinerja-*.json"))


def test_dashboards_are_generated_and_current():
    from deploy.grafana import generate

    files = generate.files()
    assert set(files) == set(OUR_DASHBOARDS)
    for path, text in files.items():
        assert path.read_text() == text, f"{path.name} is stale: python -m deploy.grafana.generate"


def test_grafana_dashboards_query_metrics_that_exist():
    provisioning = load_yaml(ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml")
    uids = {d["uid"] for d in provisioning["datasources"]}
    providers = load_yaml(ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "ekinerja.yml")
    assert providers["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"
    compose = load_yaml(COMPOSE)
    home = compose["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (ROOT / "deploy" / "grafana" / "dashboards" / Path(home).name).exists()
    everything = []
    for path in OUR_DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in (p for p in dashboard["panels"] if p["type"] != "row"):
            assert panel["datasource"]["uid"] in uids, panel["title"]
            exprs = [t["expr"] for t in panel["targets"]]
            used = {m for e in exprs for m in re.findall(r"\bekinerja_[a-z_]+", e)}
            assert used <= exposed_metric_names(), (path.name, panel["title"], used - exposed_metric_names())
            everything += exprs
    everything = "\n".join(everything)
    for needed in ("ekinerja_http_requests_total", "ekinerja_http_request_seconds_bucket", 'status=~"5..',
                   "ekinerja_relay_pending", "ekinerja_relay_oldest_pending_seconds", "ekinerja_consumer_messages_total",
                   "ekinerja_consumer_lag_seconds_bucket", 'outcome=~"dead', "rabbitmq_detailed_queue_messages", "nginx_",
                   "ekinerja_process_resident_memory_bytes", "ekinerja_db_pool_checked_out", "ekinerja_http_response_bytes_total"):
        assert needed in everything, needed
    rabbit = sorted((ROOT / "deploy" / "grafana" / "dashboards" / "rabbitmq").glob("*.json"))
    assert {p.name for p in rabbit} >= {"RabbitMQ-Overview.json"}


def test_the_signing_key_passphrase_is_a_compose_secret_never_committed(compose):
    """Issue 9 item 23: identity's web container reads the key passphrase from a secret file."""
    web = compose["services"]["identity-web"]
    assert web["environment"]["IDENTITY_KEY_PASSPHRASE_FILE"] == "/run/secrets/identity_key_passphrase"
    assert "identity_key_passphrase" in web["secrets"]
    assert "IDENTITY_KEY_PASSPHRASE" not in web["environment"]
    source = compose["secrets"]["identity_key_passphrase"]["file"]
    ignored = subprocess.run(["git", "check-ignore", "-q", source], cwd=ROOT)
    assert ignored.returncode == 0, f"{source} must be ignored by git"


def test_the_gateway_login_guard_lets_an_office_behind_one_address_in(compose):
    """Issue 9 item 11: the per-address guard in front of login is a flood guard an office of 2,000
    behind one NAT address lives with at 07:30 (guessing is slowed by identity, per account)."""
    import inspect as pyinspect

    from deploy.local import gateway, stack

    def per_second(rate: str) -> float:
        number, unit = re.fullmatch(r"(\d+)r/([sm])", rate).groups()
        return int(number) / (60 if unit == "m" else 1)

    local = pyinspect.signature(stack.Stack).parameters
    compose_env = compose["services"]["gateway"]["environment"]
    for rate, burst in ((local["login_rate"].default, local["login_burst"].default),
                        (pyinspect.signature(gateway.local_values).parameters["login_rate"].default,
                         pyinspect.signature(gateway.local_values).parameters["login_burst"].default),
                        (compose_env["LOGIN_RATE"], compose_env["LOGIN_BURST"])):
        # 2,000 logins within three minutes from one address pass the guard.
        assert int(burst) + per_second(rate) * 180 >= 2000, (rate, burst)
    template = gateway.TEMPLATE.read_text()
    assert "location = /api/identity/auth/password" in template
    assert "add_header Retry-After" in template and "detik" in template


def test_the_services_keep_idle_connections_longer_than_the_gateway(monkeypatch):
    """Issue 9 item 16: the side that closes an idle keep-alive connection must be nginx, never
    gunicorn, or nginx may send a POST on a connection being closed (a 502 it does not retry)."""
    import importlib

    monkeypatch.delenv("GUNICORN_KEEPALIVE", raising=False)
    conf = importlib.reload(importlib.import_module("ekinerja_common.gunicorn_conf"))
    template = gateway.TEMPLATE.read_text()
    upstreams = re.findall(r"^\s*upstream (\w+)\s*\{(.*)\}\s*$", template, re.M)
    assert {name for name, _ in upstreams} == set(SERVICES)
    for name, body in upstreams:
        found = re.search(r"keepalive_timeout (\d+)s;", body)
        assert found, f"upstream {name} leaves keepalive_timeout to nginx's default"
        assert conf.keepalive > int(found.group(1)), (name, conf.keepalive, found.group(1))
    monkeypatch.setenv("GUNICORN_KEEPALIVE", "90")
    assert importlib.reload(conf).keepalive == 90
