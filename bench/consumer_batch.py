"""Benchmark: approval's consumer applying a backlog of activity.submitted, one message per
transaction (``Consumer.apply``, the path of a lone delivery) against batches
(``Consumer.apply_many``, the path of a backlog), in the same process, database and minute.

    .venv/bin/python bench/consumer_batch.py [--messages 2000] [--batch 100] [--rounds 3]

A fresh PostgreSQL database (EKINERJA_TEST_PG), migrated, with a team of 50 under a head (through
the consumer, as events); then rounds alternating: ``--messages`` new submissions one at a time,
the same number in batches of ``--batch``. Both paths do the same work per message (the handler,
the queue read model's derivation, the processed-message log); the broker is left out (its
prefetch and ``multiple`` ack are not what differs). Afterwards every submitted entry is checked
to be in the supervisor's queue exactly once. Results: stdout and bench/results/consumer_batch.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from approval_bulk import Seeder, working_days  # noqa: E402

import approval_bulk  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from approval.app import create_app  # noqa: E402
from approval.orm import ValidationItem  # noqa: E402
from ekinerja_common.config import Settings  # noqa: E402
from ekinerja_common.envelope import Envelope  # noqa: E402
from ekinerja_common.testing import TestKeys, fresh_database  # noqa: E402


def submissions(staff: list[str], n: int) -> list[Envelope]:
    return [Envelope(type="activity.submitted", source="activity", data={
        "entry_id": str(uuid.uuid4()), "employee_id": staff[k % len(staff)], "date": "2026-11-10",
        "start_time": "08:00", "end_time": "09:30", "duty_id": "D", "duty_description": "Menyusun laporan",
        "volume": 1, "output_unit": "laporan", "credited_minutes": 60, "description": "Kegiatan", "version": 1})
        for k in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "consumer_batch.json"))
    args = parser.parse_args()
    load_before = os.getloadavg()
    with fresh_database("bench_consumer_batch") as url:
        app = create_app(Settings(service="approval", database_url=url, log_level="WARNING"), TestKeys().verifier)
        rt = app.extensions["runtime"]
        rt.migrate()
        seeder = Seeder(rt)
        top = str(uuid.uuid4())
        seeder.position(top, "KADIS", None)
        seeder.person(str(uuid.uuid4()), "Kepala Dinas", top)
        approval_bulk.DAYS = 1  # the team's prefilled entries are not what is measured
        boss, staff = seeder.team(top, "A", working_days(2026, 10, 1))
        consumer = seeder.consumer
        single, batched, sent = [], [], []
        for _ in range(args.rounds):
            envs = submissions(staff, args.messages)
            start = time.perf_counter()
            for env in envs:
                assert consumer.apply(env) == "handled"
            single.append(args.messages / (time.perf_counter() - start))
            sent += envs
            envs = submissions(staff, args.messages)
            start = time.perf_counter()
            for n in range(0, len(envs), args.batch):
                assert set(consumer.apply_many(envs[n:n + args.batch])) == {"handled"}
            batched.append(args.messages / (time.perf_counter() - start))
            sent += envs
        with rt.session_factory() as s:
            ids = [e.data["entry_id"] for e in sent]
            mine = s.scalar(select(func.count()).where(ValidationItem.entry_id.in_(ids),
                                                       ValidationItem.supervisor_id == boss))
        assert mine == len(sent), (mine, len(sent))
        rt.engine.dispose()
    result = {
        "benchmark": "consumer_batch",
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environment": {"cpus": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load_before],
                        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                        "how": "approval's Consumer in process, real PostgreSQL on localhost, no broker"},
        "messages_per_round": args.messages, "batch": args.batch,
        "one_at_a_time_per_s": {"median": round(statistics.median(single)), "runs": [round(x) for x in single]},
        "batched_per_s": {"median": round(statistics.median(batched)), "runs": [round(x) for x in batched]},
        "ratio": round(statistics.median(batched) / statistics.median(single), 1),
        "all_in_the_queue_once": True,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(json.dumps({k: result[k] for k in ("one_at_a_time_per_s", "batched_per_s", "ratio")}))
    print(f"load {load_before[0]:.1f} → {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
