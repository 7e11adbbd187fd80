"""gunicorn settings shared by every service: ``gunicorn -c python:ekinerja_common.gunicorn_conf``.

Workers are forked without preloading the app, so each opens its own database pool; web workers
never open a broker connection (events leave through the outbox). Every line gunicorn writes (its
own error log, the access log, the app's loggers) is a JSON line of ekinerja_common.logs, with the
request id: the access line carries the X-Request-ID the app answered with.
"""
import os
import re
import sys

from prometheus_client import multiprocess

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# Idle keep-alive connections stay open longer than the gateway keeps its upstream ones
# (nginx's upstream keepalive_timeout, 60 s in deploy/gateway/nginx.conf.template): the side that
# closes an idle connection must be nginx. With gunicorn's 2 s default, gunicorn closed connections
# nginx was about to reuse, and nginx does not retry a POST on one: a spurious 502 (issue 9 item 16).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
graceful_timeout = 20
preload_app = False
# gunicorn 27 otherwise gives every master on the machine the same ~/.gunicorn/gunicorn.ctl.
control_socket_disable = True


def _service() -> str:
    """The service whose app this gunicorn serves (``<service>.app:create_app()`` on the command line)."""
    for arg in sys.argv[1:]:
        m = re.match(r"^([a-z_]+)\.app:", arg)
        if m:
            return m.group(1)
    return os.environ.get("EKINERJA_SERVICE", "web")


SERVICE = _service()
accesslog = "-"
# The fields of the access line (ekinerja_common.logs turns them into JSON keys).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)s %({x-request-id}o)s'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "ekinerja_common.logs.JsonFormatter", "service": SERVICE}},
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": os.environ.get("LOG_LEVEL", "INFO"), "handlers": ["json"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
        "pika": {"level": "WARNING"},
        "alembic.runtime.plugins": {"level": "WARNING"},
    },
}


def nworkers_changed(server, new_value, old_value):
    # In the master: the size of the pool, beside which the workers' in-flight gauges show how
    # many are busy.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from ekinerja_common import metrics

        metrics.GUNICORN_WORKERS.labels(SERVICE).set(new_value)
        metrics.GUNICORN_THREADS.labels(SERVICE).set(threads)


def child_exit(server, worker):
    # Without this a dead worker's gauges linger in the multiprocess directory.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
