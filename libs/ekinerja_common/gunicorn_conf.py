"""gunicorn settings shared by every service: ``gunicorn -c python:ekinerja_common.gunicorn_conf``.

Workers are forked without preloading the app, so each opens its own database pool; web workers
never open a broker connection (events leave through the outbox).
"""
import os

from prometheus_client import multiprocess

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
accesslog = None
preload_app = False
# gunicorn 27 otherwise gives every master on the machine the same ~/.gunicorn/gunicorn.ctl.
control_socket_disable = True


def child_exit(server, worker):
    # Without this a dead worker's gauges linger in the multiprocess directory.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
