"""Engines and sessions for PostgreSQL (production, tests) and SQLite (single-machine run).

Engines are created lazily per process: gunicorn forks its workers before the first request, so
no connection is ever shared across a fork.

A request must end with an answer even when PostgreSQL is down, restarting or paused (SIGSTOP, a
frozen VM): every wait on the database is bounded (README "Configuration"):

- ``connect_timeout`` (DB_CONNECT_TIMEOUT): opening a connection;
- ``pool_timeout`` (DB_POOL_TIMEOUT): waiting for a pooled connection while all are busy;
- ``statement_timeout`` (DB_STATEMENT_TIMEOUT_MS): PostgreSQL cancels a statement running longer;
  a server that cannot even do that (paused) is cut off by :class:`StatementWatchdog` shortly after;
- a ping before use (``ping_idle``, DB_PING_IDLE_SECONDS): a pooled connection that sat idle for
  longer is pinged when it is checked out, and replaced if it died with a restart, so the first
  request after the database is back succeeds. One that was in use a moment ago is not pinged:
  under load that ping was a round trip on every checkout, two per request (issue 13). A restart
  in that moment costs the requests on those connections one 503; the pool then renews every
  connection older than the failure (SQLAlchemy's pool invalidation), as the ping would.

The web layer turns each of these failures into 503 ``service_unavailable`` with Retry-After.
"""
from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from typing import Any, Callable, Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import sessionmaker, Session

log = logging.getLogger("ekinerja.db")

# After PostgreSQL's own statement_timeout, how long the client still waits for the server's
# cancellation before it decides the server cannot answer at all and cuts the connection.
WATCHDOG_GRACE_SECONDS = 2.0

_unbounded = threading.local()


@contextlib.contextmanager
def unbounded() -> Iterator[None]:
    """Statements of this thread inside the block are not cut off by the watchdog (migrations,
    which set ``statement_timeout = 0`` themselves: an index build may take minutes)."""
    before = getattr(_unbounded, "on", False)
    _unbounded.on = True
    try:
        yield
    finally:
        _unbounded.on = before


