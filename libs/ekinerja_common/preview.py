"""Previews of imports (``?dry_run=true``), the same way in every service.

A preview is the import itself, run to the end inside its transaction — every row checked, every
duplicate looked up in the database, every row written, events put in the outbox — and then
rolled back instead of committed. So the preview's answer is exactly what the import would answer
(the same counts, the same errors by line), nothing is stored, and no second copy of the rules
exists to drift from the first.
"""
from __future__ import annotations

from typing import Mapping

from .errors import Text, ValidationFailed

_TRUE, _FALSE = ("1", "true", "yes"), ("", "0", "false", "no")


def dry_run_requested(args: Mapping[str, str]) -> bool:
    """``?dry_run=true``: check and count, store nothing. Anything but a yes/no is a 422."""
    raw = (args.get("dry_run") or "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValidationFailed({"dry_run": Text("Harus true atau false", "Must be true or false")})


def finish(uow, dry_run: bool) -> None:
    """Commit the import, or for a preview undo all of it (rows, audit, outbox events)."""
    if dry_run:
        uow.session.rollback()
    else:
        uow.commit()
