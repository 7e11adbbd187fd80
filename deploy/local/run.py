"""``./run.sh``: the whole stack on this machine with SQLite files in ./var, demo data seeded on
the first start, the URL and demo logins printed; Ctrl-C (or SIGTERM) stops every process."""
from __future__ import annotations

import argparse
import signal
import sys
import time

import requests

from .seed import LOGINS_FILE, SeedError, format_logins, read_logins, seed_stack
from .stack import ROOT, Ports, Stack, StackError

SEEDED_MARKER = ".seeded"
ESCALATION_INTERVAL = 3600.0  # seconds between runs of the deadline job


def _interrupt(signum, frame):
    # Ctrl-C and SIGTERM take one road: out of whatever is running, through the finally below
    # that stops the stack. Installed explicitly for SIGINT too, because a runner started in the
    # background of a script inherits SIGINT as ignored and Python would then never raise.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./run.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", default=str(ROOT / "var"))
    parser.add_argument("--host", default="127.0.0.1", help="address the gateway listens on (default 127.0.0.1)")
    parser.add_argument("--port-offset", type=int, default=0,
                        help="move every port (gateway 8080, services 8001-8005, metrics 9101-9205) by this much")
    parser.add_argument("--queue-prefix", default="", help="prefix of the broker's queues and exchanges (tests)")
    args = parser.parse_args(argv)

    stack = Stack(args.run_dir, host=args.host, ports=Ports().shifted(args.port_offset), queue_prefix=args.queue_prefix)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    say = lambda msg: print(msg, flush=True)  # noqa: E731
    rc = 0
    try:
        say(f"Starting E-Kinerja: 5 services x (web, relay, consumer) and the gateway; logs in {stack.logs_dir}")
        started = time.monotonic()
        stack.start()
        say(f"Stack is up ({time.monotonic() - started:.0f}s).")
        marker = stack.run_dir / SEEDED_MARKER
        if marker.exists():
            logins = read_logins(stack.run_dir / LOGINS_FILE)
        else:
            say("First start: seeding demo data through the gateway ...")
            logins = seed_stack(stack)
            # Only once: later a user may have changed a password, which a second seed could not know.
            marker.write_text("demo data seeded\n")
        say("")
        say(f"E-Kinerja is running at {stack.url('/')}")
        say("")
        say(f"Demo logins (also in {stack.run_dir / LOGINS_FILE}; the seed already made each account's")
        say("first password change, so they work as printed):")
        say("")
        say(format_logins(logins))
        say("")
        say("Press Ctrl-C to stop.")
        next_escalation = 0.0
        while True:
            time.sleep(1)
            if time.monotonic() >= next_escalation:
                # What cron (or a k8s CronJob) does in production: validations past their deadline
                # go to the supervisor's supervisor. The job is idempotent, so hourly is harmless.
                next_escalation = time.monotonic() + ESCALATION_INTERVAL
                done = stack.run_cli("approval", "escalate")
                if done.returncode != 0:
                    say(f"warning: python -m approval escalate failed: {(done.stderr or done.stdout).strip()[-500:]}")
            # A process that died (a consumer that gave up, a crashed relay) is started again
            # with backoff, as compose or Kubernetes would: a month must not count fewer minutes
            # because a consumer waited for someone to notice.
            for line in stack.supervise():
                say(f"warning: {line}")
    except KeyboardInterrupt:
        say("\nStopping ...")
    except (StackError, SeedError, requests.RequestException) as exc:
        say(f"error: {exc}")
        rc = 1
    finally:
        # A second Ctrl-C must not cut the shutdown short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        count = len(stack.pids())
        killed = stack.stop()
        if count:
            extra = f" ({', '.join(killed)} did not stop in time and were killed)" if killed else ""
            say(f"E-Kinerja stopped: all {count} processes have ended{extra}.")
    return rc


if __name__ == "__main__":
    sys.exit(main())
