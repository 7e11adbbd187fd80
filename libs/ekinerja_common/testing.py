"""Helpers for the services' integration tests: a throw-away PostgreSQL database, signing keys
that tests control, and an isolated broker namespace. Real components, no mocks."""
from __future__ import annotations

import contextlib
import os
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Iterator

import jwt
import pika
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from .auth import ALGORITHM, CallableKeySource, TokenVerifier

PG_ADMIN_URL = os.environ.get("EKINERJA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("EKINERJA_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/%2F")


@contextlib.contextmanager
def fresh_database(name_hint: str) -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its URL, drop it afterwards."""
    name = f"t_{name_hint}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class TestKeys:
    """An Ed25519 key the test signs with, and a verifier that trusts only it."""

    __test__ = False  # not a pytest class

    def __init__(self, issuer: str = "ekinerja-identity", audience: str = "ekinerja"):
        self.key = Ed25519PrivateKey.generate()
        self.kid = uuid.uuid4().hex
        self.issuer = issuer
        self.audience = audience
        self.verifier = TokenVerifier(
            CallableKeySource(lambda kid: self.key.public_key() if kid == self.kid else None), issuer, audience
        )

    def token(self, employee_id: str | None, *roles: str, account_id: str | None = None, **overrides) -> str:
        now = datetime.now(timezone.utc)
        claims = {
            "iss": self.issuer, "aud": self.audience, "sub": account_id or employee_id or uuid.uuid4().hex,
            "emp": employee_id, "roles": list(roles or ("pegawai",)), "typ": "access",
            "iat": now, "exp": now + timedelta(minutes=5),
        }
        claims.update(overrides)
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def headers(self, employee_id: str | None, *roles: str, **kw) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(employee_id, *roles, **kw)}"}


def queue_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}."


def delete_prefixed_topology(prefix: str, services: tuple[str, ...]) -> None:
    """Remove the queues and exchanges a test created under its prefix."""
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        ch = conn.channel()
        for s in services:
            for suffix in ("", ".retry", ".dead"):
                ch.queue_delete(f"{prefix}{s}.events{suffix}")
        ch.exchange_delete(f"{prefix}ekinerja.events")
        ch.exchange_delete(f"{prefix}ekinerja.dead")
    finally:
        conn.close()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DedicatedBroker:
    """A RabbitMQ node of the test's own (own port, own data directory), so that a fault test can
    kill and restart *a* broker without disturbing anything else on the machine. Its data survive
    a restart, as a real broker's do: durable queues and persistent messages come back."""

    def __init__(self, port: int, name: str | None = None, extra_config: str = "", plugins: tuple[str, ...] = ()):
        import tempfile

        self.extra_config = extra_config  # more rabbitmq.conf lines (e.g. load_definitions)
        self.plugins = plugins            # e.g. ("rabbitmq_prometheus",)

        # Directly under /tmp: the node runs as the rabbitmq user, who cannot enter pytest's
        # private (0700) temporary folders.
        self.workdir = tempfile.mkdtemp(prefix="ekinerja-broker-")
        self.port = port
        self.node = f"{name or 'ekt' + uuid.uuid4().hex[:6]}@localhost"
        self.dist_port = _free_port()  # Erlang distribution, for rabbitmqctl
        self.proc = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _env(self) -> dict[str, str]:
        w = self.workdir
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_CONF_ENV_FILE": f"{w}/env.conf",  # not /etc/rabbitmq's: it pins the node name
            "RABBITMQ_CONFIG_FILE": f"{w}/rabbitmq.conf",
            "RABBITMQ_ENABLED_PLUGINS_FILE": f"{w}/plugins",
            "RABBITMQ_MNESIA_BASE": f"{w}/mnesia",
            "RABBITMQ_LOG_BASE": f"{w}/log",
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def _port_open(self) -> bool:
        import socket

        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def start(self, timeout: float = 120.0) -> "DedicatedBroker":
        import pwd
        import shutil
        import subprocess

        os.makedirs(self.workdir, exist_ok=True)
        with open(f"{self.workdir}/env.conf", "w"):
            pass
        with open(f"{self.workdir}/rabbitmq.conf", "w") as f:
            f.write(f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users = none\n{self.extra_config}\n")
        with open(f"{self.workdir}/plugins", "w") as f:
            f.write(f"[{','.join(self.plugins)}].\n")
        env = self._env()
        kwargs: dict = {}
        if os.geteuid() == 0:
            # As the rabbitmq user, like Debian's wrapper does -- but without its `su`, which would
            # start a session of its own that our kill could not reach.
            user = pwd.getpwnam("rabbitmq")
            for root, dirs, files in os.walk(self.workdir):
                for p in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.chown(p, user.pw_uid, user.pw_gid)
            kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
            env["HOME"] = user.pw_dir  # where the node's Erlang cookie lives
        server = "/usr/lib/rabbitmq/bin/rabbitmq-server"
        if not os.path.exists(server):
            server = shutil.which("rabbitmq-server") or "rabbitmq-server"
        self.proc = subprocess.Popen([server], env=env, start_new_session=True, cwd=self.workdir,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
        wait_until(self._port_open, timeout=timeout, interval=0.25, what=f"RabbitMQ node {self.node} to listen")
        return self

    def kill(self) -> None:
        """SIGKILL the node: no clean shutdown, as in a crash."""
        import signal

        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None
        # The beam process runs under su in the same group; wait until the port is really free.
        wait_until(lambda: not self._port_open(), timeout=30, what="broker port to close")

    def stop(self) -> None:
        import shutil

        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


class SilentListener:
    """A TCP port that accepts connections and never says a word: a broker (or database) that is
    frozen, or a wrong service behind the address. ``accepted`` counts the connections made."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._held: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self._held.append(conn)  # held open, never read from nor written to

    def __enter__(self) -> "SilentListener":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        for conn in self._held:
            conn.close()
        self.sock.close()


class DedicatedPostgres:
    """A PostgreSQL server of the test's own (initdb into a temporary directory, its own port),
    so that a fault test can stop, kill or pause (SIGSTOP) *a* database server without touching
    the machine's shared one. Data survive a restart. As root it runs as the ``postgres`` user
    (PostgreSQL refuses to run as root)."""

    def __init__(self, port: int | None = None):
        import glob
        import tempfile

        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
        if not bins:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
        self.bin = os.path.dirname(bins[-1])
        self.port = port or _free_port()
        # Directly under /tmp: the server user cannot enter pytest's private temporary folders.
        self.workdir = tempfile.mkdtemp(prefix="ekinerja-pg-")
        self.data = os.path.join(self.workdir, "data")
        self.proc = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _as_server_user(self) -> dict:
        if os.geteuid() != 0:
            return {}
        import pwd

        user = pwd.getpwnam("postgres")
        for root, dirs, files in os.walk(self.workdir):
            for p in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.chown(p, user.pw_uid, user.pw_gid)
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def _port_open(self) -> bool:
        import socket

        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def start(self, timeout: float = 60.0) -> "DedicatedPostgres":
        import subprocess

        if not os.path.exists(self.data):
            os.makedirs(self.data, mode=0o700)
            subprocess.run([f"{self.bin}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                            "--no-sync"], check=True, capture_output=True, cwd=self.workdir, **self._as_server_user())
        self.proc = subprocess.Popen(
            [f"{self.bin}/postgres", "-D", self.data, "-p", str(self.port), "-k", self.workdir,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"],
            start_new_session=True, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            **self._as_server_user())

        def accepting() -> bool:
            if not self._port_open():
                return False
            try:
                engine = create_engine(self.url(), connect_args={"connect_timeout": 2})
                try:
                    with engine.connect() as conn:
                        conn.execute(text("SELECT 1"))
                    return True
                finally:
                    engine.dispose()
            except Exception:  # noqa: BLE001 - still starting ("the database system is starting up")
                return False

        wait_until(accepting, timeout=timeout, interval=0.2, what=f"PostgreSQL on port {self.port}")
        return self

    def create_database(self, name: str) -> str:
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def _server_pids(self) -> list[int]:
        """The postmaster and every process it forked. Not one process group: each backend calls
        setsid() (so that the postmaster can signal it as a group of its own)."""
        if self.proc is None:
            return []
        pids = [self.proc.pid]
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.proc.pid:
                pids.append(int(entry))
        return pids

    def _signal(self, sig: int) -> None:
        import signal

        pids = self._server_pids()
        # Children first when stopping (no backend slips a last answer out), postmaster first when
        # continuing or killing.
        for pid in (pids[1:] + pids[:1]) if sig == signal.SIGSTOP else pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def pause(self) -> None:
        """SIGSTOP the server and its backends: connections stay open, nothing answers."""
        import signal

        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        import signal

        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL the whole server (a crash); start() brings it back with its data."""
        import signal

        if self.proc is None:
            return
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        wait_until(lambda: not self._port_open(), timeout=30, what="PostgreSQL port to close")
        # A killed postmaster leaves its pid file; the next start checks it is stale and goes on.

    def stop(self) -> None:
        import shutil

        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "DedicatedPostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
