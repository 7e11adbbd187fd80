"""Everything one service process needs, created lazily after fork: settings, engine, sessions,
units of work, migrations and the readiness check. Each service builds exactly one."""
from __future__ import annotations

import os
from functools import cached_property

from sqlalchemy import Engine, MetaData, text
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings
from .db import make_engine, make_session_factory
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
        return make_engine(url)

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

    def migrate(self, revision: str = "head") -> None:
        from alembic import command

        command.upgrade(self._alembic_config(), revision)

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
        with self.engine.connect() as conn:
            current = conn.execute(text(f"SELECT version_num FROM {self.version_table}")).scalar()
        if current != self.head_revision:
            raise RuntimeError(f"database at {current}, code expects {self.head_revision}")


def run_alembic_env(context) -> None:
    """The body of every service's migrations/env.py (online mode only: we always have a DB)."""
    runtime: Runtime = context.config.attributes["runtime"]
    with runtime.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=runtime.metadata,
            version_table=runtime.version_table,
            render_as_batch=True,  # SQLite can only ALTER through table copies
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
