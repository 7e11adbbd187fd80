"""The module rules of docs/conventions.md, checked on the source (issue 12): domain modules are
plain Python (no Flask, SQLAlchemy or pika, however deep the import); a blueprint module never
imports its service's ``app`` (app imports the blueprints to register them: the other way round is
the cycle issue 12 removed, with shared view helpers in ``http.py``); no service imports another,
and the shared library imports none of them."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / p.name / "__init__.py").exists())
FRAMEWORKS = {"flask", "sqlalchemy", "pika", "werkzeug", "alembic", "psycopg"}
# Rules only (plain Python): each service's domain.py and the pure rule modules beside it.
DOMAIN_MODULES = [*(f"services/{s}/{s}/domain.py" for s in SERVICES),
                  "services/activity/activity/attendance.py", "services/payroll/payroll/policy.py",
                  "libs/ekinerja_common/supervision.py", "libs/ekinerja_common/workdays.py",
                  "libs/ekinerja_common/discipline.py", "libs/ekinerja_common/clock.py"]


def imports(path: Path, package: str | None = None) -> set[str]:
    """Every module a file imports (relative imports resolved against ``package``), at any depth
    of the file (a lazy import inside a function counts)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package or ""
                module = f"{base}.{node.module}" if node.module else base
                found.add(module)
                found.update(f"{module}.{a.name}" for a in node.names)
            elif node.module:
                found.add(node.module)
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def service_modules(service: str) -> list[Path]:
    return sorted((ROOT / "services" / service / service).glob("*.py"))


def local_closure(path: Path, package: str) -> set[str]:
    """The modules a service module imports, following its own package's modules."""
    seen, todo, out = set(), [path], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        for m in imports(p, package):
            out.add(m)
            if top(m) == package:
                candidate = ROOT / "services" / package / (m.replace(".", "/") + ".py")
                if candidate.exists():
                    todo.append(candidate)
            elif m.startswith("ekinerja_common."):
                candidate = ROOT / "libs" / (m.replace(".", "/") + ".py")
                if candidate.exists():
                    todo.append(candidate)
    return out


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_modules_import_no_framework(module):
    path = ROOT / module
    package = "ekinerja_common" if module.startswith("libs/") else path.parent.name
    frameworks = sorted(m for m in local_closure(path, package) if top(m) in FRAMEWORKS)
    assert not frameworks, f"{module} reaches {frameworks}"


@pytest.mark.parametrize("service", SERVICES)
def test_blueprints_never_import_the_app_module(service):
    for path in service_modules(service):
        if path.name.endswith("_app.py") or path.name == "http.py":
            assert f"{service}.app" not in imports(path, service), f"{path.name} imports {service}.app"


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another(service):
    others = set(SERVICES) - {service}
    for path in sorted((ROOT / "services" / service / service).rglob("*.py")):
        crossing = sorted(m for m in imports(path, service) if top(m) in others)
        assert not crossing, f"{path.relative_to(ROOT)} imports {crossing}"


def test_the_shared_library_imports_no_service():
    for path in sorted((ROOT / "libs" / "ekinerja_common").rglob("*.py")):
        crossing = sorted(m for m in imports(path, "ekinerja_common") if top(m) in SERVICES)
        assert not crossing, f"{path.relative_to(ROOT)} imports {crossing}"


def test_the_check_sees_a_cycle_and_a_framework(tmp_path):
    """The checker itself: a lazy ``from .app import`` and a deep SQLAlchemy import are found."""
    blueprint = tmp_path / "x_app.py"
    blueprint.write_text("def f():\n    from .app import runtime\n")
    assert "svc.app" in imports(blueprint, "svc")
    rules = tmp_path / "domain.py"
    rules.write_text("from sqlalchemy.orm import Session\n")
    assert "sqlalchemy.orm" in imports(rules, "svc")
