"""BKD's approval service: the supervisor's validation queue, decisions, deadlines and appeals.

``python -m approval migrate|relay|consume|openapi|escalate`` (escalate: the daily deadline job)."""
from ekinerja_common.cli import main

from . import jobs
from .inbox import HANDLERS
from .runtime import build_runtime

if __name__ == "__main__":
    runtime = build_runtime()
    main(runtime, HANDLERS, {"escalate": lambda argv: jobs.command(runtime, argv)})
