"""Alert rules, their unit tests, the Prometheus and Alertmanager configuration: checked by the
real tools (promtool, amtool from Debian's packages, unpacked by bootstrap test mode)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.local.stack import ROOT

PROM = ROOT / "deploy" / "prometheus"
BIN = ROOT / ".venv" / "bin"


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not path:
        pytest.fail(f"{name} is missing: deploy/local/bootstrap.sh test unpacks it from Debian's packages")
    return str(path)


def run(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=120)


def alert_names() -> set[str]:
    names = set()
    for path in (PROM / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            names |= {r["alert"] for r in group["rules"] if "alert" in r}
    return names


def test_rules_pass_promtool_check():
    done = run(tool("promtool"), "check", "rules", *map(str, sorted((PROM / "rules").glob("*.yml"))))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_unit_test_that_fires_it_and_the_tests_pass():
    tests = sorted((PROM / "tests").glob("*.yml"))
    fired = set()
    for path in tests:
        for case in yaml.safe_load(path.read_text())["tests"]:
            fired |= {t["alertname"] for t in case.get("alert_rule_test", []) if t.get("exp_alerts")}
    assert alert_names() - fired == set(), "alerts without a test that makes them fire"
    done = run(tool("promtool"), "test", "rules", *map(str, tests))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_issue_s_alerts_exist():
    wanted = {"ServiceDown", "ErrorBudgetBurnFast", "ErrorBudgetBurnSlow", "LatencyBudgetBurnFast", "LatencyBudgetBurnSlow",
              "OutboxBacklogGrowing", "OutboxOldestEventTooOld", "ConsumerLagHigh", "DeadLettersPresent", "QueueDepthHigh",
              "DiskSpaceLow", "HostMemoryLow", "CertificateExpiresSoon"}
    assert wanted <= alert_names()


def test_prometheus_config_passes_promtool_with_its_rules(tmp_path):
    """The compose Prometheus config, with its container paths pointed at the repository."""
    for name in ("prometheus.yml", "prometheus.local.yml"):
        text = (PROM / name).read_text().replace("/etc/prometheus/", f"{PROM}/").replace("  - rules/*.yml", f"  - {PROM}/rules/*.yml")
        (tmp_path / name).write_text(text)
        done = run(tool("promtool"), "check", "config", str(tmp_path / name))
        assert done.returncode == 0, done.stdout + done.stderr
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/rules:/etc/prometheus/rules:ro" in mounts
    assert "./deploy/prometheus/tls-targets.yml:/etc/prometheus/tls-targets.yml:ro" in mounts


def test_alertmanager_config_passes_amtool_and_routes_pages_to_on_call():
    path = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
    done = run(tool("amtool"), "check-config", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    for labels, receiver in (("severity=page alertname=ServiceDown", "tim-tik-oncall"),
                             ("severity=ticket alertname=DeadLettersPresent", "tim-tik")):
        done = run(tool("amtool"), "config", "routes", "test", "--config.file", str(path), *labels.split())
        assert done.returncode == 0 and done.stdout.strip() == receiver, done.stdout + done.stderr
