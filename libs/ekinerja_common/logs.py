"""Logging with the request id of the gateway on every line, in web, relay and consumer alike."""
from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Mapping

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "request_id": request_id_var.get(),
            "msg": record.getMessage(),
        }
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            # gunicorn passes the request's atoms: keep the useful ones as fields of their own.
            def atom(key: str):
                try:
                    value = record.args[key]  # gunicorn's AtomsDict answers "-" for what it lacks
                except KeyError:
                    return None
                return None if value == "-" else value

            line["request_id"] = atom("{x-request-id}o")
            line.update(remote=atom("h"), request=atom("r"), status=_int(atom("s")), bytes=_int(atom("b")),
                        duration_us=_int(atom("D")))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("pika").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
