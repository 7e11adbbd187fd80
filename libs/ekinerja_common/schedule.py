"""The scheduled jobs of every service, in one table, and the process that runs them.

``JOBS`` is the one place that says what runs when (times in WIB, cron syntax). The compose
stack runs ``ekinerja <service> schedule`` (this module's loop) for each service that has jobs;
Kubernetes runs one CronJob per row (deploy/k8s, checked against this table by tests/deploy);
``./run.sh`` runs the same commands from the local runner.

``python -m ekinerja_common.schedule SERVICE`` loops forever; ``... SERVICE --run NAME`` runs one
job now and exits with its status (what a CronJob calls). Each job is ``python -m SERVICE ARGS``
in a child process with this process's environment, so it is exactly the operator's command.
An *inbox* job runs its command once per file waiting in ``$EKINERJA_DATA_DIR/<inbox>`` and moves
the file to ``done/`` or, with the command's error report beside it, to ``failed/``.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from croniter import croniter
from prometheus_client import Counter, Gauge

WIB = timezone(timedelta(hours=7))
log = logging.getLogger("ekinerja.schedule")


@dataclass(frozen=True)
class Job:
    service: str
    name: str
    argv: tuple[str, ...]
    cron: str  # minute hour day month weekday, WIB
    what: str
    inbox: str | None = None  # folder under EKINERJA_DATA_DIR whose files are passed one by one


SERVICES_WITH_MESSAGING = ("identity", "organization", "activity", "approval", "payroll")

JOBS: tuple[Job, ...] = (
    Job("approval", "escalate", ("escalate",), "15 0 * * *",
        "entries past the validation deadline go to the supervisor's supervisor; late first-level appeals to the board"),
    Job("activity", "close-day", ("close-day",), "30 0 * * *",
        "yesterday: employees without an attendance record get TK"),
    Job("activity", "import-attendance", ("import-attendance",), "*/15 * * * *",
        "the fingerprint devices' CSV files dropped into the attendance inbox", inbox="attendance-inbox"),
    Job("identity", "rotate-keys", ("rotate-keys",), "0 2 1 1,4,7,10 *",
        "a new token-signing key each quarter; older keys keep verifying until retired"),
    *(Job(s, "prune", ("prune",), "45 3 * * *", "outbox and processed-message rows past their retention")
      for s in SERVICES_WITH_MESSAGING),
)

RUNS = Counter("ekinerja_job_runs_total", "Scheduled job runs by outcome", ["service", "job", "outcome"])
LAST_SUCCESS = Gauge("ekinerja_job_last_success_timestamp_seconds", "When the job last succeeded (unix time)",
                     ["service", "job"])
NEXT_RUN = Gauge("ekinerja_job_next_run_timestamp_seconds", "When the job runs next (unix time)", ["service", "job"])


def jobs_of(service: str) -> list[Job]:
    return [j for j in JOBS if j.service == service]


def _data_dir() -> Path:
    return Path(os.environ.get("EKINERJA_DATA_DIR", os.path.join(os.getcwd(), "var")))


def _command(job: Job, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", job.service, *job.argv, *extra], capture_output=True, text=True)


def run_job(job: Job) -> bool:
    """Run ``job`` once; True if everything it did succeeded."""
    started = time.monotonic()
    if job.inbox is None:
        done = _command(job)
        ok = done.returncode == 0
        _report(job, ok, time.monotonic() - started, done)
        return ok
    inbox = _data_dir() / job.inbox
    for sub in ("done", "failed"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    ok = True
    for path in sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")):
        done = _command(job, str(path))
        target = inbox / ("done" if done.returncode == 0 else "failed") / path.name
        shutil.move(str(path), target)
        if done.returncode != 0:
            target.with_name(target.name + ".errors.txt").write_text(done.stderr or done.stdout)
            ok = False
        _report(job, done.returncode == 0, time.monotonic() - started, done, file=path.name)
    if ok:
        LAST_SUCCESS.labels(job.service, job.name).set(time.time())
    return ok


def _report(job: Job, ok: bool, seconds: float, done: subprocess.CompletedProcess, file: str | None = None) -> None:
    RUNS.labels(job.service, job.name, "success" if ok else "failure").inc()
    if ok and job.inbox is None:
        LAST_SUCCESS.labels(job.service, job.name).set(time.time())
    out = (done.stdout if ok else (done.stderr or done.stdout)).strip()
    (log.info if ok else log.error)("%s", json.dumps({"job": job.name, "ok": ok, "seconds": round(seconds, 3),
                                                        "file": file, "output": out[-2000:]}, ensure_ascii=False))


def loop(service: str, stopping: threading.Event) -> None:
    jobs = jobs_of(service)
    if not jobs:
        log.info("no scheduled jobs for %s; idling", service)
    now = datetime.now(WIB)
    due = {job: croniter(job.cron, now).get_next(datetime) for job in jobs}
    for job, at in due.items():
        NEXT_RUN.labels(job.service, job.name).set(at.timestamp())
    from .metrics import health

    health.set_connected(True, "scheduler")  # no broker: ready as long as the loop turns
    while not stopping.is_set():
        health.beat()
        now = datetime.now(WIB)
        for job, at in due.items():
            if at <= now:
                try:
                    run_job(job)
                except Exception:  # noqa: BLE001 - one broken job must not stop the others
                    RUNS.labels(job.service, job.name, "failure").inc()
                    log.exception("job %s failed to start", job.name)
                due[job] = croniter(job.cron, datetime.now(WIB)).get_next(datetime)
                NEXT_RUN.labels(job.service, job.name).set(due[job].timestamp())
        stopping.wait(1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ekinerja_common.schedule")
    parser.add_argument("service")
    parser.add_argument("--run", metavar="JOB", help="run this job once now and exit with its status")
    parser.add_argument("--list", action="store_true", help="print the service's jobs")
    ns = parser.parse_args(argv)
    from .config import Settings
    from .logs import configure_logging
    from . import metrics

    settings = Settings.from_env(ns.service)
    configure_logging(ns.service, settings.log_level)
    metrics.process_kind = "schedule"
    jobs = {j.name: j for j in jobs_of(ns.service)}
    if ns.list:
        for j in jobs.values():
            print(f"{j.cron:<18} {j.name:<18} {j.what}")
        return 0
    if ns.run:
        if ns.run not in jobs:
            parser.error(f"{ns.service} has no job {ns.run!r}; it has: {', '.join(jobs) or 'none'}")
        return 0 if run_job(jobs[ns.run]) else 1
    metrics.start_metrics_server(settings)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    loop(ns.service, stopping)
    return 0


if __name__ == "__main__":
    sys.exit(main())
