"""Prometheus metrics for web workers (multiprocess mode under gunicorn) and for the relay and
consumer processes (their own small HTTP server)."""
from __future__ import annotations

import os
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, start_http_server
from prometheus_client import multiprocess

from .config import Settings

REQUESTS = Counter("ekinerja_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram(
    "ekinerja_http_request_seconds", "HTTP request latency", ["service", "method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def observe(service: str, method: str, route: str, status: int, started: float) -> None:
    REQUESTS.labels(service, method, route, str(status)).inc()
    LATENCY.labels(service, method, route).observe(time.perf_counter() - started)


def exposition() -> tuple[bytes, str]:
    """The /metrics body. Under gunicorn every worker writes to PROMETHEUS_MULTIPROC_DIR and this
    merges them; without it (tests, flask run) the process registry is used."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def start_metrics_server(settings: Settings) -> None:
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=os.environ.get("METRICS_ADDR", "127.0.0.1"))
