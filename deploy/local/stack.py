"""The whole E-Kinerja stack as real processes on one machine.

For every service: ``python -m <svc> migrate`` (must exit 0), then the web process (gunicorn),
the outbox relay and the event consumer; then nginx as the gateway in front of them. Used by the
README's run command (deploy/local/run.py) and by the end-to-end and fault tests, which start a
second stack on other ports, PostgreSQL URLs and a private queue prefix::

    with Stack(tmp_path, ports=Ports.free(), database_urls={...}, queue_prefix="t1234.") as stack:
        requests.get(stack.url("/api/organization/healthz"))
        stack.kill("payroll.consumer"); ...; stack.restart("payroll.consumer")

Every process is the leader of its own session (``start_new_session``): a Ctrl-C in the terminal
reaches only the runner, which then stops the stack in order, and a signal sent to one process
group also reaches a gunicorn master's workers. Output of each process goes to
``<run_dir>/logs/<name>.log``.

The run directory holds the databases and the demo passwords, so it is the owner's alone: 0700,
every process started with umask 077 (files 0600), files of an earlier run tightened at start.
Identity's token-signing keys are encrypted with a passphrase generated once into
``<run_dir>/secrets/identity-key-passphrase`` (0600) unless IDENTITY_KEY_PASSPHRASE(_FILE) is set.
"""
from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

from ekinerja_common.config import DEFAULT_PORTS, Settings
from ekinerja_common.events import SERVICES

from . import gateway

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("web", "relay", "consumer")
GATEWAY = "gateway"
PASSPHRASE_FILE = Path("secrets") / "identity-key-passphrase"
# Children create their files (databases, logs, keys) for the owner only.
UMASK = 0o077
# A process that dies on its own is started again (Stack.supervise) after 1 s, then 2, 4 ... up
# to 60 s while it keeps dying; once it has run for STABLE_AFTER seconds the next death starts
# over at 1 s. What compose's "restart: unless-stopped" and Kubernetes do for the containers.
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 60.0
STABLE_AFTER = 60.0
DEFAULT_AMQP_URL = Settings.amqp_url

# Plain urllib with proxies disabled: an http_proxy in the environment must not capture 127.0.0.1.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class StackError(RuntimeError):
    """The stack could not start (or a process died); the message names the process and shows
    the end of its log."""


def _default_ports(base: int) -> dict[str, int]:
    return {s: base + i for i, s in enumerate(SERVICES, start=1)}


