"""The refresh token as a cookie, for the browser client.

A browser must not keep the refresh token where a script can read it (any script injected into
the page could carry it off and log in for weeks). So, when the login asks for it
(``"refresh_cookie": true``), identity keeps the token in a cookie instead of the answer:

* ``HttpOnly``: no script can read it;
* ``Secure``: only sent over HTTPS. Browsers treat ``http://127.0.0.1`` and ``http://localhost``
  as secure contexts and accept and send Secure cookies there, so the local runner (plain http
  on 127.0.0.1) works unchanged; any other address must be served over TLS, or the browser drops
  the cookie and a reload asks for the password again (nothing else breaks). There is no switch
  to turn Secure off;
* ``SameSite=Strict``: never sent with a request another site starts, which together with the
  JSON body the refresh needs (a cross-site form cannot send one without a CORS preflight the
  gateway never grants) rules out cross-site request forgery;
* ``Path`` = the refresh endpoint as the browser sees it through the gateway
  (``/api/identity/auth/refresh``; setting ``IDENTITY_REFRESH_COOKIE_PATH``): no other request,
  to identity or any other service, carries it. Logging out is ``DELETE`` on that same path.

The access token stays in the page's memory; a reload or a second tab gets a new one with one
refresh. Callers that are not browsers (the seed, tests, scripts) keep sending and receiving the
token in the JSON body as before.
"""
from __future__ import annotations

from flask import Response, after_this_request, current_app, request

NAME = "ekinerja_refresh"
DEFAULT_PATH = "/api/identity/auth/refresh"


def path() -> str:
    return current_app.extensions["runtime"].settings.extra.get("IDENTITY_REFRESH_COOKIE_PATH", DEFAULT_PATH)


def presented() -> str | None:
    """The refresh token of the cookie, if the request carries one."""
    return request.cookies.get(NAME) or None


def set_on(resp: Response, token: str, max_age_seconds: int) -> Response:
    resp.set_cookie(NAME, token, max_age=max_age_seconds, path=path(), secure=True, httponly=True, samesite="Strict")
    return resp


def clear_on(resp: Response) -> Response:
    resp.delete_cookie(NAME, path=path(), secure=True, httponly=True, samesite="Strict")
    return resp


def clear_when_refused() -> None:
    """A refused cookie (spent, revoked, expired) is removed with the error answer, so the
    browser stops presenting it."""

    @after_this_request
    def _clear(resp: Response) -> Response:
        return clear_on(resp) if resp.status_code in (401, 403) else resp
