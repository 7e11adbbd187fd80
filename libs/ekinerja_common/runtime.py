"""Everything one service process needs, created lazily after fork: settings, engine, sessions,
units of work, migrations and the readiness check. Each service builds exactly one.

Rolling upgrades (expand/contract). The new version's migration runs before its pods start, while
the old pods still serve. A migration that only *expands* the schema (a new table, a nullable
column, a new index) declares how old a code version still works on the result::

    revision = "0005"
    down_revision = "0004"
    compatible_with_code_from = "0004"   # pods whose newest migration is 0004 keep working

``migrate`` records the highest such floor of the applied chain in ``<service>_schema_compat``;
``/readyz`` of older code then accepts a database ahead of it as long as its own head is at or
above that floor. A migration without the declaration is a *contract* step (it removes or changes
what older code uses): its floor is itself, so older pods turn unready, as they must.
"""
from __future__ import annotations

import os
from functools import cached_property

from sqlalchemy import Engine, MetaData, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings
from .db import make_engine, make_session_factory, unbounded
from .uow import UnitOfWork


class Runtime:
    def __init__(self, service: str, metadata: MetaData, migrations_dir: str, settings: Settings | None = None):
        self.service = service
        self.metadata = metadata
        self.migrations_dir = migrations_dir
        self.settings = settings or Settings.from_env(service)

    @cached_property
    def engine(self) -> Engine:
        url = self.settings.database_url
        if url.startswith("sqlite:///"):
            os.makedirs(os.path.dirname(os.path.abspath(url.removeprefix("sqlite:///"))), exist_ok=True)
        engine = make_engine(url, statement_timeout_ms=self.settings.db_statement_timeout_ms,
                             pool_timeout=self.settings.db_pool_timeout,
                             connect_timeout=self.settings.db_connect_timeout,
                             ping_idle=self.settings.db_ping_idle_seconds)
        from .metrics import instrument_engine

        instrument_engine(engine, self.service)
        return engine

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def uow(self, correlation_id: str | None = None) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.metadata, self.service, correlation_id)

    @property
    def version_table(self) -> str:
        return f"{self.service}_alembic_version"

    def _alembic_config(self):
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", self.migrations_dir)
        cfg.attributes["runtime"] = self
        return cfg

    @property
    def compat_table(self) -> str:
        return f"{self.service}_schema_compat"

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the database. On PostgreSQL under an advisory lock of this service: several
        pods starting at once (Kubernetes init containers) migrate one after the other, and the
        later ones find the database at head and do nothing."""
        from alembic import command

        with unbounded():  # waiting for another pod's migration, and the migration itself, may take minutes
            lock = None
            if self.engine.dialect.name == "postgresql":
                lock = self.engine.connect()
                lock.execute(text("SET LOCAL statement_timeout = 0"))
                lock.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": f"ekinerja-migrate-{self.service}"})
            try:
                command.upgrade(self._alembic_config(), revision)
                self._record_compat_floor()
            finally:
                if lock is not None:
                    lock.execute(text("SELECT pg_advisory_unlock_all()"))
                    lock.close()

    def offline_sql(self, revision: str = "head") -> None:
        """Print the SQL of ``revision`` (``TO`` or ``FROM:TO``) for a DBA, without a database
        connection: alembic's offline mode in the dialect of this service's URL."""
        from alembic import command

        command.upgrade(self._alembic_config(), revision, sql=True)

    def _compat_floor(self, current: str) -> str:
        """The oldest code head that works on a schema at ``current`` (see the module's doc)."""
        from alembic.script import ScriptDirectory

        floor = "0000"
        script = ScriptDirectory.from_config(self._alembic_config())
        for rev in script.iterate_revisions(current, "base"):
            declared = getattr(rev.module, "compatible_with_code_from", None) or rev.revision
            floor = max(floor, declared)
        return floor

    def _record_compat_floor(self) -> None:
        with self.engine.begin() as conn:
            current = conn.execute(text(f"SELECT version_num FROM {self.version_table}")).scalar()
            if current is None:
                return
            conn.execute(text(f"CREATE TABLE IF NOT EXISTS {self.compat_table} "
                              "(revision VARCHAR(32) PRIMARY KEY, code_from VARCHAR(32) NOT NULL)"))
            conn.execute(text(f"DELETE FROM {self.compat_table}"))
            conn.execute(text(f"INSERT INTO {self.compat_table} (revision, code_from) VALUES (:r, :f)"),
                         {"r": current, "f": self._compat_floor(current)})

    def make_migration(self, message: str) -> None:
        """Developer tool: autogenerate a revision from the models against the current DB."""
        from alembic import command

        command.revision(self._alembic_config(), message=message, autogenerate=True)

    @cached_property
    def head_revision(self) -> str | None:
        """The migration the code expects; read from disk once per process, not on every probe."""
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def check_ready(self) -> None:
        """Ready when the database is at the code's head, or ahead of it by expand-only
        migrations that declared this code compatible (rolling upgrade in progress)."""
        head = self.head_revision
        with self.engine.connect() as conn:
            current = conn.execute(text(f"SELECT version_num FROM {self.version_table}")).scalar()
            if current == head:
                return
            floor = None
            if current is not None and inspect(conn).has_table(self.compat_table):
                floor = conn.execute(text(f"SELECT code_from FROM {self.compat_table} WHERE revision = :r"),
                                     {"r": current}).scalar()
        # Revisions are a linear chain 0001, 0002, ... (docs/conventions.md), so order is textual.
        if current is not None and head is not None and current > head and floor is not None and floor <= head:
            return
        raise RuntimeError(f"database at {current}, code expects {head}"
                           + (f" (schema needs code from {floor} on)" if floor else ""))


def run_alembic_env(context) -> None:
    """The body of every service's migrations/env.py: online against the service's database, or
    offline (``python -m <service> sql``) printing the SQL for the URL's dialect."""
    runtime: Runtime = context.config.attributes["runtime"]
    if context.is_offline_mode():
        context.configure(url=runtime.settings.database_url, target_metadata=runtime.metadata,
                          version_table=runtime.version_table, literal_binds=True,
                          dialect_opts={"paramstyle": "named"})
        with context.begin_transaction():
            context.run_migrations()
        return
    with runtime.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # This transaction only (the pooled connection keeps its bound): an index build may take minutes.
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        context.configure(
            connection=connection,
            target_metadata=runtime.metadata,
            version_table=runtime.version_table,
            render_as_batch=True,  # SQLite can only ALTER through table copies
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
