"""deploy/k8s rendered by kustomize (kubectl's) for every overlay and validated strictly:
built-in kinds with kubernetes-validate --strict, the operators' kinds (RabbitmqCluster, the
Messaging Topology objects, CloudNativePG Cluster/ScheduledBackup) against their CRD schemas
vendored in deploy/k8s/schemas, made strict the same way (no unknown field anywhere). Then what
the manifests must say: sizes per overlay, probes, limits, read-only roots, migrations first,
CronJobs = the schedule table, NetworkPolicies = database + broker + JWKS, secrets by reference."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from ekinerja_common.events import SERVICES
from ekinerja_common.schedule import JOBS

from deploy.k8s import generate
from deploy.local.stack import ROOT

K8S = ROOT / "deploy" / "k8s"
SCHEMAS = K8S / "schemas"
K8S_VERSION = "1.30"
OVERLAYS = ("regency", "province")


def kustomize(path: Path) -> list[dict]:
    if shutil.which("kubectl"):
        argv = ["kubectl", "kustomize", str(path)]
    elif shutil.which("kustomize"):
        argv = ["kustomize", "build", str(path)]
    else:
        pytest.fail("neither kubectl nor kustomize is installed (deploy/local/bootstrap.sh test)")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {o: kustomize(K8S / "overlays" / o) for o in OVERLAYS}


def strict(schema: dict) -> dict:
    """additionalProperties: false wherever a CRD lists properties and does not allow unknown
    fields: what kubernetes-validate's -strict schemas do for built-in kinds."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out \
                and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def crd_schemas() -> dict[tuple[str, str], dict]:
    index = json.loads((SCHEMAS / "index.json").read_text())
    out = {}
    for key, entry in index.items():
        group, version, kind = key.split("/")
        out[(f"{group}/{version}", kind)] = strict(json.loads((SCHEMAS / entry["file"]).read_text()))
    return out


