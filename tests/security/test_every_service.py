"""Security rules every service must keep, checked on all five at once (issue 9 items 13, 24, 25):
one table of cases, each service's real app on its own PostgreSQL database (SQLite too for the
audit triggers). A new endpoint or audit table is covered without anyone remembering to."""
from __future__ import annotations

import contextlib
import importlib
import re
import uuid

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from ekinerja_common.config import Settings
from ekinerja_common.events import SERVICES
from ekinerja_common.testing import TestKeys, fresh_database

# Every audit trail: (service, table, who, when, request id). Before/after: the columns ``before``
# and ``after``, or -- for trails that store each whole version -- the row of the previous version.
AUDIT_TRAILS = [
    ("identity", "audit_records", "actor_account_id", "at", "request_id"),
    ("organization", "audit_records", "actor_account_id", "at", "request_id"),
    ("activity", "calendar_audit", "changed_by", "changed_at", "request_id"),
    ("activity", "submission_policy_audit", "changed_by", "changed_at", "request_id"),
    ("approval", "decisions", "decided_by", "decided_at", "request_id"),
    ("approval", "appeal_trail", "actor_id", "at", "request_id"),
    ("approval", "board_audit", "actor_id", "at", "request_id"),
    ("approval", "validation_policy_changes", "changed_by", "changed_at", "request_id"),
    ("payroll", "audit_log", "actor", "at", "request_id"),
]
# Append-only too, though their actor/time/request id live in the trail rows above.
APPEND_ONLY_ALSO = [("approval", "appeal_decisions"), ("approval", "appeal_comments")]
VERSIONED = {"calendar_audit", "submission_policy_audit", "validation_policy_changes", "decisions", "appeal_trail", "board_audit"}

KEYS = TestKeys()


def _runtime(service: str, url: str):
    return importlib.import_module(f"{service}.runtime").build_runtime(Settings(service=service, database_url=url))


@pytest.fixture(scope="module")
def apps():
    with contextlib.ExitStack() as stack:
        made = {}
        for service in SERVICES:
            url = stack.enter_context(fresh_database(f"sec_{service}"))
            app = importlib.import_module(f"{service}.app").create_app(
                Settings(service=service, database_url=url), verifier=KEYS.verifier)
            app.extensions["runtime"].migrate()
            made[service] = app
        yield made
        for app in made.values():
            app.extensions["runtime"].engine.dispose()


def _routes(app):
    """(method, concrete path, view) of every endpoint, path parameters filled with plausible values."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]

        def value(m):
            kind, name = m.group(1), m.group(2)
            if kind == "int":
                return {"month": "11"}.get(name, "2026")
            return str(uuid.uuid4())

        path = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", value, rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path, view


def test_a_must_change_password_token_is_refused_by_every_endpoint_of_every_service(apps):
    restricted = KEYS.headers(None, account_id=str(uuid.uuid4()), roles=[], pwd_change=True)
    checked = 0
    for service, app in apps.items():
        client = app.test_client()
        for method, path, view in _routes(app):
            if getattr(view, "_public", False):
                continue
            r = client.open(path, method=method, headers=restricted, json={})
            if getattr(view, "_allows_password_change", False):
                assert (service, path) == ("identity", "/auth/password")
                assert r.status_code != 403, r.get_json()
                continue
            assert r.status_code == 403, (service, method, path, r.status_code, r.get_json())
            assert r.get_json()["error"]["code"] == "password_change_required", (service, method, path)
            checked += 1
    assert checked > 90  # every non-public endpoint (99 when this was written)
    # The three reads the probe found open, by name; and payroll's read wrote nothing.
    for service, path in (("activity", "/calendar/2026"), ("approval", "/policies/2026"), ("payroll", "/policies/2026")):
        assert apps[service].test_client().get(path, headers=restricted).status_code == 403
    with apps["payroll"].extensions["runtime"].engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM policies")).scalar() == 0


def test_every_answer_to_a_token_is_no_store_public_ones_are_not(apps):
    full = KEYS.headers(str(uuid.uuid4()), "pegawai", "admin_bkd", "organisasi", "bpkad", "majelis")
    for service, app in apps.items():
        client = app.test_client()
        for method, path, view in _routes(app):
            if method != "GET":
                continue
            if getattr(view, "_public", False):
                r = client.get(path)
                assert "no-store" not in r.headers.get("Cache-Control", ""), (service, path)
                continue
            r = client.get(path, headers=full)
            assert r.headers.get("Cache-Control") == "no-store", (service, path, r.status_code)
    # The ones the probe named, answered 200.
    for service, path in (("payroll", "/policies/2026"), ("activity", "/calendar/2026")):
        r = apps[service].test_client().get(path, headers=full)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_every_audit_trail_is_append_only_with_who_when_and_request(backend, tmp_path):
    for service in SERVICES:
        tables = [t for t in AUDIT_TRAILS if t[0] == service] + [(s, t, None, None, None) for s, t in APPEND_ONLY_ALSO
                                                                 if s == service]
        with (contextlib.nullcontext(f"sqlite:///{tmp_path}/{service}.db") if backend == "sqlite"
              else fresh_database(f"audit_{service}")) as url:
            rt = _runtime(service, url)
            rt.migrate()
            columns = {t: {c["name"] for c in inspect(rt.engine).get_columns(t)} for _, t, *_ in tables}
            for _, table, who, when, request in tables:
                if who:
                    assert {who, when, request} <= columns[table], (service, table)
                    assert {"before", "after"} <= columns[table] or table in VERSIONED, (service, table)
                if backend == "sqlite":
                    # SQLite's triggers are per row (an empty table has none to fire on): they must
                    # exist; identity's migration test sees one refuse a real row.
                    with rt.engine.connect() as conn:
                        found = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                                      "AND tbl_name = :t"), {"t": table}).scalars())
                    assert {f"{table}_no_update", f"{table}_no_delete"} <= found, (service, table)
                    continue
                # PostgreSQL's are per statement: even one that matches no row is refused.
                for sql in (f"UPDATE {table} SET {sorted(columns[table])[0]} = NULL", f"DELETE FROM {table}",
                            f"TRUNCATE {table}"):
                    with rt.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
                        conn.execute(text(sql))
            rt.engine.dispose()
