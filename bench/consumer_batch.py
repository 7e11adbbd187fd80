"""Benchmark: approval's consumer applying a backlog of activity.submitted, in the same process,
database and minute:

* ``one_at_a_time``: ``Consumer.apply`` per message (the path of a lone delivery);
* ``batched_before``: ``Consumer.apply_many`` in batches of ``--batch`` with the handlers and the
  queue read model of git revision ``--before`` (default ``main``: its ``inbox.py`` and
  ``queue_model.py`` loaded from git; without a batch form ``apply_many`` runs each handler in
  turn, as it did there): a locked read, an advisory lock and an INSERT per submission;
* ``batched``: this tree's ``apply_many``, where a run of submissions goes to the handler's batch
  form (one SELECT … FOR UPDATE, one INSERT for the run).

    .venv/bin/python bench/consumer_batch.py [--messages 1000] [--batch 100] [--rounds 3]
                                             [--broker-messages 5000] [--before main]

With ``--broker-messages`` (0 to skip) the last two also run end to end through RabbitMQ
(EKINERJA_TEST_AMQP, queues of their own prefix): a backlog of that many messages in approval's
queue, then ``Consumer.run`` (prefetch, batches, multiple ack after the commit) until all are
processed — the surge's "approval consumer catching up" stage without the rest of the stack —
beside ``bare_consume_ack``, a loop that only consumes the same backlog and acks it in the same
batches (the broker's and pika's ceiling on this machine).

A fresh PostgreSQL database (EKINERJA_TEST_PG), migrated, with a team of 50 under a head (through
the consumer, as events); rounds alternate the paths, each on new entries. Afterwards every
submitted entry is checked to be in the supervisor's queue exactly once. Results: stdout and
bench/results/consumer_batch.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from from_git import module_from_git  # noqa: E402
from approval_bulk import Seeder, working_days  # noqa: E402

import approval_bulk  # noqa: E402
import pika  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from approval.app import create_app  # noqa: E402
from approval.inbox import HANDLERS  # noqa: E402
from approval.orm import ValidationItem  # noqa: E402
from ekinerja_common import topology  # noqa: E402
from ekinerja_common.config import Settings  # noqa: E402
from ekinerja_common.consumer import Consumer  # noqa: E402
from ekinerja_common.envelope import Envelope  # noqa: E402
from ekinerja_common.outbox import PROCESSED  # noqa: E402
from ekinerja_common.testing import AMQP_URL, TestKeys, delete_prefixed_topology, fresh_database, queue_prefix  # noqa: E402


def submissions(staff: list[str], n: int) -> list[Envelope]:
    return [Envelope(type="activity.submitted", source="activity", data={
        "entry_id": str(uuid.uuid4()), "employee_id": staff[k % len(staff)], "date": "2026-11-10",
        "start_time": "08:00", "end_time": "09:30", "duty_id": "D", "duty_description": "Menyusun laporan",
        "volume": 1, "output_unit": "laporan", "credited_minutes": 60, "description": "Kegiatan", "version": 1})
        for k in range(n)]



def handlers_before(rev: str) -> dict:
    """``rev``'s approval handlers, calling ``rev``'s queue read model."""
    old_queue_model = module_from_git(rev, "services/approval/approval/queue_model.py", "_queue_model_before")
    old_inbox = module_from_git(rev, "services/approval/approval/inbox.py", "_inbox_before")
    old_inbox.queue_model = old_queue_model
    assert not any(hasattr(h, "batch") for h in old_inbox.HANDLERS.values()), f"{rev} has batch forms: not a 'before'"
    return old_inbox.HANDLERS


def processed(rt) -> int:
    """Messages processed so far (a cheap count: the poll must not compete with the consumer)."""
    with rt.engine.connect() as c:
        return c.scalar(select(func.count()).select_from(rt.metadata.tables[PROCESSED]))


def fill_queue(settings: Settings, envs: list[Envelope]) -> None:
    """The backlog in approval's queue (published straight to it, then counted)."""
    conn = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    try:
        ch = conn.channel()
        topology.declare(ch, settings)
        queue = topology.names(settings, "approval")["queue"]
        for env in envs:
            ch.basic_publish("", queue, env.to_json(), pika.BasicProperties(
                message_id=env.id, type=env.type, content_type="application/json", delivery_mode=2))
        while ch.queue_declare(queue, passive=True).method.message_count < len(envs):
            time.sleep(0.05)
    finally:
        conn.close()


