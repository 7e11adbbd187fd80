"""Writes E-Kinerja's Grafana dashboards (``python -m deploy.grafana.generate``): the overview and
one per service. Generated so that every service gets the same panels and every expression uses
only the metric names of ekinerja_common (tests/deploy checks them against the code, and the
end-to-end test evaluates every expression against a Prometheus that scraped the running stack).
RabbitMQ's official dashboards are vendored as they are in dashboards/rabbitmq/.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ekinerja_common.events import SERVICES

OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "prometheus", "uid": "prometheus"}
R = "$__rate_interval"


class Board:
    def __init__(self, uid: str, title: str, description: str):
        self.uid, self.title, self.description = uid, title, description
        self.panels: list[dict] = []
        self.y = 0
        self.x = 0

    def row(self, title: str) -> None:
        self.x = 0
        self.y += 1
        self.panels.append({"type": "row", "title": title, "collapsed": False, "id": len(self.panels) + 1,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1

    def panel(self, title: str, targets: list[tuple[str, str]], unit: str = "short", kind: str = "timeseries",
              width: int = 8, description: str = "") -> None:
        if self.x + width > 24:
            self.x = 0
            self.y += 8
        self.panels.append({
            "type": kind, "title": title, "description": description, "id": len(self.panels) + 1, "datasource": DS,
            "gridPos": {"h": 8, "w": width, "x": self.x, "y": self.y},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
            "targets": [{"datasource": DS, "expr": expr, "legendFormat": legend, "refId": chr(65 + i)}
                        for i, (expr, legend) in enumerate(targets)],
        })
        self.x += width

    def json(self, variables: list[dict] | None = None) -> dict:
        return {"uid": self.uid, "title": self.title, "description": self.description, "tags": ["ekinerja"],
                "timezone": "Asia/Jakarta", "schemaVersion": 39, "version": 1, "editable": False,
                "graphTooltip": 1, "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
                "templating": {"list": variables or []}, "annotations": {"list": []}, "panels": self.panels}


def overview() -> dict:
    b = Board("ekinerja-overview", "E-Kinerja: overview",
              "Every service's rate, errors and duration; events from outbox to effect; the broker; capacity.")
    b.row("Requests: rate, errors, duration (RED) per service")
    b.panel("Requests per second", [(f"sum by (service) (rate(ekinerja_http_requests_total[{R}]))", "{{service}}")], "reqps")
    # "or ... * 0": a service without a single 5xx shows 0, not "no data".
    b.panel("5xx error ratio", [(f'(sum by (service) (rate(ekinerja_http_requests_total{{status=~"5.."}}[{R}])) '
                                 f"or sum by (service) (rate(ekinerja_http_requests_total[{R}])) * 0) "
                                 f"/ sum by (service) (rate(ekinerja_http_requests_total[{R}]))", "{{service}}")], "percentunit")
    b.panel("p95 response time", [(f"histogram_quantile(0.95, sum by (service, le) "
                                   f"(rate(ekinerja_http_request_seconds_bucket[{R}])))", "{{service}}")], "s")
    b.panel("Error budget left this month (SLO 99.5 % not 5xx)",
            [('1 - ((sum by (service) (increase(ekinerja_http_requests_total{status=~"5.."}[30d])) '
              "or sum by (service) (increase(ekinerja_http_requests_total[30d])) * 0) "
              "/ sum by (service) (increase(ekinerja_http_requests_total[30d]))) / 0.005", "{{service}}")],
            "percentunit", description="1 = the whole budget left; 0 = used up; below 0 = SLO missed.")
    b.panel("Gateway (nginx) requests per second", [(f"sum(rate(nginx_http_requests_total[{R}]))", "requests"),
                                                   ("sum(nginx_connections_active)", "active connections")], "short")
    b.panel("Network: request and response bytes per second",
            [(f"sum by (service) (rate(ekinerja_http_request_bytes_total[{R}]))", "in {{service}}"),
             (f"sum by (service) (rate(ekinerja_http_response_bytes_total[{R}]))", "out {{service}}")], "Bps")
    b.row("Events: from the outbox to their effect")
    b.panel("Event lag p95 (occurred → handled)", [(f"histogram_quantile(0.95, sum by (service, le) "
                                                     f"(rate(ekinerja_consumer_lag_seconds_bucket[{R}])))", "{{service}}")], "s")
    b.panel("Outbox rows waiting", [("max by (service) (ekinerja_relay_pending)", "{{service}}")])
    b.panel("Oldest unpublished event", [("max by (service) (ekinerja_relay_oldest_pending_seconds)", "{{service}}")], "s")
    b.panel("Consumed per second by outcome", [(f"sum by (service, outcome) (rate(ekinerja_consumer_messages_total[{R}]))",
                                                "{{service}} {{outcome}}")], "short")
    b.panel("Published per second", [(f"sum by (service) (rate(ekinerja_relay_published_total[{R}]))", "{{service}}")])
    b.panel("Dead-lettered in the last 24 h", [('sum by (service) (increase(ekinerja_consumer_messages_total'
                                                '{outcome=~"dead|malformed"}[24h])) or sum by (service) '
                                                '(ekinerja_broker_connections_total{kind="consume"}) * 0', "{{service}}")])
    b.row("Broker")
    b.panel("Queue depth (ready + unacknowledged)", [('sum by (queue) (rabbitmq_detailed_queue_messages{queue=~".*\\\\.events"})',
                                                      "{{queue}}")], width=12)
    b.panel("Dead-letter queues", [('sum by (queue) (rabbitmq_detailed_queue_messages{queue=~".*\\\\.events\\\\.dead"})',
                                    "{{queue}}")], width=12)
    b.row("Capacity")
    b.panel("Busy web threads of all", [("sum by (service) (ekinerja_http_in_flight_requests)", "busy {{service}}"),
                                        ("sum by (service) (ekinerja_gunicorn_workers * ekinerja_gunicorn_threads_per_worker)",
                                         "all {{service}}")])
    b.panel("Memory per process kind", [("sum by (service, kind) (ekinerja_process_resident_memory_bytes)",
                                         "{{service}} {{kind}}")], "bytes")
    b.panel("Database: connections in use and p95 query time",
            [("sum by (service) (ekinerja_db_pool_checked_out)", "in use {{service}}"),
             (f"histogram_quantile(0.95, sum by (service, le) (rate(ekinerja_db_query_seconds_bucket[{R}])))",
              "p95 query {{service}} (s)")])
    return b.json()


def service_board(service: str) -> dict:
    s = f'service="{service}"'
    b = Board(f"ekinerja-{service}", f"E-Kinerja: {service}",
              f"The {service} service: web processes, database, outbox relay, consumer, scheduled jobs.")
    b.row("Web")
    b.panel("Requests per second by route", [(f"sum by (method, route) (rate(ekinerja_http_requests_total{{{s}}}[{R}]))",
                                              "{{method}} {{route}}")], "reqps")
    b.panel("p95 by route", [(f"histogram_quantile(0.95, sum by (route, le) (rate(ekinerja_http_request_seconds_bucket{{{s}}}[{R}])))",
                              "{{route}}")], "s")
    b.panel("Responses by status", [(f"sum by (status) (rate(ekinerja_http_requests_total{{{s}}}[{R}]))", "{{status}}")], "reqps")
    b.panel("Response bytes per second by route", [(f"sum by (route) (rate(ekinerja_http_response_bytes_total{{{s}}}[{R}]))",
                                                    "{{route}}")], "Bps")
    b.panel("Request bytes per second by route", [(f"sum by (route) (rate(ekinerja_http_request_bytes_total{{{s}}}[{R}]))",
                                                   "{{route}}")], "Bps")
    b.panel("In-flight requests per worker", [(f"ekinerja_http_in_flight_requests{{{s}}}", "pid {{pid}}"),
                                              (f"ekinerja_gunicorn_workers{{{s}}}", "workers")])
    b.row("Processes")
    b.panel("CPU per process", [(f"rate(ekinerja_process_cpu_seconds{{{s}}}[{R}])", "{{kind}} {{pid}}")], "percentunit")
    b.panel("Memory per process", [(f"ekinerja_process_resident_memory_bytes{{{s}}}", "{{kind}} {{pid}}")], "bytes")
    b.panel("Open file descriptors", [(f"ekinerja_process_open_fds{{{s}}}", "{{kind}} {{pid}}")])
    b.row("Database")
    b.panel("Pool: in use, overflow, size", [(f"sum by (kind) (ekinerja_db_pool_checked_out{{{s}}})", "in use {{kind}}"),
                                             (f"sum by (kind) (ekinerja_db_pool_overflow{{{s}}})", "overflow {{kind}}"),
                                             (f"sum by (kind) (ekinerja_db_pool_size{{{s}}})", "size {{kind}}")])
    b.panel("Wait for a connection p95", [(f"histogram_quantile(0.95, sum by (kind, le) (rate(ekinerja_db_pool_wait_seconds_bucket{{{s}}}[{R}])))",
                                           "{{kind}}")], "s")
    b.panel("Statement duration p95", [(f"histogram_quantile(0.95, sum by (kind, le) (rate(ekinerja_db_query_seconds_bucket{{{s}}}[{R}])))",
                                        "{{kind}}")], "s")
    b.row("Events")
    b.panel("Outbox: waiting and oldest", [(f"ekinerja_relay_pending{{{s}}}", "waiting"),
                                           (f"ekinerja_relay_oldest_pending_seconds{{{s}}}", "oldest (s)")])
    b.panel("Published / failed per second", [(f"sum by (type) (rate(ekinerja_relay_published_total{{{s}}}[{R}]))", "{{type}}"),
                                              (f"sum by (reason) (rate(ekinerja_relay_failures_total{{{s}}}[{R}]))", "failed: {{reason}}")])
    b.panel("Broker confirm p95", [(f"histogram_quantile(0.95, sum by (le) (rate(ekinerja_relay_confirm_seconds_bucket{{{s}}}[{R}])))",
                                    "confirm")], "s")
    b.panel("Consumed by type and outcome", [(f"sum by (type, outcome) (rate(ekinerja_consumer_messages_total{{{s}}}[{R}]))",
                                              "{{type}} {{outcome}}")])
    b.panel("Handling p95 by type", [(f"histogram_quantile(0.95, sum by (type, le) (rate(ekinerja_consumer_handle_seconds_bucket{{{s}}}[{R}])))",
                                      "{{type}}")], "s")
    b.panel("Lag p95 by type (occurred → handled)", [(f"histogram_quantile(0.95, sum by (type, le) (rate(ekinerja_consumer_lag_seconds_bucket{{{s}}}[{R}])))",
                                                      "{{type}}")], "s")
    b.row("Scheduled jobs")
    b.panel("Job runs", [(f"sum by (job, outcome) (increase(ekinerja_job_runs_total{{{s}}}[1h]))", "{{job}} {{outcome}}")], width=12)
    b.panel("Since the last success", [(f"time() - ekinerja_job_last_success_timestamp_seconds{{{s}}}", "{{job}}")], "s", width=12)
    return b.json()


def files() -> dict[Path, str]:
    out = {OUT / "ekinerja-overview.json": overview()}
    for service in SERVICES:
        out[OUT / f"ekinerja-{service}.json"] = service_board(service)
    return {p: json.dumps(d, indent=1, ensure_ascii=False) + "\n" for p, d in out.items()}


def main() -> int:
    for path, text in files().items():
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
