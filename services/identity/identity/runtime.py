"""The identity service's runtime (settings, database, migrations)."""
from __future__ import annotations

import os

from ekinerja_common.config import Settings
from ekinerja_common.runtime import Runtime

from .orm import Base

SERVICE = "identity"
MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "migrations")


def build_runtime(settings: Settings | None = None) -> Runtime:
    return Runtime(SERVICE, Base.metadata, os.path.normpath(MIGRATIONS), settings)
