"""BKD's approval service: the supervisor's validation queue, decisions, deadlines and appeals.

``python -m approval migrate|relay|consume|openapi|escalate|derive-queue`` (escalate: the daily
deadline job; derive-queue: the queue's stored supervisors recomputed, ``queue_model.derive_all``)."""
import json

from ekinerja_common.cli import main

from . import jobs, queue_model
from .inbox import HANDLERS
from .runtime import build_runtime

if __name__ == "__main__":
    runtime = build_runtime()

    def derive_queue(_argv: list[str]) -> None:
        with runtime.session_factory() as session, session.begin():
            print(json.dumps({"items_changed": queue_model.derive_all(session)}))

    main(runtime, HANDLERS, {"escalate": lambda argv: jobs.command(runtime, argv), "derive-queue": derive_queue})
