"""Logins in many threads of one worker do not leave 12 MiB of argon2 memory behind per thread
(issue 13: identity's workers were the largest of the stack), and run at most ARGON2_CONCURRENCY
hashes at a time."""
from __future__ import annotations

import threading
import time

from identity import passwords


def resident_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_eight_threads_logging_in_leave_no_hash_memory_resident():
    stored = passwords.hash_password("Rahasia-2026")
    before = resident_mib()
    threads = [threading.Thread(target=lambda: [passwords.verify_password(stored, "Rahasia-2026") for _ in range(2)])
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Before the fix each thread kept its last 12 MiB block (~96 MiB for 8 threads).
    assert resident_mib() - before < 24


def test_no_more_hashes_at_once_than_the_bound(monkeypatch):
    stored = passwords.hash_password("Rahasia-2026")
    running, most = 0, 0
    lock = threading.Lock()
    real = passwords._hasher

    class Counting:
        def verify(self, *args):
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            try:
                time.sleep(0.02)  # long enough for the other threads to arrive
                return real.verify(*args)
            finally:
                with lock:
                    running -= 1

    monkeypatch.setattr(passwords, "_hasher", Counting())
    monkeypatch.setattr(passwords, "_at_once", threading.BoundedSemaphore(2))
    threads = [threading.Thread(target=passwords.verify_password, args=(stored, "Rahasia-2026")) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 2