def test_generated_manifests_are_current():
    for path, text in generate.files().items():
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is stale: python -m deploy.k8s.generate"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_strictly(rendered, overlay, tmp_path):
    crds = crd_schemas()
    builtin = []
    for doc in rendered[overlay]:
        key = (doc["apiVersion"], doc["kind"])
        if key in crds:
            errors = sorted(jsonschema.Draft7Validator(crds[key]).iter_errors(doc), key=lambda e: list(e.path))
            assert not errors, f"{doc['kind']}/{doc['metadata']['name']}: " + "; ".join(
                f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
        else:
            assert doc["apiVersion"].split("/")[0].endswith((".k8s.io",)) or "." not in doc["apiVersion"].split("/")[0], \
                f"{doc['kind']} ({doc['apiVersion']}) has no vendored CRD schema in deploy/k8s/schemas"
            builtin.append(doc)
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(yaml.safe_dump_all(builtin))
    cli = shutil.which("kubernetes-validate") or str(ROOT / ".venv" / "bin" / "kubernetes-validate")
    done = subprocess.run([cli, "--strict", "-k", K8S_VERSION, "--quiet", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and "WARN" not in done.stdout, done.stdout + done.stderr


def objects(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_sizes_of_each_overlay(rendered):
    regency, province = rendered["regency"], rendered["province"]
    dep = objects(regency, "Deployment")
    for s in SERVICES:
        assert 1 <= dep[f"{s}-web"]["spec"]["replicas"] <= 2
        assert dep[f"{s}-relay"]["spec"]["replicas"] == dep[f"{s}-consumer"]["spec"]["replicas"] == 1
    assert not objects(regency, "HorizontalPodAutoscaler")
    dep = objects(province, "Deployment")
    hpa = objects(province, "HorizontalPodAutoscaler")
    for s in SERVICES:
        assert "replicas" not in dep[f"{s}-web"]["spec"], "the HPA owns the web replica count"
        metrics = {m["type"]: m for m in hpa[f"{s}-web"]["spec"]["metrics"]}
        assert metrics["Resource"]["resource"]["name"] == "cpu"
        assert metrics["Pods"]["pods"]["metric"]["name"] == "ekinerja_http_requests_per_second"
        assert dep[f"{s}-relay"]["spec"]["replicas"] >= 2 and dep[f"{s}-consumer"]["spec"]["replicas"] >= 2
    assert objects(province, "RabbitmqCluster")["ekinerja-broker"]["spec"]["replicas"] == 3
    assert {c["spec"]["instances"] for c in objects(province, "Cluster").values()} == {3}
    assert {c["spec"]["instances"] for c in objects(regency, "Cluster").values()} == {1}


def test_pods_are_probed_bounded_read_only_and_migrate_first(rendered):
    docs = rendered["regency"]
    for name, d in objects(docs, "Deployment").items():
        spec = d["spec"]["template"]["spec"]
        for c in spec["containers"]:
            assert {"readinessProbe", "livenessProbe"} <= set(c), f"{name}/{c['name']}"
            assert c["resources"]["limits"]["memory"] and c["resources"]["requests"]["cpu"]
            assert c["securityContext"]["readOnlyRootFilesystem"] is True
        if name == "gateway":
            continue
        assert [i["args"][1] for i in spec["initContainers"]] == ["migrate"], name
        assert d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        assert spec["containers"][0]["securityContext"]["runAsUser"] == 10001
        assert {"name": "tmp", "mountPath": "/tmp"} in spec["containers"][0]["volumeMounts"]
    pdbs = objects(docs, "PodDisruptionBudget")
    for s in SERVICES:
        assert {f"{s}-web", f"{s}-relay", f"{s}-consumer"} <= set(pdbs)
        assert objects(docs, "ScheduledBackup")[f"{s}-db-daily"]["spec"]["cluster"]["name"] == f"{s}-db"
        backup = objects(docs, "Cluster")[f"{s}-db"]["spec"]["backup"]
        assert backup["barmanObjectStore"]["destinationPath"].endswith(f"/{s}") and backup["retentionPolicy"]


def test_cronjobs_are_the_schedule_table(rendered):
    cron = objects(rendered["regency"], "CronJob")
    assert set(cron) == {f"{j.service}-{j.name}" for j in JOBS}
    for j in JOBS:
        spec = cron[f"{j.service}-{j.name}"]["spec"]
        assert spec["schedule"] == j.cron and spec["timeZone"] == "Asia/Jakarta" and spec["concurrencyPolicy"] == "Forbid"
        container = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == [j.service, "schedule", "--run", j.name]


def test_network_policies_allow_a_service_its_database_the_broker_and_jwks_only(rendered):
    pol = objects(rendered["regency"], "NetworkPolicy")
    assert pol["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for s in SERVICES:
        egress = pol[f"{s}-app"]["spec"]["egress"]
        targets = []
        for rule in egress:
            for to in rule["to"]:
                labels = to.get("podSelector", {}).get("matchLabels", {})
                targets.append(labels)
        expected = [{"k8s-app": "kube-dns"}, {"cnpg.io/cluster": f"{s}-db"}, {"app.kubernetes.io/name": "ekinerja-broker"}]
        if s != "identity":
            expected.append({"app.kubernetes.io/part-of": "ekinerja", "ekinerja.go.id/service": "identity",
                             "ekinerja.go.id/kind": "web"})
        assert targets == expected, s
        assert pol[f"{s}-db"]["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["ekinerja.go.id/service"] == s


def test_secrets_only_by_reference(rendered):
    for overlay, docs in rendered.items():
        assert not objects(docs, "Secret"), overlay
        text = yaml.safe_dump_all(docs)
        for word in ("password:", "passphrase:"):
            for line in text.splitlines():
                if line.strip().startswith(word):
                    pytest.fail(f"{overlay}: literal {line.strip()}")
        for d in objects(docs, "Deployment").values():
            for c in d["spec"]["template"]["spec"]["containers"] + d["spec"]["template"]["spec"].get("initContainers", []):
                for e in c.get("env", []):
                    if any(w in e["name"] for w in ("PASSWORD", "PASSPHRASE", "DATABASE_URL")):
                        assert "valueFrom" in e, f"{d['metadata']['name']}: {e['name']}"
