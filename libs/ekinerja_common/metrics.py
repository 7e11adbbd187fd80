"""Prometheus metrics of every process kind.

Web workers run in gunicorn's multiprocess mode (PROMETHEUS_MULTIPROC_DIR): each worker writes its
own files and ``/metrics`` merges them. That mode has no default process collector, so each
process samples its own CPU, memory and file descriptors into ``ekinerja_process_*`` gauges (one
series per live worker, labelled by pid). Relays, consumers and the scheduler are single processes
with their own registry and a small HTTP server on METRICS_PORT that also answers the health
checks: ``/healthz`` (the main loop is turning) and ``/readyz`` (connected to the broker *and*
turning), so that a green check means "connected and making progress", not "thread alive".

Every family is listed in README (Observability); the dashboards and alert rules use only these
names, which tests/deploy checks against what the running stack really exposes.
"""
from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

from .config import Settings

# What this process is (web, relay, consume, schedule, ...): set by the CLI before it runs a kind.
process_kind = "web"

# -- web (every worker) ---------------------------------------------------------------------------
REQUESTS = Counter("ekinerja_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram(
    "ekinerja_http_request_seconds", "HTTP request latency", ["service", "method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
IN_FLIGHT = Gauge("ekinerja_http_in_flight_requests", "Requests being handled now (per worker)", ["service"],
                  multiprocess_mode="liveall")
REQUEST_BYTES = Counter("ekinerja_http_request_bytes_total", "Bytes of request bodies received", ["service", "method", "route"])
RESPONSE_BYTES = Counter("ekinerja_http_response_bytes_total", "Bytes of response bodies sent", ["service", "method", "route"])
GUNICORN_WORKERS = Gauge("ekinerja_gunicorn_workers", "Worker processes gunicorn runs", ["service"],
                         multiprocess_mode="mostrecent")
GUNICORN_THREADS = Gauge("ekinerja_gunicorn_threads_per_worker", "Request threads of each worker", ["service"],
                         multiprocess_mode="mostrecent")

# -- every process --------------------------------------------------------------------------------
PROCESS_CPU = Gauge("ekinerja_process_cpu_seconds", "CPU time (user + system) of this process", ["service", "kind"],
                    multiprocess_mode="liveall")
PROCESS_RSS = Gauge("ekinerja_process_resident_memory_bytes", "Resident memory of this process", ["service", "kind"],
                    multiprocess_mode="liveall")
PROCESS_FDS = Gauge("ekinerja_process_open_fds", "Open file descriptors of this process", ["service", "kind"],
                    multiprocess_mode="liveall")
PROCESS_START = Gauge("ekinerja_process_start_time_seconds", "Start of this process (unix time)", ["service", "kind"],
                      multiprocess_mode="liveall")

# -- database (every process with an engine) --------------------------------------------------------
DB_CHECKED_OUT = Gauge("ekinerja_db_pool_checked_out", "Pool connections in use", ["service", "kind"],
                       multiprocess_mode="livesum")
DB_OVERFLOW = Gauge("ekinerja_db_pool_overflow", "Connections opened beyond the pool size", ["service", "kind"],
                    multiprocess_mode="livesum")
DB_POOL_SIZE = Gauge("ekinerja_db_pool_size", "Configured pool size", ["service", "kind"], multiprocess_mode="livesum")
DB_WAIT = Histogram("ekinerja_db_pool_wait_seconds", "Time to get a connection from the pool", ["service", "kind"],
                    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30))
DB_QUERY = Histogram("ekinerja_db_query_seconds", "Duration of one SQL statement", ["service", "kind"],
                     buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5))

BROKER_CONNECTS = Counter("ekinerja_broker_connections_total", "Broker connections opened by this process",
                          ["service", "kind"])

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def observe(service: str, method: str, route: str, status: int, started: float,
            request_bytes: int = 0, response_bytes: int = 0) -> None:
    REQUESTS.labels(service, method, route, str(status)).inc()
    LATENCY.labels(service, method, route).observe(time.perf_counter() - started)
    # Also when 0: every route a request reached has its series, as in ekinerja_http_requests_total.
    REQUEST_BYTES.labels(service, method, route).inc(request_bytes)
    RESPONSE_BYTES.labels(service, method, route).inc(response_bytes)


