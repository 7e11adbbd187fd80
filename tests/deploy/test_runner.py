"""The README's run command (deploy/local/run.py) as a person uses it: it starts the five
services and the gateway, seeds once, prints the URL and logins, and stops everything on Ctrl-C
or SIGTERM; a second start prints the same logins without seeding again."""
from __future__ import annotations

import os
import random
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ekinerja_common.events import SERVICES
from ekinerja_common.testing import delete_prefixed_topology, queue_prefix

from deploy.local.seed import EMPLOYEES, read_logins
from deploy.local.stack import ROOT, Ports

pytestmark = pytest.mark.e2e


def all_free(ports: Ports) -> bool:
    wanted = [ports.gateway, ports.gateway_status, *ports.web.values(), *ports.relay_metrics.values(),
              *ports.consumer_metrics.values()]
    for port in wanted:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_offset() -> int:
    for _ in range(50):
        offset = random.randrange(20000, 40000, 10)
        if all_free(Ports().shifted(offset)):
            return offset
    raise RuntimeError("no free port range found")


class Runner:
    def __init__(self, run_dir: Path, offset: int, prefix: str, out: Path):
        self.out = out
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deploy.local.run", "--run-dir", str(run_dir), "--port-offset", str(offset),
             "--queue-prefix", prefix],
            cwd=ROOT, stdout=open(out, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    def wait_for(self, needle: str, timeout: float = 240) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.text()
            if needle in out:
                return out
            assert self.proc.poll() is None, f"runner exited early:\n{out}"
            time.sleep(0.5)
        raise AssertionError(f"runner never printed {needle!r}:\n{self.text()}")

    def stop(self, sig: int) -> str:
        self.proc.send_signal(sig)
        assert self.proc.wait(timeout=90) == 0, self.text()
        return self.text()

    def ensure_gone(self) -> None:
        if self.proc.poll() is None:  # a failed assertion above: still stop the stack it started
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=90)


def assert_private_and_encrypted(run_dir: Path) -> None:
    """Issue 9 item 23: the run directory is the owner's alone and the signing key is encrypted."""
    import sqlite3

    assert stat.S_IMODE(os.stat(run_dir).st_mode) == 0o700
    databases = sorted(run_dir.glob("*.db"))
    assert {p.name for p in databases} == {f"{s}.db" for s in SERVICES}
    for path in run_dir.rglob("*"):
        if path.is_file() and (path.suffix in (".db", ".db-wal", ".db-shm") or path.parent.name == "secrets"):
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    passphrase = run_dir / "secrets" / "identity-key-passphrase"
    assert len(passphrase.read_text().strip()) >= 32
    with sqlite3.connect(run_dir / "identity.db") as conn:
        pems = [row[0] for row in conn.execute("SELECT private_pem FROM signing_keys")]
    assert pems and all(p.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----") for p in pems)


def test_run_prints_logins_stops_on_ctrl_c_and_restarts_with_the_same_logins(tmp_path):
    offset = free_offset()
    ports = Ports().shifted(offset)
    prefix = queue_prefix()
    run_dir = tmp_path / "var"
    try:
        first = Runner(run_dir, offset, prefix, tmp_path / "first.out")
        try:
            out = first.wait_for("Press Ctrl-C")
            assert f"E-Kinerja is running at http://127.0.0.1:{ports.gateway}/" in out
            assert "seeding demo data" in out
            logins = read_logins(run_dir / "demo-logins.txt")
            assert stat.S_IMODE(os.stat(run_dir / "demo-logins.txt").st_mode) == 0o600
            assert {x.username for x in logins} == {"admin", "admin2", "organisasi", "bpkad", *(e[0] for e in EMPLOYEES)}
            for login in logins:
                assert re.search(rf"^{login.role}\s+{login.username}\s+{re.escape(login.password)}\s+", out, re.M)
            assert_private_and_encrypted(run_dir)
            out = first.stop(signal.SIGINT)
        finally:
            first.ensure_gone()
        assert "E-Kinerja stopped: all 16 processes have ended." in out
        assert all_free(ports)

        second = Runner(run_dir, offset, prefix, tmp_path / "second.out")
        try:
            out = second.wait_for("Press Ctrl-C")
            assert "seeding" not in out
            for login in logins:
                assert f"{login.username}  " in out and login.password in out
            out = second.stop(signal.SIGTERM)
        finally:
            second.ensure_gone()
        assert "E-Kinerja stopped: all 16 processes have ended." in out
        assert all_free(ports)
    finally:
        delete_prefixed_topology(prefix, SERVICES)