def backends_cpu_s(rt) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend of the bench's database (from /proc:
    the server runs on this machine)."""
    with rt.engine.connect() as c:
        pids = c.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return out


def through_broker(rt, settings: Settings, handlers: dict, envs: list[Envelope]) -> dict:
    """``Consumer.run`` catching up the backlog ``envs``: items/s from the start of the consumer
    until the last one is processed (committed), and CPU per item — the consumer's thread and the
    database's backends — which the machine's other load does not inflate the way it does time."""
    fill_queue(settings, envs)
    consumer = Consumer(settings, rt.session_factory, rt.metadata, handlers)
    goal = processed(rt) + len(envs)
    cpu: list[float] = []

    def run() -> None:
        begin = time.thread_time()
        try:
            consumer.run()
        finally:
            cpu.append(time.thread_time() - begin)

    server_before = backends_cpu_s(rt)
    start = time.perf_counter()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        while processed(rt) < goal:
            if time.perf_counter() - start > 600:
                raise RuntimeError("backlog not caught up in 10 minutes")
            time.sleep(0.1)
        elapsed = time.perf_counter() - start
    finally:
        consumer.stopping.set()
        t.join(10)
    server = sum(v - server_before.get(pid, 0.0) for pid, v in backends_cpu_s(rt).items())
    return {"per_s": len(envs) / elapsed, "consumer_cpu_ms_per_item": 1000 * cpu[0] / len(envs),
            "database_cpu_ms_per_item": 1000 * server / len(envs)}


def bare_consume_ack(settings: Settings, envs: list[Envelope]) -> float:
    """The broker's share alone: the same backlog consumed with the consumer's prefetch, each message
    decoded (Envelope.from_json) and acked ``consumer_batch`` at a time (multiple), no database."""
    fill_queue(settings, envs)
    conn = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    try:
        ch = conn.channel()
        ch.basic_qos(prefetch_count=settings.consumer_prefetch)
        queue, n, start = topology.names(settings, "approval")["queue"], 0, time.perf_counter()
        for method, _props, body in ch.consume(queue, inactivity_timeout=5):
            if method is None:
                raise RuntimeError("the backlog ran dry")
            Envelope.from_json(body)
            n += 1
            if n % settings.consumer_batch == 0 or n == len(envs):
                ch.basic_ack(method.delivery_tag, multiple=True)
            if n == len(envs):
                break
        elapsed = time.perf_counter() - start
        ch.cancel()
    finally:
        conn.close()
    return len(envs) / elapsed


def in_batches(consumer: Consumer, envs: list[Envelope], batch: int) -> float:
    start = time.perf_counter()
    for n in range(0, len(envs), batch):
        assert set(consumer.apply_many(envs[n:n + batch])) == {"handled"}
    return len(envs) / (time.perf_counter() - start)


def median(runs: list[float]) -> dict:
    return {"median": round(statistics.median(runs)), "runs": [round(x) for x in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--broker-messages", type=int, default=5000)
    parser.add_argument("--before", default="main", help="git revision whose handlers are the 'before'")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "consumer_batch.json"))
    args = parser.parse_args()
    old_handlers = handlers_before(args.before)
    load_before = os.getloadavg()
    prefix = queue_prefix()
    with fresh_database("bench_consumer_batch") as url:
        settings = Settings(service="approval", database_url=url, log_level="WARNING", amqp_url=AMQP_URL,
                            queue_prefix=prefix, consumer_batch=args.batch)
        app = create_app(settings, TestKeys().verifier)
        rt = app.extensions["runtime"]
        rt.migrate()
        seeder = Seeder(rt)
        top = str(uuid.uuid4())
        seeder.position(top, "KADIS", None)
        seeder.person(str(uuid.uuid4()), "Kepala Dinas", top)
        approval_bulk.DAYS = 1  # the team's prefilled entries are not what is measured
        boss, staff = seeder.team(top, "A", working_days(2026, 10, 1))
        consumer = seeder.consumer
        before = Consumer(rt.settings, rt.session_factory, rt.metadata, old_handlers)
        runs: dict[str, list[float]] = {k: [] for k in ("one_at_a_time", "batched_before", "batched",
                                                         "broker_before", "broker", "bare_consume_ack")}
        cpu: dict[str, list[float]] = defaultdict(list)
        sent: list[Envelope] = []
        try:
            for _ in range(args.rounds):
                envs = submissions(staff, args.messages)
                start = time.perf_counter()
                for env in envs:
                    assert consumer.apply(env) == "handled"
                runs["one_at_a_time"].append(args.messages / (time.perf_counter() - start))
                sent += envs
                for name, c in (("batched_before", before), ("batched", consumer)):
                    envs = submissions(staff, args.messages)
                    runs[name].append(in_batches(c, envs, args.batch))
                    sent += envs
                if args.broker_messages:
                    runs["bare_consume_ack"].append(bare_consume_ack(settings, submissions(staff, args.broker_messages)))
                    for name, handlers in (("broker_before", old_handlers), ("broker", HANDLERS)):
                        envs = submissions(staff, args.broker_messages)
                        got = through_broker(rt, settings, handlers, envs)
                        runs[name].append(got["per_s"])
                        for k in ("consumer_cpu_ms_per_item", "database_cpu_ms_per_item"):
                            cpu[f"{name}_{k}"].append(got[k])
                        sent += envs
                print({k: [round(x) for x in v] for k, v in runs.items()}, flush=True)
        finally:
            if args.broker_messages:
                delete_prefixed_topology(prefix, ("identity", "organization", "activity", "approval", "payroll"))
        with rt.session_factory() as s:
            ids = [e.data["entry_id"] for e in sent]
            mine = s.scalar(select(func.count()).where(ValidationItem.entry_id.in_(ids),
                                                       ValidationItem.supervisor_id == boss))
        assert mine == len(sent), (mine, len(sent))
        rt.engine.dispose()
    med = {k: statistics.median(v) for k, v in runs.items() if v}
    result = {
        "benchmark": "consumer_batch",
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environment": {"cpus": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load_before],
                        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                        "how": "approval's Consumer in process, real PostgreSQL on localhost; the broker "
                               "stages through the local RabbitMQ", "before": args.before},
        "messages_per_round": args.messages, "broker_messages_per_round": args.broker_messages, "batch": args.batch,
        **{f"{k}_per_s": median(v) for k, v in runs.items() if v},
        # CPU per item through the broker, medians (ms): the consumer's thread, the database's backends.
        "cpu_ms_per_item": {k: round(statistics.median(v), 3) for k, v in cpu.items()},
        "ratios": {
            "batched_over_batched_before": round(med["batched"] / med["batched_before"], 2),
            "batched_over_one_at_a_time": round(med["batched"] / med["one_at_a_time"], 1),
            **({"broker_over_broker_before": round(med["broker"] / med["broker_before"], 2),
                "broker_over_bare_consume_ack": round(med["broker"] / med["bare_consume_ack"], 3)}
               if args.broker_messages else {}),
        },
        "all_in_the_queue_once": True,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(json.dumps({k: v for k, v in result.items() if k.endswith("_per_s") or k in ("ratios", "cpu_ms_per_item")},
                     indent=1))
    print(f"load {load_before[0]:.1f} → {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
