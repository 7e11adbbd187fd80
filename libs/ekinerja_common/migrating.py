"""Helpers for the services' Alembic revisions."""
from __future__ import annotations


def offline(op, step: str) -> bool:
    """True when alembic writes SQL instead of running it (``python -m <service> sql``). A data
    step that reads rows in Python cannot be written as a script: it leaves a comment saying so
    in the SQL, and the DBA runs that revision with ``python -m <service> migrate`` instead."""
    if not op.get_context().as_sql:
        return False
    op.execute(f"-- DATA STEP NOT IN THIS SCRIPT: {step}. Apply this revision with `migrate` (online), not with this SQL")
    return True