class StatementWatchdog:
    """Cuts the socket of a connection whose statement (or commit, rollback, ping) has waited
    longer than ``limit`` seconds: the blocked driver call then fails at once with a broken
    connection (OperationalError, the connection is dropped from the pool) instead of waiting
    for a paused server for as long as it stays paused. One thread per process, started on
    first use (after gunicorn's fork)."""

    def __init__(self, limit: float):
        self.limit = limit
        self._armed: dict[int, tuple[float, Any]] = {}
        self._pid: int | None = None
        self._lock = threading.Lock()

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._armed.clear()  # a parent's entries mean nothing after a fork
                threading.Thread(target=self._watch, name="db-statement-watchdog", daemon=True).start()
                self._pid = os.getpid()

    @contextlib.contextmanager
    def guard(self, dbapi_connection: Any, statements: int = 1) -> Iterator[None]:
        """Bound one driver call; ``statements``: how many statements it sends (an executemany of
        a bulk import sends thousands, each bounded by the server: the call gets the bound once
        per thousand)."""
        if getattr(_unbounded, "on", False):
            yield
            return
        self._ensure_thread()
        key = id(dbapi_connection)
        self._armed[key] = (time.monotonic() + self.limit * max(1, -(-statements // 1000)), dbapi_connection)
        try:
            yield
        finally:
            self._armed.pop(key, None)

    def _watch(self) -> None:
        while True:
            time.sleep(0.25)
            now = time.monotonic()
            for key, (deadline, conn) in list(self._armed.items()):
                if now >= deadline and self._armed.pop(key, None) is not None:
                    log.warning("database did not answer within %.0fs; cutting the connection", self.limit)
                    cut_connection(conn)


def cut_connection(dbapi_connection: Any) -> None:
    """Shut the connection's socket down (both ways): the driver waiting on it wakes up with an
    error. Only the socket: the driver closes its own file descriptor afterwards."""
    try:
        fd = dbapi_connection.pgconn.socket
        dup = socket.socket(fileno=os.dup(fd))
    except Exception:  # noqa: BLE001 - already closed: nothing to cut
        return
    try:
        dup.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        dup.close()


def _guard_dialect(engine: Engine, watchdog: StatementWatchdog) -> None:
    """Every driver call that waits for the server goes through the watchdog (the dialect's
    hooks: events fire before commit and ping, never after)."""
    dialect = engine.dialect

    def wrap(name: str, conn_of: Callable[..., Any], count: Callable[..., int] = lambda *args: 1) -> None:
        original = getattr(dialect, name)

        def guarded(*args: Any, **kwargs: Any):
            with watchdog.guard(conn_of(*args), count(*args)):
                return original(*args, **kwargs)

        setattr(dialect, name, guarded)

    for name in ("do_execute", "do_execute_no_params"):
        wrap(name, lambda cursor, *rest: cursor.connection)
    wrap("do_executemany", lambda cursor, *rest: cursor.connection,
         lambda cursor, statement, parameters, *rest: len(parameters) if hasattr(parameters, "__len__") else 1)
    for name in ("do_commit", "do_rollback", "do_ping"):
        wrap(name, lambda dbapi_connection, *rest: dbapi_connection)
    dialect.ekinerja_watchdog = watchdog  # for read_one, which bypasses the dialect


def read_one(engine: Engine, sql: str, params: tuple) -> tuple | None:
    """The first row of one read-only statement (``%s`` parameters), on a pooled connection in
    autocommit, without SQLAlchemy's statement machinery: for the check every authenticated
    request makes (auth_store.DatabaseRevocations), where that machinery cost three times the
    statement itself (issue 13). Bounded like every statement (the server's statement_timeout
    and the watchdog); a failure is SQLAlchemy's OperationalError (a 503), and a broken
    connection is dropped from the pool. PostgreSQL only."""
    dbapi = engine.dialect.loaded_dbapi
    try:
        pooled = engine.raw_connection()
    except dbapi.Error as exc:
        raise sa_exc.DBAPIError.instance(sql, params, exc, dbapi.Error) from exc
    try:
        conn = pooled.driver_connection
        watchdog: StatementWatchdog | None = getattr(engine.dialect, "ekinerja_watchdog", None)
        conn.autocommit = True  # one statement: no BEGIN, no ROLLBACK at check-in
        try:
            with watchdog.guard(conn) if watchdog else contextlib.nullcontext(), conn.cursor() as cur:
                cur.execute(sql, params, prepare=True)
                return cur.fetchone()
        finally:
            if not conn.closed:
                conn.autocommit = False
    except dbapi.Error as exc:
        if pooled.driver_connection is None or pooled.driver_connection.closed or \
                engine.dialect.is_disconnect(exc, pooled.driver_connection, None):
            pooled.invalidate(exc)
        raise sa_exc.DBAPIError.instance(sql, params, exc, dbapi.Error) from exc
    finally:
        pooled.close()


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """SQLAlchemy's ``pool_pre_ping``, but only for a connection idle for ``idle_seconds`` or
    more (module docstring). A ping that fails raises DisconnectionError at checkout: the pool
    then drops the connection, renews every older one and checks out a fresh one."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        # ``record.info`` lives as long as the DBAPI connection: a replaced one starts empty.
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return  # just connected, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)  # bounded by the watchdog like a statement
        except Exception as exc:  # noqa: BLE001 - whatever the driver raises, this connection is unusable
            raise sa_exc.DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


def make_engine(url: str, *, statement_timeout_ms: int | None = None, pool_timeout: float | None = None,
                connect_timeout: int | None = None, ping_idle: float = 1.0, **kw) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kw)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by the local runner
            # Autocommit at the driver level so that SQLAlchemy's "begin" below is the only BEGIN.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover
            # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
            # writes fails at once with "database is locked" when another process wrote meanwhile,
            # instead of waiting for busy_timeout.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kw.setdefault("pool_size", 5)
    kw.setdefault("max_overflow", 5)
    if pool_timeout is not None:
        kw.setdefault("pool_timeout", pool_timeout)
    connect_args = dict(kw.pop("connect_args", {}))
    if connect_timeout:
        connect_args.setdefault("connect_timeout", int(connect_timeout))
    if statement_timeout_ms:
        connect_args.setdefault("options", f"-c statement_timeout={int(statement_timeout_ms)}")
    engine = create_engine(url, connect_args=connect_args, **kw)
    if statement_timeout_ms:
        _guard_dialect(engine, StatementWatchdog(statement_timeout_ms / 1000 + WATCHDOG_GRACE_SECONDS))
    if not kw.get("pool_pre_ping"):
        _ping_when_idle(engine, ping_idle)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
