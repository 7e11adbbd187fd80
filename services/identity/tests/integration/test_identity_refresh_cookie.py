"""The browser's refresh token: an HttpOnly, Secure, SameSite=Strict cookie scoped to the refresh
endpoint (identity/cookies.py), never in the answer; API clients keep the token in the body."""
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import func, select

from identity.cookies import DEFAULT_PATH, NAME
from identity.orm import RefreshToken

ADMIN = "admin.bkd"
PASSWORD = "Rahasia-Admin-2026"


@pytest.fixture
def client(app):
    """A client without its own cookie jar: the cookies of these tests are sent by hand, as a
    browser would send them to the refresh path through the gateway."""
    return app.test_client(use_cookies=False)


def set_cookie(resp) -> SimpleCookie:
    headers = resp.headers.getlist("Set-Cookie")
    assert len(headers) == 1, headers
    jar = SimpleCookie()
    jar.load(headers[0])
    return jar


def cookie_login(client):
    return client.post("/auth/login", json={"username": ADMIN, "password": PASSWORD, "refresh_cookie": True})


def with_cookie(token: str) -> dict:
    return {"Cookie": f"{NAME}={token}"}


def test_login_keeps_the_refresh_token_in_an_httponly_cookie_of_the_refresh_path(client, admin):
    r = cookie_login(client)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert "refresh_token" not in body and body["access_token"] and body["account"]["username"] == ADMIN
    assert r.headers["Cache-Control"] == "no-store"
    morsel = set_cookie(r)[NAME]
    assert morsel.value and morsel["path"] == DEFAULT_PATH == "/api/identity/auth/refresh"
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"] == "Strict"
    # As long as the refresh token itself lives (12 h), also after the browser was closed.
    assert int(morsel["max-age"]) == 12 * 3600
    raw = r.headers["Set-Cookie"]
    assert "HttpOnly" in raw and "Secure" in raw and "SameSite=Strict" in raw


def test_the_cookie_refreshes_rotates_and_a_spent_one_ends_the_session(client, admin):
    first = set_cookie(cookie_login(client))[NAME].value
    r = client.post("/auth/refresh", json={}, headers=with_cookie(first))
    assert r.status_code == 200, r.get_json()
    assert "refresh_token" not in r.get_json() and r.get_json()["account"]["username"] == ADMIN
    second = set_cookie(r)[NAME].value
    assert second != first
    # The spent cookie again (copied): the session ends, and the answer removes the cookie.
    again = client.post("/auth/refresh", json={}, headers=with_cookie(first))
    assert again.status_code == 401 and again.get_json()["error"]["code"] == "refresh_token_reused"
    cleared = set_cookie(again)[NAME]
    assert cleared.value == "" and cleared["path"] == DEFAULT_PATH
    assert client.post("/auth/refresh", json={}, headers=with_cookie(second)).status_code == 401


def test_refresh_without_cookie_or_token_is_refused(client, admin):
    r = client.post("/auth/refresh", json={})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_refresh_token"
    # Without a JSON body (a cross-site form post) it is not even read.
    form = client.post("/auth/refresh", data="x=1", content_type="application/x-www-form-urlencoded",
                       headers=with_cookie("whatever"))
    assert form.status_code == 400


def test_delete_on_the_refresh_path_logs_out_and_clears_the_cookie(client, admin, runtime):
    token = set_cookie(cookie_login(client))[NAME].value
    r = client.delete("/auth/refresh", headers=with_cookie(token))
    assert r.status_code == 204
    cleared = set_cookie(r)[NAME]
    assert cleared.value == "" and cleared["path"] == DEFAULT_PATH
    assert client.post("/auth/refresh", json={}, headers=with_cookie(token)).status_code == 401
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(RefreshToken).where(RefreshToken.revoked_at.is_(None))) == 1
    # Without a cookie it is still a clean 204 (the session is over either way).
    assert client.delete("/auth/refresh").status_code == 204


def test_api_clients_keep_the_token_in_the_body_and_get_no_cookie(api, client, admin):
    assert "refresh_token" in admin and not api.login().headers.getlist("Set-Cookie")
    r = api.refresh(admin["refresh_token"])
    assert r.status_code == 200 and r.get_json()["refresh_token"] and not r.headers.getlist("Set-Cookie")
    bad = client.post("/auth/login", json={"username": ADMIN, "password": PASSWORD, "refresh_cookie": "yes"})
    assert bad.status_code == 422 and "refresh_cookie" in bad.get_json()["error"]["fields"]
