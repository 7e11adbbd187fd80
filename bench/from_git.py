"""Code of another git revision, loaded beside this tree's, for the benches' ``--before``: the same
request timed on the old and the new code in one process and minute."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from types import ModuleType

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def module_from_git(rev: str, path: str, name: str) -> ModuleType:
    """The module at ``path`` (``services/<service>/<package>/<module>.py``) as revision ``rev``
    has it, executed here as ``<package>.<name>``: its relative imports resolve to this tree's
    package, so replace the modules that must be old too (e.g. ``old_app.services = old_services``)."""
    package = path.split("/")[2]
    source = subprocess.run(["git", "-C", ROOT, "show", f"{rev}:{path}"], check=True, capture_output=True,
                            text=True).stdout
    spec = importlib.util.spec_from_loader(f"{package}.{name}", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = package
    sys.modules[module.__name__] = module
    exec(compile(source, f"{rev}:{path}", "exec"), module.__dict__)
    return module
