"""``python -m approval escalate``: the scheduled deadline job (run it daily, e.g. a Kubernetes
CronJob or cron at 00:30 WIB). Idempotent: running it twice, or two copies at once, escalates
each overdue entry and moves each overdue appeal exactly once."""
from __future__ import annotations

import argparse
import json
from datetime import date

from ekinerja_common.runtime import Runtime
from ekinerja_common import clock

from . import appeals, services


def run(runtime: Runtime, today: date, batch: int = 500) -> dict:
    """Escalate entries still pending after their validation deadline to the supervisor's own
    supervisor, then move first-level appeals past their deadline to the board. Entries go in
    batches, one transaction each, so a long backlog never holds one huge transaction."""
    examined = escalated = 0
    after = None
    while True:
        with runtime.uow("job:escalate") as uow:
            n, k, after = services.escalate_overdue_entries(uow, today, after, batch)
            uow.commit()
        examined, escalated = examined + n, escalated + k
        if after is None:
            break
    with runtime.uow("job:escalate") as uow:
        moved = appeals.move_overdue_to_board(uow, today, "job:escalate")
        uow.commit()
    return {"today": today.isoformat(), "entries_examined": examined, "entries_escalated": escalated,
            "appeals_to_board": moved}


def command(runtime: Runtime, argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m approval escalate")
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the WIB date to judge deadlines by (default: today in WIB)")
    parser.add_argument("--batch", type=int, default=500)
    ns = parser.parse_args(argv)
    print(json.dumps(run(runtime, ns.today or clock.today(), ns.batch)))
