"""The broker's topology and one user per service, for brokers that services do not configure.

Locally every relay and consumer declares the whole topology on connect (ekinerja_common.topology,
as guest). In compose and Kubernetes the broker holds it instead, and each service logs in as a
user of its own that may only:

* **write** (publish to) the event exchange, and the default exchange for its delayed retries;
* **read** (consume) its own queue and its own dead-letter queue (for the replay command);
* **configure** nothing: it cannot declare, bind or delete anything, its own queues included.

Both artefacts are generated from topology.declare itself (recorded, not re-typed), so the queue
arguments and bindings are exactly what the services would declare:

    python -m ekinerja_common.broker_definitions json OUT.json   # compose: RabbitMQ load_definitions,
        # passwords from <SERVICE>_AMQP_PASSWORD and RABBITMQ_PASSWORD (user "admin")
    python -m ekinerja_common.broker_definitions k8s              # Messaging Topology Operator objects

Services of such a broker run with EKINERJA_DECLARE_TOPOLOGY=none.

Known gap: publishing to the default exchange is one permission for every queue, so a service's
user could put a message into another service's queue by name (it cannot read or delete one).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import sys

from .config import Settings
from .events import SERVICES
from . import topology

ADMIN = "admin"


class _Recorder:
    """Stands in for a pika channel to capture what topology.declare would declare."""

    def __init__(self) -> None:
        self.exchanges: dict[str, dict] = {}
        self.queues: dict[str, dict] = {}
        self.bindings: list[dict] = []

    def exchange_declare(self, name, exchange_type="direct", durable=False, **_kw):
        self.exchanges[name] = {"type": exchange_type, "durable": durable}

    def queue_declare(self, name, durable=False, arguments=None, **_kw):
        self.queues[name] = {"durable": durable, "arguments": dict(arguments or {})}

    def queue_bind(self, queue, exchange, routing_key=None, **_kw):
        b = {"source": exchange, "destination": queue, "routing_key": routing_key or ""}
        if b not in self.bindings:
            self.bindings.append(b)


def recorded(prefix: str = "") -> _Recorder:
    rec = _Recorder()
    for service in SERVICES:
        settings = Settings(service=service, database_url="sqlite://", queue_prefix=prefix)
        topology.declare(rec, settings, force=True)
    return rec


def permissions(service: str, prefix: str = "") -> dict[str, str]:
    names = topology.names(Settings(service=service, database_url="sqlite://", queue_prefix=prefix), service)
    return {
        "configure": "^$",
        "write": f"^({re.escape(names['exchange'])}|amq\\.default)$",
        "read": f"^({re.escape(names['queue'])}|{re.escape(names['dead'])})$",
    }


def password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(passwords: dict[str, str], admin_password: str, prefix: str = "", vhost: str = "/") -> dict:
    rec = recorded(prefix)
    users = [{"name": ADMIN, "password_hash": password_hash(admin_password),
              "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}]
    perms = [{"user": ADMIN, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}]
    for service in SERVICES:
        users.append({"name": f"{prefix}{service}", "password_hash": password_hash(passwords[service]),
                      "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []})
        perms.append({"user": f"{prefix}{service}", "vhost": vhost, **permissions(service, prefix)})
    return {
        "users": users,
        "vhosts": [{"name": vhost}],
        "permissions": perms,
        "exchanges": [{"name": n, "vhost": vhost, "type": e["type"], "durable": e["durable"], "auto_delete": False,
                       "internal": False, "arguments": {}} for n, e in rec.exchanges.items()],
        "queues": [{"name": n, "vhost": vhost, "durable": q["durable"], "auto_delete": False,
                    "arguments": q["arguments"]} for n, q in rec.queues.items()],
        "bindings": [{"source": b["source"], "vhost": vhost, "destination": b["destination"], "destination_type": "queue",
                      "routing_key": b["routing_key"], "arguments": {}} for b in rec.bindings],
    }


def _k8s_name(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")


def k8s_objects(cluster: str = "ekinerja-broker", queue_type: str = "quorum") -> list[dict]:
    """Messaging Topology Operator objects: the same exchanges, queues and bindings (quorum
    queues in a cluster), a User per service (password from the Secret <service>-amqp, key
    password) and its Permission."""
    os.environ["EKINERJA_QUEUE_TYPE"] = queue_type
    try:
        rec = recorded()
    finally:
        del os.environ["EKINERJA_QUEUE_TYPE"]
    ref = {"rabbitmqClusterReference": {"name": cluster}}
    api = "rabbitmq.com/v1beta1"
    out: list[dict] = []
    for name, e in rec.exchanges.items():
        out.append({"apiVersion": api, "kind": "Exchange", "metadata": {"name": _k8s_name(name)},
                    "spec": {"name": name, "type": e["type"], "durable": e["durable"], "autoDelete": False, **ref}})
    for name, q in rec.queues.items():
        args = {k: v for k, v in q["arguments"].items() if k != "x-queue-type"}
        spec = {"name": name, "type": q["arguments"].get("x-queue-type", "quorum"), "durable": q["durable"],
                "autoDelete": False, **ref}
        if args:
            spec["arguments"] = args
        out.append({"apiVersion": api, "kind": "Queue", "metadata": {"name": _k8s_name(name)}, "spec": spec})
    for b in rec.bindings:
        out.append({"apiVersion": api, "kind": "Binding",
                    "metadata": {"name": _k8s_name(f"{b['destination']}-{b['routing_key'] or 'all'}")},
                    "spec": {"source": b["source"], "destination": b["destination"], "destinationType": "queue",
                             "routingKey": b["routing_key"], **ref}})
    for service in SERVICES:
        out.append({"apiVersion": api, "kind": "User", "metadata": {"name": f"{service}-amqp"},
                    "spec": {"tags": [], "importCredentialsSecret": {"name": f"{service}-amqp"}, **ref}})
        p = permissions(service)
        out.append({"apiVersion": api, "kind": "Permission", "metadata": {"name": f"{service}-amqp"},
                    "spec": {"vhost": "/", "userReference": {"name": f"{service}-amqp"},
                             "permissions": {"configure": p["configure"], "write": p["write"], "read": p["read"]},
                             **ref}})
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["json"] and len(argv) == 2:
        env = os.environ
        missing = [f"{s.upper()}_AMQP_PASSWORD" for s in SERVICES if not env.get(f"{s.upper()}_AMQP_PASSWORD")]
        if not env.get("RABBITMQ_PASSWORD"):
            missing.append("RABBITMQ_PASSWORD")
        if missing:
            print(f"missing: {', '.join(missing)}", file=sys.stderr)
            return 2
        doc = definitions({s: env[f"{s.upper()}_AMQP_PASSWORD"] for s in SERVICES}, env["RABBITMQ_PASSWORD"],
                          prefix=env.get("QUEUE_PREFIX", ""))
        tmp = argv[1] + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.chmod(tmp, 0o644)  # read by the rabbitmq user of the broker's container
        os.replace(tmp, argv[1])
        print(f"wrote {argv[1]}: {len(doc['users'])} users, {len(doc['queues'])} queues, {len(doc['bindings'])} bindings")
        return 0
    if argv == ["k8s"]:
        import yaml  # only where the manifests are generated (a developer machine), not in the image

        header = ("# Generated by `python -m ekinerja_common.broker_definitions k8s` from topology.declare;\n"
                  "# tests/deploy checks it is current. Do not edit by hand.\n")
        print(header + yaml.safe_dump_all(k8s_objects(), sort_keys=False), end="")
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
