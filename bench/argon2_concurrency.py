"""Benchmark: password verifies per second of identity's hashing (argon2id m=12 MiB, t=3, p=1) when
a worker runs one hash at a time (ARGON2_CONCURRENCY=1) against one per request
thread (4), on the project's web shape: 2 worker processes × 4 threads, all threads verifying.

    .venv/bin/python bench/argon2_concurrency.py [--seconds 6] [--rounds 3]

Here every thread of both workers is busy, so one at a time wins; through the gateway the logins
are not spread evenly over the workers, and bench/surge.py chose the default, 2 (identity's
passwords.py). The two settings alternate in the same run (the machine may be shared: compare their ratio, with
the load average printed beside it). Also the resident memory each worker grew by. Results: stdout
and bench/results/argon2_concurrency.json.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "argon2_concurrency.json"


def _resident_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _worker(concurrency: int, seconds: float, threads: int, out) -> None:
    os.environ["ARGON2_CONCURRENCY"] = str(concurrency)  # read when identity.passwords is imported
    from identity import passwords

    stored = passwords.hash_password("Rahasia-Bench-2026")
    before = _resident_mib()
    done = [0] * threads
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        while time.monotonic() < stop:
            passwords.verify_password(stored, "Rahasia-Bench-2026")
            done[i] += 1

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((sum(done) / seconds, _resident_mib() - before))


def measure(concurrency: int, seconds: float, workers: int = 2, threads: int = 4) -> dict:
    ctx = mp.get_context("spawn")  # a fresh interpreter per worker, as gunicorn's are
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(concurrency, seconds, threads, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return {"verifies_per_s": round(sum(r[0] for r in results), 1),
            "largest_worker_growth_mib": round(max(r[1] for r in results), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()
    load_start = list(os.getloadavg())
    runs: dict[str, list[dict]] = {"one_at_a_time": [], "one_per_thread": []}
    for r in range(args.rounds):
        for name, n in (("one_at_a_time", 1), ("one_per_thread", 4)):
            res = measure(n, args.seconds)
            runs[name].append(res)
            print(f"round {r + 1} {name} (ARGON2_CONCURRENCY={n}): {res['verifies_per_s']}/s, "
                  f"worker grew {res['largest_worker_growth_mib']} MiB; load {os.getloadavg()[0]:.1f}", flush=True)
    med = {k: statistics.median(x["verifies_per_s"] for x in v) for k, v in runs.items()}
    out = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count(),
           "load_average_start": load_start, "load_average_end": list(os.getloadavg()), "runs": runs,
           "median_verifies_per_s": med,
           "ratio_one_at_a_time_to_one_per_thread": round(med["one_at_a_time"] / med["one_per_thread"], 3)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: out[k] for k in ("median_verifies_per_s", "ratio_one_at_a_time_to_one_per_thread")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
