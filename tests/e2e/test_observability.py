"""What the operators see, proven on the running stack: a real Prometheus (Debian's, unpacked by
bootstrap) scrapes every process of the end-to-end stack — five web processes, five relays, five
consumers — plus nginx through its exporter and RabbitMQ through its plugin, every second, while a
piece of the story runs (an entry recorded, approved, paid). Then:

* every metric family the issue asks for is present in each process kind, and the ones that
  count work moved during the story;
* every expression of every E-Kinerja dashboard evaluates on that Prometheus and names only
  series that really exist there; RabbitMQ's official dashboards parse;
* the alert and recording rules load and evaluate without error on live data;
* the overview dashboard is drawn from that data (EKINERJA_DASHBOARD_PNG=path keeps the picture:
  that is how docs/img/overview.png was made).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import yaml

from ekinerja_common.events import SERVICES
from ekinerja_common.testing import wait_until

from deploy.grafana import render
from deploy.local.stack import ROOT, Ports

pytestmark = pytest.mark.e2e

WIB = timezone(timedelta(hours=7))
BIN = ROOT / ".venv" / "bin"
PEER_NIP = "199209092017121002"        # Yusuf Hidayat, staff under Rina Wulandari
SUPERVISOR_NIP = "198007222005012003"  # Rina Wulandari, Kepala Bidang Aplikasi Informatika
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"

# What each process kind must expose (issue 14, "Metrics"), and which of them must move when
# the story runs through that process.
WEB = {"ekinerja_http_requests_total", "ekinerja_http_request_seconds_bucket", "ekinerja_http_in_flight_requests",
       "ekinerja_http_request_bytes_total", "ekinerja_http_response_bytes_total", "ekinerja_process_cpu_seconds",
       "ekinerja_process_resident_memory_bytes", "ekinerja_process_open_fds", "ekinerja_gunicorn_workers",
       "ekinerja_gunicorn_threads_per_worker", "ekinerja_db_pool_checked_out", "ekinerja_db_pool_overflow",
       "ekinerja_db_pool_wait_seconds_bucket", "ekinerja_db_query_seconds_bucket"}
WEB_MOVING = {"ekinerja_http_requests_total", "ekinerja_http_response_bytes_total", "ekinerja_db_query_seconds_count",
              "ekinerja_db_pool_wait_seconds_count", "ekinerja_http_request_seconds_count"}
RELAY = {"ekinerja_relay_pending", "ekinerja_relay_oldest_pending_seconds", "ekinerja_process_resident_memory_bytes",
         "ekinerja_process_open_fds", "ekinerja_broker_connections_total", "ekinerja_db_query_seconds_bucket",
         "process_resident_memory_bytes"}
RELAY_MOVING = {"ekinerja_relay_published_total", "ekinerja_relay_confirm_seconds_count"}
CONSUMER = {"ekinerja_process_resident_memory_bytes", "ekinerja_broker_connections_total", "ekinerja_process_cpu_seconds"}
CONSUMER_MOVING = {"ekinerja_consumer_messages_total", "ekinerja_consumer_handle_seconds_count",
                   "ekinerja_consumer_lag_seconds_count"}
# Where the story's events go: activity.submitted (activity -> approval), activity.approved
# (approval -> activity, payroll).
RELAYS_THAT_PUBLISH = ("activity", "approval")
CONSUMERS_THAT_HANDLE = ("activity", "approval", "payroll")


def http() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def scrape(port: int) -> dict[str, float]:
    """Sum of every sample per name of a process's /metrics."""
    totals: dict[str, float] = {}
    for line in http().get(f"http://127.0.0.1:{port}/metrics", timeout=10).text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)", line)
        if m:
            totals[m.group(1)] = totals.get(m.group(1), 0.0) + float(m.group(2))
    return totals


def scrape_all(stack) -> dict[str, dict[str, float]]:
    out = {}
    for s in SERVICES:
        out[f"{s}.web"] = scrape(stack.ports.web[s])
        out[f"{s}.relay"] = scrape(stack.ports.relay_metrics[s])
        out[f"{s}.consumer"] = scrape(stack.ports.consumer_metrics[s])
    return out


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not path:
        pytest.fail(f"{name} is missing: deploy/local/bootstrap.sh test unpacks it from Debian's packages")
    return str(path)