def exposition() -> tuple[bytes, str]:
    """The /metrics body. Under gunicorn every worker writes to PROMETHEUS_MULTIPROC_DIR and this
    merges them; without it (tests, flask run) the process registry is used."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


# -- process sampling -----------------------------------------------------------------------------
_sampler_pid: int | None = None
_sampler_lock = threading.Lock()


def sample_process(service: str, kind: str) -> None:
    t = os.times()
    PROCESS_CPU.labels(service, kind).set(t.user + t.system)
    try:
        with open("/proc/self/statm") as f:
            PROCESS_RSS.labels(service, kind).set(int(f.read().split()[1]) * _PAGE)
        PROCESS_FDS.labels(service, kind).set(len(os.listdir("/proc/self/fd")))
    except OSError:  # not Linux: CPU only
        pass


def start_process_sampler(service: str, kind: str | None = None, interval: float = 5.0) -> None:
    """Sample this process every ``interval`` seconds in a daemon thread; once per process (a
    forked worker starts its own on its first request)."""
    global _sampler_pid
    kind = kind or process_kind
    with _sampler_lock:
        if _sampler_pid == os.getpid():
            return
        _sampler_pid = os.getpid()
    PROCESS_START.labels(service, kind).set(time.time())

    def loop() -> None:
        while True:
            sample_process(service, kind)
            time.sleep(interval)

    threading.Thread(target=loop, name="process-metrics", daemon=True).start()


# -- database ------------------------------------------------------------------------------------
def instrument_engine(engine, service: str, kind: str | None = None) -> None:
    """Pool use and statement durations of ``engine``, in this process."""
    from sqlalchemy import event

    kind = kind or process_kind
    pool = engine.pool
    size = getattr(pool, "size", None)
    if callable(size):
        DB_POOL_SIZE.labels(service, kind).set(size())

    checked_out = DB_CHECKED_OUT.labels(service, kind)

    def on_checkout(*_args) -> None:
        checked_out.inc()
        if hasattr(pool, "overflow"):
            DB_OVERFLOW.labels(service, kind).set(max(0, pool.overflow()))

    def on_checkin(*_args) -> None:
        checked_out.dec()

    event.listen(pool, "checkout", on_checkout)
    event.listen(pool, "checkin", on_checkin)

    # SQLAlchemy has no event for "started waiting for a connection", so time the pool's own
    # acquisition step (the method every Pool subclass implements) on this instance.
    inner = pool._do_get
    wait = DB_WAIT.labels(service, kind)

    def timed_get():
        started = time.perf_counter()
        try:
            return inner()
        finally:
            wait.observe(time.perf_counter() - started)

    pool._do_get = timed_get
    query = DB_QUERY.labels(service, kind)

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("ekinerja_query_started", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        starts = conn.info.get("ekinerja_query_started")
        if starts:
            query.observe(time.perf_counter() - starts.pop())


# -- health and the metrics server of single processes --------------------------------------------
class Health:
    """What the relay's and consumer's loops report: whether they hold a broker connection and
    when their loop last turned (it turns at least every second when idle)."""

    READY_WITHIN = 15.0   # seconds since the last turn for /readyz
    LIVE_WITHIN = 60.0    # ... and for /healthz: a loop stuck this long is a process to restart

    def __init__(self) -> None:
        self.service = ""
        self.connected = False
        self.last_beat: float | None = None
        self.detail = "starting"

    def beat(self) -> None:
        self.last_beat = time.monotonic()

    def set_connected(self, connected: bool, detail: str = "") -> None:
        if connected and not self.connected:
            BROKER_CONNECTS.labels(self.service, process_kind).inc()
        self.connected = connected
        self.detail = detail or ("connected" if connected else "disconnected")
        self.beat()

    def age(self) -> float | None:
        return None if self.last_beat is None else time.monotonic() - self.last_beat

    def live(self) -> tuple[bool, dict]:
        age = self.age()
        ok = age is not None and age < self.LIVE_WITHIN
        return ok, {"status": "ok" if ok else "stuck", "loop_age_seconds": age}

    def ready(self) -> tuple[bool, dict]:
        age = self.age()
        ok = self.connected and age is not None and age < self.READY_WITHIN
        return ok, {"status": "ready" if ok else "not ready", "connected": self.connected, "detail": self.detail,
                    "loop_age_seconds": age}


health = Health()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            body, ctype = exposition()
            status = 200
        elif path in ("/healthz", "/readyz"):
            ok, info = health.live() if path == "/healthz" else health.ready()
            body, ctype, status = json.dumps(info).encode(), "application/json", 200 if ok else 503
        else:
            body, ctype, status = b"not found\n", "text/plain", 404
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:  # scrapes every few seconds would flood the log
        pass


def start_metrics_server(settings: Settings) -> None:
    """/metrics, /healthz and /readyz on METRICS_PORT (if set), plus process sampling."""
    health.service = settings.service
    start_process_sampler(settings.service)
    if settings.metrics_port:
        server = ThreadingHTTPServer((os.environ.get("METRICS_ADDR", "127.0.0.1"), settings.metrics_port), _Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
