"""``python -m <service> migrate|relay|consume|openapi|prune|sql``: the process kinds of a service.

``replay-dead-letters [--type T] [--dry-run]`` moves the consumer's dead letters back to its
queue after a fix (ekinerja_common.deadletters). ``prune`` deletes old rows of the messaging tables (ekinerja_common.retention); ``sql [FROM:]TO``
prints the migration SQL for a DBA to review and run (alembic's offline mode), default base:head.
"""
from __future__ import annotations

import argparse
import json
from typing import Callable

from .consumer import Handler, serve as serve_consumer
from .logs import configure_logging
from .relay import serve as serve_relay
from .runtime import Runtime


def main(runtime: Runtime, handlers: dict[str, Handler], extra: dict[str, Callable[[list[str]], None]] | None = None,
         argv: list[str] | None = None) -> None:
    extra = extra or {}
    parser = argparse.ArgumentParser(prog=f"python -m {runtime.service}")
    parser.add_argument("command", choices=["migrate", "makemigration", "relay", "consume", "openapi", "prune", "sql",
                                            "replay-dead-letters", *extra])
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)
    configure_logging(runtime.service, runtime.settings.log_level)
    from . import metrics

    metrics.process_kind = ns.command
    if ns.command == "migrate":
        runtime.migrate()
    elif ns.command == "makemigration":
        runtime.migrate()
        runtime.make_migration(" ".join(ns.args) or "change")
    elif ns.command == "relay":
        serve_relay(runtime.settings, runtime.engine, runtime.metadata)
    elif ns.command == "consume":
        serve_consumer(runtime.settings, runtime.session_factory, runtime.metadata, handlers)
    elif ns.command == "prune":
        from .retention import prune, retention_days

        outbox_days, processed_days = retention_days()
        done = prune(runtime.engine, runtime.metadata, outbox_days=outbox_days, processed_days=processed_days)
        from . import idempotency

        keys_deleted = 0
        if idempotency.TABLE in runtime.metadata.tables:
            with runtime.session_factory() as session:
                keys_deleted = idempotency.prune(session, runtime.metadata.tables[idempotency.TABLE])
                session.commit()
        print(json.dumps({"service": runtime.service, "deleted": done,
                          "retention_days": {"outbox": outbox_days, "processed_messages": processed_days},
                          "idempotency_keys_deleted": keys_deleted, "idempotency_key_hours": idempotency.keep_hours()}))
    elif ns.command == "replay-dead-letters":
        from .deadletters import replay

        sub = argparse.ArgumentParser(prog=f"python -m {runtime.service} replay-dead-letters")
        sub.add_argument("--type", help="only events of this type (e.g. activity.approved)")
        sub.add_argument("--dry-run", action="store_true", help="count what would move, move nothing")
        opts = sub.parse_args(ns.args)
        print(json.dumps(replay(runtime.settings, opts.type, opts.dry_run)))
    elif ns.command == "sql":
        runtime.offline_sql(ns.args[0] if ns.args else "head")
    elif ns.command == "openapi":
        import importlib

        app = importlib.import_module(f"{runtime.service}.app").create_app()
        with app.test_client() as c:
            print(json.dumps(c.get("/openapi.json").get_json(), indent=2))
    else:
        extra[ns.command](ns.args)