@dataclass(frozen=True)
class Ports:
    """Every port the stack listens on. The defaults are the design's (gateway 8080, services
    8001–8005, relay metrics 9101–9105, consumer metrics 9201–9205); nginx's stub_status sits on
    127.0.0.1 only."""

    gateway: int = 8080
    gateway_status: int = 8081
    web: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    relay_metrics: Mapping[str, int] = field(default_factory=lambda: _default_ports(9100))
    consumer_metrics: Mapping[str, int] = field(default_factory=lambda: _default_ports(9200))

    def shifted(self, offset: int) -> "Ports":
        """The same layout moved by ``offset`` (a second stack beside the first)."""
        return Ports(
            self.gateway + offset, self.gateway_status + offset,
            {s: p + offset for s, p in self.web.items()},
            {s: p + offset for s, p in self.relay_metrics.items()},
            {s: p + offset for s, p in self.consumer_metrics.items()},
        )

    @classmethod
    def free(cls) -> "Ports":
        """Ports the kernel says are unused right now (for tests)."""
        socks = []
        try:
            for _ in range(2 + 3 * len(SERVICES)):
                s = socket.socket()
                s.bind(("127.0.0.1", 0))
                socks.append(s)
            nums = iter([s.getsockname()[1] for s in socks])
        finally:
            for s in socks:
                s.close()
        return cls(next(nums), next(nums), {s: next(nums) for s in SERVICES},
                   {s: next(nums) for s in SERVICES}, {s: next(nums) for s in SERVICES})

    def port_of(self, name: str) -> int:
        if name == GATEWAY:
            return self.gateway
        service, kind = name.split(".")
        return {"web": self.web, "relay": self.relay_metrics, "consumer": self.consumer_metrics}[kind][service]


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    ready: Callable[[], bool] | None = None
    before_start: Callable[[], None] | None = None
    popen: subprocess.Popen | None = None
    # Supervision (Stack.supervise): ended on purpose (kill()), so not to be restarted; restarts
    # so far (the backoff doubles with each); when the pending restart is due; when it last started.
    held: bool = False
    restarts: int = 0
    restart_at: float | None = None
    started_at: float = 0.0

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def exit_code(self) -> int | None:
        """The exit status if the process has ended, else None. The child is *not* reaped
        (WNOWAIT), so its pid, which is also its process group id, cannot be reused by an unrelated
        process before we signal the group for the last time."""
        if self.popen is None:
            return None
        if self.popen.returncode is not None:
            return self.popen.returncode
        try:
            info = os.waitid(os.P_PID, self.popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return self.popen.wait()
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def alive(self) -> bool:
        return self.popen is not None and self.exit_code() is None

    def signal_group(self, sig: int) -> bool:
        """Send ``sig`` to the process and everything it forked; False if nothing was left."""
        if self.popen is None or self.popen.returncode is not None:
            return False
        try:
            os.killpg(self.popen.pid, sig)
            return True
        except ProcessLookupError:
            return False

    def end(self, sig: int, timeout: float) -> bool:
        """Send ``sig`` to the group, wait up to ``timeout`` for the leader, then SIGKILL whatever
        is left of the group and reap the leader. Returns True if SIGKILL was needed."""
        if not self.signal_group(sig):
            if self.popen is not None and self.popen.returncode is None:
                self.popen.wait()
            return False
        if sig != signal.SIGKILL:
            self.signal_group(signal.SIGCONT)  # a paused process could not act on the signal
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        forced = self.alive()
        self.signal_group(signal.SIGKILL)
        self.popen.wait()
        return forced

    def tail(self, lines: int = 30) -> str:
        try:
            with open(self.log, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 16384))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True if a GET of ``url`` answers 200 (proxy settings of the environment are ignored)."""
    try:
        with _http.open(url, timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Stack:
    """The five services (or a chosen subset) and the gateway, as processes of this machine.

    ``database_urls`` maps a service to its SQLAlchemy URL (default: SQLite files in run_dir).
    ``services`` selects a subset (tests only: the gateway still routes all five, the missing
    ones answer 502). ``env`` adds variables to every process (e.g. GUNICORN_WORKERS, LOG_LEVEL).
    """

    def __init__(self, run_dir: str | os.PathLike, *, services: Iterable[str] = SERVICES, ports: Ports | None = None,
                 database_urls: Mapping[str, str] | None = None, amqp_url: str = DEFAULT_AMQP_URL,
                 queue_prefix: str = "", host: str = "127.0.0.1", web_root: str | os.PathLike | None = None,
                 python: str | None = None, login_rate: str = "20r/s", login_burst: int = 400,
                 env: Mapping[str, str] | None = None, start_timeout: float = 90.0, stop_timeout: float = 30.0,
                 check_broker: bool = True):
        self.services = tuple(services)
        unknown = [s for s in self.services if s not in SERVICES]
        if unknown or not self.services:
            raise ValueError(f"unknown services {unknown}; choose from {', '.join(SERVICES)}")
        # Catalogue order whatever the caller's: the same start, log and stop order in every run.
        self.services = tuple(s for s in SERVICES if s in self.services)
        self.run_dir = Path(run_dir).resolve()
        self.logs_dir = self.run_dir / "logs"
        self.ports = ports or Ports()
        self.amqp_url = amqp_url
        self.queue_prefix = queue_prefix
        self.host = host
        self.web_root = Path(web_root).resolve() if web_root else ROOT / "web"
        venv_python = ROOT / ".venv" / "bin" / "python"
        self.python = python or (str(venv_python) if venv_python.exists() else sys.executable)
        self.login_rate = login_rate
        self.login_burst = login_burst
        self.extra_env = dict(env or {})
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.check_broker = check_broker
        self.database_urls = {s: f"sqlite:///{self.run_dir / (s + '.db')}" for s in SERVICES}
        self.database_urls.update(database_urls or {})
        self.procs: dict[str, Process] = {}

    # -- addresses --------------------------------------------------------------------------
    def url(self, path: str = "/") -> str:
        """Address of ``path`` on the gateway."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.ports.gateway}{path if path.startswith('/') else '/' + path}"

    def service_url(self, service: str, path: str = "/") -> str:
        """Address of ``path`` on a service's web process directly (bypassing the gateway)."""
        return f"http://127.0.0.1:{self.ports.web[service]}{path}"

    def log_path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.web['identity']}/.well-known/jwks.json"

    # -- environment ------------------------------------------------------------------------
    def env_for(self, service: str, kind: str = "cli") -> dict[str, str]:
        """The environment of one of ``service``'s processes (also what a one-off CLI command
        such as ``python -m identity create-admin`` needs to reach the same database)."""
        generic = ("DATABASE_URL", "AMQP_URL", "QUEUE_PREFIX", "JWKS_URL", "METRICS_PORT")
        shadowing = {f"{s.upper()}_{n}" for s in SERVICES for n in generic}
        # Drop inherited settings that would shadow the ones below (a service-specific variable
        # wins over a generic one, see ekinerja_common.config).
        env = {k: v for k, v in os.environ.items()
               if k not in shadowing and k not in ("PROMETHEUS_MULTIPROC_DIR", "GUNICORN_BIND", "METRICS_PORT")}
        env.update({
            "PYTHONUNBUFFERED": "1",
            "EKINERJA_DATA_DIR": str(self.run_dir),
            f"{service.upper()}_DATABASE_URL": self.database_urls[service],
            "AMQP_URL": self.amqp_url,
            "QUEUE_PREFIX": self.queue_prefix,
            "JWKS_URL": self.jwks_url,
        })
        if service == "identity" and not (env.get("IDENTITY_KEY_PASSPHRASE") or env.get("IDENTITY_KEY_PASSPHRASE_FILE")):
            env["IDENTITY_KEY_PASSPHRASE_FILE"] = str(self.run_dir / PASSPHRASE_FILE)
        if kind == "web":
            env["GUNICORN_BIND"] = f"127.0.0.1:{self.ports.web[service]}"
            env["PROMETHEUS_MULTIPROC_DIR"] = str(self._prom_dir(service))
        elif kind in ("relay", "consumer"):
            env["METRICS_PORT"] = str(self.ports.port_of(f"{service}.{kind}"))
        env.update(self.extra_env)
        return env

    def _prom_dir(self, service: str) -> Path:
        return self.run_dir / "prom" / service

    def run_cli(self, service: str, *args: str, env: Mapping[str, str] | None = None,
                timeout: float = 120.0) -> subprocess.CompletedProcess:
        """Run ``python -m <service> ARGS`` against this stack's database (output captured)."""
        return subprocess.run([self.python, "-m", service, *args], cwd=ROOT, env={**self.env_for(service), **(env or {})},
                              capture_output=True, text=True, timeout=timeout, umask=UMASK)

    # -- process definitions ----------------------------------------------------------------
    def _define(self) -> None:
        self.procs = {}
        for svc in self.services:
            web_port = self.ports.web[svc]
            self.procs[f"{svc}.web"] = Process(
                f"{svc}.web",
                # Without --no-control-socket every master on the machine (five per stack) would
                # share $HOME/.gunicorn/gunicorn.ctl; this runner manages the processes itself.
                [self.python, "-m", "gunicorn", "-c", "python:ekinerja_common.gunicorn_conf", "--no-control-socket",
                 f"{svc}.app:create_app()"],
                self.env_for(svc, "web"), self.log_path(f"{svc}.web"),
                ready=lambda p=web_port: http_ok(f"http://127.0.0.1:{p}/readyz"),
                before_start=lambda s=svc: self._reset_prom_dir(s),
            )
            for kind, command in (("relay", "relay"), ("consumer", "consume")):
                name = f"{svc}.{kind}"
                port = self.ports.port_of(name)
                self.procs[name] = Process(
                    name, [self.python, "-m", svc, command], self.env_for(svc, kind), self.log_path(name),
                    # Ready = connected to the broker and the loop turning (ekinerja_common.metrics.Health).
                    ready=lambda p=port: http_ok(f"http://127.0.0.1:{p}/readyz"),
                )
        nginx_dir = self.run_dir / "nginx"
        self.procs[GATEWAY] = Process(
            GATEWAY, gateway.nginx_argv(nginx_dir), dict(os.environ), self.log_path(GATEWAY),
            ready=lambda: http_ok(f"http://127.0.0.1:{self.ports.gateway_status}/nginx_status"),
            before_start=lambda: gateway.write_config(nginx_dir, self.gateway_values()),
        )

    def gateway_values(self) -> dict[str, object]:
        return gateway.local_values(
            run_dir=self.run_dir / "nginx", logs_dir=self.logs_dir, web_root=self.web_root, host=self.host,
            gateway_port=self.ports.gateway, status_port=self.ports.gateway_status, service_ports=dict(self.ports.web),
            login_rate=self.login_rate, login_burst=self.login_burst,
        )

    def _reset_prom_dir(self, service: str) -> None:
        # Files of an earlier run would be merged into this run's metrics.
        d = self._prom_dir(service)
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)

    # -- checks before starting -------------------------------------------------------------
    def _check_importable(self) -> None:
        code = (
            "import importlib.util, sys\n"
            "missing = []\n"
            "for s in sys.argv[1:]:\n"
            "    try:\n"
            "        ok = all(importlib.util.find_spec(f'{s}.{m}') for m in ('app', '__main__', 'runtime'))\n"
            "    except ImportError:\n"
            "        ok = False\n"
            "    if not ok:\n"
            "        missing.append(s)\n"
            "print(' '.join(missing))\n"
        )
        out = subprocess.run([self.python, "-c", code, *self.services], cwd=ROOT, capture_output=True, text=True, timeout=60)
        missing = out.stdout.split()
        if out.returncode != 0 or missing:
            raise StackError(
                f"service package(s) not importable by {self.python}: {', '.join(missing) or out.stderr.strip()}. "
                "Each needs services/<name>/<name>/{app,__main__,runtime}.py and an install into the venv "
                "(deploy/local/bootstrap.sh run); a test may pass services=[...] to start a subset."
            )

    def _check_ports(self) -> None:
        wanted = {GATEWAY: (self.host, self.ports.gateway), "gateway.status": ("127.0.0.1", self.ports.gateway_status)}
        for svc in self.services:
            for kind in KINDS:
                wanted[f"{svc}.{kind}"] = ("127.0.0.1", self.ports.port_of(f"{svc}.{kind}"))
        busy = []
        for name, (host, port) in wanted.items():
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind((host, port))
                except OSError:
                    busy.append(f"{port} ({name})")
        if busy:
            # Checked up front: otherwise a readiness probe could be answered by whatever already
            # listens there, e.g. the services of another stack.
            raise StackError(f"port(s) already in use: {', '.join(busy)}; is another stack running?")

    def _check_broker(self) -> None:
        import pika

        params = pika.URLParameters(self.amqp_url)
        params.socket_timeout = 3
        params.connection_attempts = 1
        try:
            pika.BlockingConnection(params).close()
        except Exception as exc:  # noqa: BLE001 - any failure: say which broker and why
            raise StackError(f"RabbitMQ is not reachable at {params.host}:{params.port} ({exc!r}); "
                             "start it with deploy/local/bootstrap.sh run") from exc

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "Stack":
        if any(p.alive() for p in self.procs.values()):
            raise StackError("stack already running")
        self._check_importable()
        self._check_ports()
        if self.check_broker:
            self._check_broker()
        self._private_run_dir()
        self.logs_dir.mkdir(mode=0o700, exist_ok=True)
        self._define()
        atexit.register(self.stop)
        try:
            self._migrate()
            started = []
            for svc in self.services:
                for kind in KINDS:
                    started.append(self._spawn(self.procs[f"{svc}.{kind}"]))
            self._wait_ready(started)
            self._wait_ready([self._spawn(self.procs[GATEWAY])])
        except BaseException:
            self.stop()
            raise
        return self

    def _private_run_dir(self) -> None:
        """0700 for the run directory and what is below it, 0600 for its files (a run directory
        of an earlier version had world-readable databases), and the key passphrase made once."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for root, dirs, files in os.walk(self.run_dir):
            os.chmod(root, 0o700)
            for name in files:
                path = os.path.join(root, name)
                if not os.path.islink(path):
                    os.chmod(path, 0o600)
        secret = self.run_dir / PASSPHRASE_FILE
        if not secret.exists():
            secret.parent.mkdir(mode=0o700, exist_ok=True)
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32) + "\n")

    def _migrate(self) -> None:
        # Independent databases: migrate them side by side, then require every one to succeed.
        migrations = [
            self._spawn(Process(f"{svc}.migrate", [self.python, "-m", svc, "migrate"], self.env_for(svc),
                                self.log_path(f"{svc}.migrate")))
            for svc in self.services
        ]
        deadline = time.monotonic() + self.start_timeout
        try:
            for proc in migrations:
                remaining = max(0.1, deadline - time.monotonic())
                try:
                    code = proc.popen.wait(timeout=remaining)
                except subprocess.TimeoutExpired:
                    raise StackError(f"{proc.name} did not finish within {self.start_timeout:.0f}s; "
                                     f"last lines of {proc.log}:\n{proc.tail()}") from None
                if code != 0:
                    raise StackError(f"{proc.name} failed (exit {code}); last lines of {proc.log}:\n{proc.tail()}")
        finally:
            for proc in migrations:
                if proc.popen.returncode is None:
                    proc.signal_group(signal.SIGKILL)
                    proc.popen.wait()

    def _spawn(self, proc: Process) -> Process:
        if proc.before_start:
            proc.before_start()
        proc.log.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(proc.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} start: {' '.join(proc.argv)}\n".encode())
            log.flush()
            proc.popen = subprocess.Popen(proc.argv, cwd=ROOT, env=proc.env, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True, umask=UMASK)
        proc.started_at = time.monotonic()
        return proc

    def _wait_ready(self, procs: list[Process]) -> None:
        pending = list(procs)
        deadline = time.monotonic() + self.start_timeout
        while pending:
            for proc in list(pending):
                code = proc.exit_code()
                if code is not None:
                    raise StackError(f"{proc.name} exited early (exit {code}); last lines of {proc.log}:\n{proc.tail()}")
                if proc.ready is None or proc.ready():
                    pending.remove(proc)
            if pending and time.monotonic() > deadline:
                names = ", ".join(p.name for p in pending)
                raise StackError(f"not ready after {self.start_timeout:.0f}s: {names}; last lines of "
                                 f"{pending[0].log}:\n{pending[0].tail()}")
            if pending:
                time.sleep(0.1)

    def stop(self, timeout: float | None = None) -> list[str]:
        """SIGTERM every process group (gateway first), wait up to ``timeout``, then SIGKILL what
        is left. Returns the names of the processes that had to be killed. Safe to call again."""
        timeout = self.stop_timeout if timeout is None else timeout
        running = [p for p in reversed(list(self.procs.values())) if p.popen and p.popen.returncode is None]
        for proc in running:
            proc.signal_group(signal.SIGTERM)
            proc.signal_group(signal.SIGCONT)  # a paused process could not act on SIGTERM
        deadline = time.monotonic() + timeout
        while any(p.alive() for p in running) and time.monotonic() < deadline:
            time.sleep(0.05)
        killed = [p.name for p in running if p.alive()]
        for proc in running:
            # Also reaches what a leader left behind in its group (e.g. a gunicorn worker).
            proc.signal_group(signal.SIGKILL)
            proc.popen.wait()
        atexit.unregister(self.stop)
        return killed

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- single processes (fault tests) -----------------------------------------------------
    def _proc(self, name: str) -> Process:
        try:
            proc = self.procs[name]
        except KeyError:
            raise KeyError(f"no process {name!r}; have {', '.join(self.procs)}") from None
        if proc.popen is None:
            raise StackError(f"{name} was never started")
        return proc

    def names(self) -> list[str]:
        return list(self.procs)

    def pids(self) -> dict[str, int]:
        """Process (and process group) id of every process that has been started."""
        return {n: p.pid for n, p in self.procs.items() if p.pid is not None}

    def alive(self, name: str) -> bool:
        return self._proc(name).alive()

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """End one process group: SIGKILL (default, a crash) or SIGTERM/SIGINT (a graceful stop;
        whatever ignores it is killed after the stop timeout). Waits until it is gone."""
        if sig not in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            raise ValueError("kill() ends a process; use pause()/resume() to stop and continue one")
        proc = self._proc(name)
        proc.held = True  # ended on purpose: supervise() leaves it down until restart()
        proc.end(sig, self.stop_timeout)

    def pause(self, name: str) -> None:
        self._proc(name).signal_group(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self._proc(name).signal_group(signal.SIGCONT)

    def restart(self, name: str) -> None:
        """Stop ``name`` gracefully if it still runs, start it again and wait until it is ready."""
        proc = self._proc(name)
        proc.end(signal.SIGTERM, self.stop_timeout)
        proc.held, proc.restart_at = False, None
        self._spawn(proc)
        try:
            self._wait_ready([proc])
        except StackError:
            proc.end(signal.SIGKILL, self.stop_timeout)
            raise

    def check(self) -> list[str]:
        """Names of started processes that are no longer running."""
        return [n for n, p in self.procs.items() if p.popen is not None and not p.alive()]

    def supervise(self, now: float | None = None) -> list[str]:
        """Restart every process that died on its own (not one ended by kill()), with backoff:
        call it every second or so (deploy/local/run.py does). Returns what it did, one line per
        event, for the runner to print; the same line goes into the process's log."""
        now = time.monotonic() if now is None else now
        said: list[str] = []
        for proc in self.procs.values():
            if proc.popen is None or proc.held:
                continue
            if proc.alive():
                if proc.restarts and now - proc.started_at >= STABLE_AFTER:
                    proc.restarts = 0  # it has run a while: the next death starts the backoff over
                continue
            if proc.restart_at is None:
                delay = min(RESTART_MAX_DELAY, RESTART_FIRST_DELAY * 2 ** proc.restarts)
                proc.restart_at = now + delay
                said.append(f"{proc.name} exited (code {proc.exit_code()}); restarting in {delay:.0f}s "
                            f"(restart {proc.restarts + 1}); see {proc.log}")
            elif now >= proc.restart_at:
                proc.end(signal.SIGKILL, 1.0)  # reap it and whatever it left in its group
                proc.restarts += 1
                proc.restart_at = None
                self._spawn(proc)
                said.append(f"{proc.name} restarted (restart {proc.restarts})")
            else:
                continue
            with open(proc.log, "ab") as log:
                log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} supervisor: {said[-1]}\n".encode())
        return said