@pytest.fixture(scope="module")
def prometheus(stack, broker, tmp_path_factory):
    work = tmp_path_factory.mktemp("prometheus")
    ports = Ports.free()
    prom_port, exporter_port = ports.gateway, ports.gateway_status
    exporter = subprocess.Popen([tool("prometheus-nginx-exporter"), f"-nginx.scrape-uri=http://127.0.0.1:{stack.ports.gateway_status}/nginx_status",
                                 f"-web.listen-address=127.0.0.1:{exporter_port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    rules = work / "rules"
    shutil.copytree(ROOT / "deploy" / "prometheus" / "rules", rules)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules / "*.yml")],
        "scrape_configs": [
            {"job_name": "ekinerja-web", "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in stack.ports.web.values()]}]},
            {"job_name": "ekinerja-relay", "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in stack.ports.relay_metrics.values()]}]},
            {"job_name": "ekinerja-consumer", "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in stack.ports.consumer_metrics.values()]}]},
            {"job_name": "nginx", "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]},
            {"job_name": "rabbitmq", "static_configs": [{"targets": [f"127.0.0.1:{broker.metrics_port}"], "labels": {"namespace": "ekinerja"}}]},
            {"job_name": "rabbitmq-queues", "metrics_path": "/metrics/detailed", "params": {"family": ["queue_coarse_metrics"]},
             "static_configs": [{"targets": [f"127.0.0.1:{broker.metrics_port}"], "labels": {"namespace": "ekinerja"}}]},
        ],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    server = subprocess.Popen([tool("prometheus"), f"--config.file={work / 'prometheus.yml'}",
                               f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{prom_port}",
                               "--storage.tsdb.retention.time=2h"],
                              stdout=subprocess.DEVNULL, stderr=open(work / "prometheus.log", "wb"), start_new_session=True)
    base = f"http://127.0.0.1:{prom_port}"
    try:
        wait_until(lambda: _ok(f"{base}/-/ready"), timeout=60, interval=0.3, what="Prometheus to start")
        wait_until(lambda: all(t["health"] == "up" for t in targets(base)) and len(targets(base)) == 3 * len(SERVICES) + 3,
                   timeout=60, interval=0.5, what=f"every target up: {[(t['scrapeUrl'], t['lastError']) for t in targets(base) if t['health'] != 'up']}")
        yield base
    finally:
        for proc in (server, exporter):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _ok(url: str) -> bool:
    try:
        return http().get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def targets(base: str) -> list[dict]:
    return http().get(f"{base}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]


def query(base: str, expr: str) -> dict:
    return http().get(f"{base}/api/v1/query", params={"query": expr}, timeout=30).json()


def test_every_process_exposes_the_families_and_they_move_during_the_story(stack, person, prometheus):
    started = time.time()
    before = scrape_all(stack)
    staff, boss, bpkad = person(PEER_NIP), person(SUPERVISOR_NIP), person("bpkad")
    today = datetime.now(WIB).date()
    duties = wait_until(lambda: staff.get(f"/api/activity/duties?date={today}").json().get("duties"), timeout=30,
                        what="duties")
    r = staff.post("/api/activity/entries", {"date": str(today), "start_time": "18:00", "end_time": "19:00",
                                             "duty_id": duties[0]["id"], "volume": 1,
                                             "description": "Pemantauan metrik layanan"})
    assert r.status_code == 201, r.text
    entry = r.json()
    wait_until(lambda: any(i["entry_id"] == entry["id"] for i in boss.get("/api/approval/queue").json()["items"]),
               timeout=30, what="the entry in the supervisor's queue")
    assert boss.post(f"/api/approval/entries/{entry['id']}/approve").status_code == 200
    wait_until(lambda: staff.get(f"/api/activity/entries/{entry['id']}").json()["status"] == "approved", timeout=30,
               what="the approval to reach activity")
    assert bpkad.post(f"/api/payroll/runs/{today.year}/{today.month}/compute").status_code == 200
    for s in SERVICES:  # every web process sees at least a request of the story's kind
        assert http().get(stack.url(f"/api/{s}/healthz"), timeout=10).status_code == 200
    assert staff.get("/api/organization/units").status_code == 200  # organization's database too
    # Consumers record the lag after their commit: wait until payroll has handled the approval.
    wait_until(lambda: scrape(stack.ports.consumer_metrics["payroll"]).get("ekinerja_consumer_lag_seconds_count", 0)
               > before["payroll.consumer"].get("ekinerja_consumer_lag_seconds_count", 0), timeout=30,
               what="payroll's consumer to handle the approval")
    after = scrape_all(stack)

    missing, still = {}, {}
    for s in SERVICES:
        for kind, present, moving in (("web", WEB, WEB_MOVING), ("relay", RELAY, RELAY_MOVING if s in RELAYS_THAT_PUBLISH else set()),
                                      ("consumer", CONSUMER, CONSUMER_MOVING if s in CONSUMERS_THAT_HANDLE else set())):
            name = f"{s}.{kind}"
            if absent := (present | moving) - set(after[name]):
                missing[name] = sorted(absent)
            if stuck := {m for m in moving if after[name].get(m, 0) <= before[name].get(m, 0)}:
                still[name] = sorted(stuck)
    assert not missing, f"families missing: {missing}"
    assert not still, f"families that did not move during the story: {still}"
    assert after["activity.web"]["ekinerja_http_request_bytes_total"] > before["activity.web"].get("ekinerja_http_request_bytes_total", 0)

    # Prometheus saw the same: the gateway's exporter and the broker's plugin too.
    time.sleep(2.5)  # two more scrapes
    for expr in ('sum(increase(nginx_http_requests_total[5m])) > 0', 'count(rabbitmq_detailed_queue_messages) > 0',
                 'sum(ekinerja_consumer_lag_seconds_count{service="payroll"}) > 0', "count(up == 1) >= 18"):
        result = query(prometheus, expr)
        assert result["status"] == "success" and result["data"]["result"], (expr, result)
    if os.environ.get("EKINERJA_DASHBOARD_PNG"):
        # For the README's picture: a few more minutes of the same work, so the panels have a shape.
        for i in range(12):
            r = staff.post("/api/activity/entries", {"date": str(today), "start_time": f"{6 + i // 4:02d}:{(i % 4) * 15:02d}",
                                                     "end_time": f"{6 + i // 4:02d}:{(i % 4) * 15 + 10:02d}",
                                                     "duty_id": duties[0]["id"], "volume": 1, "description": f"Pemantauan {i}"})
            if r.status_code == 201:
                wait_until(lambda: any(i["entry_id"] == r.json()["id"] for i in boss.get("/api/approval/queue").json()["items"]),
                           timeout=30, what="the entry in the queue")
                boss.post(f"/api/approval/entries/{r.json()['id']}/approve")
            bpkad.post(f"/api/payroll/runs/{today.year}/{today.month}/compute")
            time.sleep(8)
    _draw_overview(prometheus, started, time.time())


def _draw_overview(base: str, start: float, end: float) -> None:
    board = json.loads((DASHBOARDS / "ekinerja-overview.json").read_text())
    keep = os.environ.get("EKINERJA_DASHBOARD_PNG")
    out = Path(keep) if keep else Path(os.environ.get("TMPDIR", "/tmp")) / f"ekinerja-overview-{os.getpid()}.png"
    render.render(base, board, out, start, end, rate_interval="20s")
    assert out.stat().st_size > 20_000
    if not keep:
        out.unlink()


def series_names(base: str) -> set[str]:
    return set(http().get(f"{base}/api/v1/label/__name__/values", timeout=10).json()["data"])


def test_every_dashboard_expression_evaluates_on_the_scraped_stack(prometheus):
    names = series_names(prometheus)
    # Recording-rule outputs exist only once their windows have data; Prometheus' own function.
    problems = []
    for path in sorted(DASHBOARDS.glob("ekinerja-*.json")):
        board = json.loads(path.read_text())
        for panel in (p for p in board["panels"] if p["type"] != "row"):
            for target in panel["targets"]:
                expr = render.expand(target["expr"], "15s")
                result = query(prometheus, expr)
                if result["status"] != "success":
                    problems.append((path.name, panel["title"], result.get("error")))
                    continue
                unknown = {m for m in re.findall(r"\b((?:ekinerja|rabbitmq|nginx|process)_[a-z_]+)\b", expr)} - names
                # Scheduled jobs run in the scheduler processes, which the local runner does not start.
                unknown -= {"ekinerja_job_runs_total", "ekinerja_job_last_success_timestamp_seconds"}
                if unknown:
                    problems.append((path.name, panel["title"], f"no such series scraped: {sorted(unknown)}"))
    assert not problems, problems


def test_rabbitmq_official_dashboards_parse_on_prometheus(prometheus):
    problems = []
    for path in sorted((DASHBOARDS / "rabbitmq").glob("*.json")):
        board = json.loads(path.read_text())
        panels = [p for row in board["panels"] for p in [row, *row.get("panels", [])]]
        for panel in panels:
            for target in panel.get("targets", []):
                expr = target.get("expr")
                if not expr:
                    continue
                expr = (expr.replace("$rabbitmq_cluster", ".*").replace("$namespace", "ekinerja")
                        .replace("$endpoint", ".*").replace("$__rate_interval", "1m").replace("$__interval", "1m")
                        .replace("$__range", "1h"))
                result = query(prometheus, expr)
                if result["status"] != "success":
                    problems.append((path.name, panel.get("title"), result.get("error")))
    assert not problems, problems


def test_alert_and_recording_rules_evaluate_on_live_data(prometheus):
    wait_until(lambda: all(r.get("lastEvaluation", "").startswith("20") for g in _groups(prometheus) for r in g["rules"]),
               timeout=20, what="every rule evaluated once")
    bad = [(r["name"], r.get("lastError")) for g in _groups(prometheus) for r in g["rules"] if r["health"] != "ok"]
    assert not bad, bad
    firing = [a["labels"]["alertname"] for a in http().get(f"{prometheus}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
              if a["state"] == "firing"]
    assert "ServiceDown" not in firing, firing


def _groups(base: str) -> list[dict]:
    return http().get(f"{base}/api/v1/rules", timeout=10).json()["data"]["groups"]
