"""Tokens across the real stack (issue 9 items 9 and 22): a deactivation or a role taken away
stops the token in hand in every service at once, through the account.revoked event; a freshly
started worker of another service verifies valid tokens while identity is down."""
from __future__ import annotations

import base64
import json
import uuid

import pytest
import requests

from ekinerja_common.testing import wait_until

pytestmark = pytest.mark.e2e

READS = {  # one read of each service that any logged-in employee may make
    "organization": "/api/organization/units",
    "activity": "/api/activity/calendar/2026",
    "approval": "/api/approval/policies/2026",
    "payroll": "/api/payroll/policies/2026",
}


def http() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def new_person(stack, admin, nip: str, username: str, password: str = "Sandi-Uji-Keamanan-1") -> dict:
    """An employee with an account whose first password change is made: returns the login answer."""
    r = admin.post("/api/identity/employees", {"nip": nip, "name": f"Uji {username}", "employee_kind": "PNS",
                                                "status": "PNS", "golongan": "III/a"})
    assert r.status_code == 201, r.text
    employee = r.json()
    r = admin.post("/api/identity/accounts", {"username": username, "password": "Sementara-Sekali-1",
                                               "employee_id": employee["id"]})
    assert r.status_code == 201, r.text
    h = http()
    first = h.post(stack.url("/api/identity/auth/login"), json={"username": username, "password": "Sementara-Sekali-1"},
                   timeout=10).json()
    r = h.post(stack.url("/api/identity/auth/password"), json={"current_password": "Sementara-Sekali-1",
                                                                "new_password": password},
               headers={"Authorization": f"Bearer {first['access_token']}"}, timeout=10)
    assert r.status_code == 204, r.text
    login = h.post(stack.url("/api/identity/auth/login"), json={"username": username, "password": password}, timeout=10)
    assert login.status_code == 200, login.text
    return {**login.json(), "employee": employee}


def with_kid(token: str, kid: str) -> str:
    """The same token claiming another signing key (its signature no longer matters here)."""
    head, rest = token.split(".", 1)
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    header["kid"] = kid
    return base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode() + "." + rest


def status_everywhere(stack, token: str) -> dict[str, tuple[int, str | None]]:
    out = {}
    for service, path in READS.items():
        r = http().get(stack.url(path), headers={"Authorization": f"Bearer {token}"}, timeout=10)
        out[service] = (r.status_code, r.json().get("error", {}).get("code") if r.status_code >= 400 else None)
    return out


def test_deactivation_and_a_role_taken_away_stop_the_token_in_every_service(stack, person, logins):
    admin = person("admin")
    worker = new_person(stack, admin, "199003152015031077", "uji.nonaktif")
    assert all(s == 200 for s, _ in status_everywhere(stack, worker["access_token"]).values())

    r = admin.http.patch(stack.url(f"/api/identity/employees/{worker['employee']['id']}"), json={"active": False},
                         timeout=10)
    assert r.status_code == 200, r.text
    revoked = {s: (401, "token_revoked") for s in READS}
    # At once: as soon as the event has travelled (relay + broker + consumer), not in 15 minutes.
    wait_until(lambda: status_everywhere(stack, worker["access_token"]) == revoked, timeout=30, interval=0.2,
               what="every service to refuse the deactivated account's token")

    # BPKAD's role taken from an account: payroll refuses its token, a refresh gives the smaller one.
    clerk = new_person(stack, admin, "199104162016042078", "uji.bpkad")
    granted = stack.run_cli("identity", "grant-role", "uji.bpkad", "bpkad")
    assert granted.returncode == 0, granted.stderr
    clerk = http().post(stack.url("/api/identity/auth/login"), json={"username": "uji.bpkad",
                                                                      "password": "Sandi-Uji-Keamanan-1"}, timeout=10).json()
    bank_list = "/api/payroll/runs/2026/1"
    h = {"Authorization": f"Bearer {clerk['access_token']}"}
    assert http().get(stack.url(bank_list), headers=h, timeout=10).status_code in (200, 404)  # allowed: no run yet
    r = admin.put(f"/api/identity/accounts/{clerk['account']['id']}/roles", {"roles": []})
    assert r.status_code == 200 and r.json()["roles"] == ["pegawai"], r.text
    wait_until(lambda: http().get(stack.url(bank_list), headers=h, timeout=10).status_code == 401, timeout=30,
               interval=0.2, what="payroll to refuse the token of the account that lost bpkad")
    renewed = http().post(stack.url("/api/identity/auth/refresh"), json={"refresh_token": clerk["refresh_token"]},
                          timeout=10).json()
    r = http().get(stack.url(bank_list), headers={"Authorization": f"Bearer {renewed['access_token']}"}, timeout=10)
    assert r.status_code == 403 and renewed["account"]["roles"] == ["pegawai"]


def test_a_fresh_worker_verifies_valid_tokens_while_identity_is_down(stack, person):
    staff = person("199306122019032004")
    assert staff.get(READS["activity"]).status_code == 200  # activity has the key set now
    stack.kill("identity.web")
    try:
        stack.restart("activity.web")  # a worker that has never seen a token, identity unreachable
        r = staff.get(READS["activity"])
        assert r.status_code == 200, r.text
        assert r.headers["Cache-Control"] == "no-store"
        # Logging in needs identity: that is a 502 from the gateway, never a 401 that would end
        # the sessions people already have.
        r = http().post(stack.url("/api/identity/auth/login"), json={"username": "x", "password": "y"}, timeout=10)
        assert r.status_code == 502
        # A token whose key nobody can check now is "try again", not "invalid".
        token = with_kid(staff.http.headers["Authorization"].removeprefix("Bearer "), str(uuid.uuid4()))
        r = http().get(stack.url(READS["activity"]), headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert r.status_code == 503 and r.json()["error"]["code"] == "service_unavailable", r.text
        assert int(r.headers["Retry-After"]) > 0
    finally:
        stack.restart("identity.web")
