"""PostgreSQL down, restarted or paused (issue 9 items 17 and 21), against a server of the test's
own (DedicatedPostgres: initdb in a temporary directory; never the machine's shared one): every
request ends with an answer -- 503 service_unavailable, Retry-After, "coba lagi" -- instead of a
500 or a hang, and the first request after the server is back is served normally."""
from __future__ import annotations

import threading
import time

import pytest
from flask import jsonify
from sqlalchemy import text

from ekinerja_common.auth import TokenVerifier
from ekinerja_common.auth_store import DatabaseRevocations
from ekinerja_common.config import Settings
from ekinerja_common.db import make_engine
from ekinerja_common.testing import DedicatedPostgres, TestKeys
from ekinerja_common.web import create_base_app

KEYS = TestKeys()


@pytest.fixture(scope="module")
def pg():
    with DedicatedPostgres() as server:
        yield server


@pytest.fixture(scope="module")
def organization(pg):
    from organization.app import create_app

    url = pg.create_database("organization")
    # Short bounds so the test runs quickly; production defaults are in README "Configuration".
    settings = Settings(service="organization", database_url=url, db_statement_timeout_ms=1000, db_pool_timeout=1,
                        db_connect_timeout=2)
    # The verifier reads the service's revocations, as in production: the first statement of
    # every request with a token (ekinerja_common.db.read_one) meets the outage first.
    holder: dict = {}
    verifier = TokenVerifier(KEYS.verifier.keys, KEYS.issuer, KEYS.audience,
                             DatabaseRevocations(lambda: holder["runtime"].engine))
    app = create_app(settings, verifier)
    holder["runtime"] = app.extensions["runtime"]
    app.extensions["runtime"].migrate()
    yield app
    app.extensions["runtime"].engine.dispose()


def answer_of(app, path: str):
    """The answer to a GET, from a thread: a request that hung would leave the thread alive."""
    out: dict = {}
    headers = KEYS.headers(None, "organisasi")
    worker = threading.Thread(target=lambda: out.setdefault("r", app.test_client().get(path, headers=headers)), daemon=True)
    worker.start()
    worker.join(120)  # the gateway's proxy_read_timeout: an answer later than this is no answer
    assert not worker.is_alive(), f"GET {path} got no answer"
    return out["r"]


def assert_try_again(r) -> None:
    assert r.status_code == 503, r.get_data(as_text=True)[:500]
    err = r.get_json()["error"]
    assert err["code"] == "service_unavailable" and "coba lagi" in err["message"] and err["message_en"]
    assert int(r.headers["Retry-After"]) > 0


def test_database_down_then_back_answers_503_then_normally(pg, organization):
    assert answer_of(organization, "/units").status_code == 200  # a pooled connection exists now
    pg.kill()
    try:
        assert_try_again(answer_of(organization, "/units"))  # the pooled connection is dead
        assert_try_again(answer_of(organization, "/units"))  # no server to connect to
        assert answer_of(organization, "/readyz").status_code == 503
    finally:
        pg.start()
    # The very first request after the restart is served: broken connections were dropped.
    assert answer_of(organization, "/units").status_code == 200


def test_a_restart_while_no_request_ran_costs_no_request_a_503(pg, organization):
    # The pooled connection sat idle through the whole restart (longer than DB_PING_IDLE_SECONDS,
    # 1 s): it is pinged at checkout, found dead and replaced, so the first request after the
    # restart is served. Without the ping it would be answered 503.
    assert answer_of(organization, "/units").status_code == 200
    idle_from = time.monotonic()
    pg.kill()
    pg.start()
    time.sleep(max(0.0, 1.2 - (time.monotonic() - idle_from)))  # a restart may take less than 1 s
    assert answer_of(organization, "/units").status_code == 200


def test_database_paused_answers_503_instead_of_hanging(pg, organization):
    assert answer_of(organization, "/units").status_code == 200
    pg.pause()
    try:
        # A pooled connection whose server stopped answering (the statement waits, then is cut
        # off), and then a new connection that is accepted but never answered (connect timeout).
        assert_try_again(answer_of(organization, "/units"))
        assert_try_again(answer_of(organization, "/units"))
    finally:
        pg.resume()
    assert answer_of(organization, "/units").status_code == 200


def test_a_statement_longer_than_the_bound_is_cancelled_with_503(pg):
    engine = make_engine(pg.url(), statement_timeout_ms=500, pool_timeout=1, connect_timeout=2)
    app = create_base_app("probe", KEYS.verifier, readiness=lambda: None, title="probe")

    @app.get("/slow")
    def slow():
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(30)"))
        return {}

    try:
        assert_try_again(app.test_client().get("/slow"))
    finally:
        engine.dispose()


def test_a_value_the_database_cannot_hold_is_422_invalid_value(pg):
    engine = make_engine(pg.url())
    app = create_base_app("probe", KEYS.verifier, readiness=lambda: None, title="probe")

    @app.get("/overflow")
    def overflow():
        with engine.connect() as conn:
            return jsonify(conn.execute(text("SELECT CAST(:v AS bigint)"), {"v": 2**63}).scalar())

    try:
        r = app.test_client().get("/overflow")
        assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid_value", r.get_data(as_text=True)
    finally:
        engine.dispose()
