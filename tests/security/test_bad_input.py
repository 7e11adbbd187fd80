"""Bad input from outside (issue 9 item 14) on all five services at once: a body nested too
deeply is a 400 on every JSON endpoint, login included; money stays in realistic ranges (a number
that would overflow the database is a 422 naming the field, never a 500)."""
from __future__ import annotations

import contextlib
import importlib
import re
import uuid

import pytest

from ekinerja_common.config import Settings
from ekinerja_common.events import SERVICES
from ekinerja_common.testing import TestKeys, fresh_database

KEYS = TestKeys()
EVERY_ROLE = ("pegawai", "atasan", "admin_bkd", "bkd", "bpkad", "organisasi", "majelis", "admin")
NESTED = b"[" * 3000  # 3 KB of '[': what the probe sent


@pytest.fixture(scope="module")
def apps():
    with contextlib.ExitStack() as stack:
        made = {}
        for service in SERVICES:
            url = stack.enter_context(fresh_database(f"badin_{service}"))
            app = importlib.import_module(f"{service}.app").create_app(
                Settings(service=service, database_url=url), verifier=KEYS.verifier)
            app.extensions["runtime"].migrate()
            made[service] = app
        yield made
        for app in made.values():
            app.extensions["runtime"].engine.dispose()


def json_endpoints(app):
    """(method, path) of every endpoint that takes a JSON body (declared through ``accepts``)."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "_body_model", None) is None:
            continue
        path = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>",
                      lambda m: ("11" if m.group(2) == "month" else "2026") if m.group(1) == "int" else str(uuid.uuid4()),
                      rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS", "GET"}):
            yield method, path


def test_deeply_nested_json_is_a_400_on_every_json_endpoint_of_every_service(apps):
    headers = {**KEYS.headers(str(uuid.uuid4()), *EVERY_ROLE), "Content-Type": "application/json"}
    checked = 0
    for service, app in apps.items():
        client = app.test_client()
        for method, path in json_endpoints(app):
            r = client.open(path, method=method, data=NESTED, headers=headers)
            assert r.status_code == 400, (service, method, path, r.status_code, r.get_data(as_text=True)[:300])
            assert r.get_json()["error"]["code"] == "json_too_deep", (service, path)
            checked += 1
    assert checked > 40
    # Login is public (no token) and refuses it the same way.
    r = apps["identity"].test_client().post("/auth/login", data=NESTED, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "json_too_deep"
    err = r.get_json()["error"]
    assert err["message"].startswith("Isi permintaan bersarang terlalu dalam") and err["message_en"]


def test_ordinary_nesting_still_parses(apps):
    # 20 levels is deeper than any real body and is still read (and refused by the schema, 422).
    deep_but_fine = b'{"username": ' + b"[" * 20 + b"]" * 20 + b', "password": "x"}'
    r = apps["identity"].test_client().post("/auth/login", data=deep_but_fine, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.get_json()


def test_salaries_stay_in_a_realistic_range(apps):
    client = apps["payroll"].test_client()
    bpkad = KEYS.headers(None, "bpkad", account_id="bpkad-operator")
    employee = str(uuid.uuid4())
    for amount in (10**15, 2**63, 2**64):
        r = client.put("/salaries/2026/11", json={"salaries": [{"employee_id": employee, "salary": amount,
                                                               "bpjs_already": amount}]}, headers=bpkad)
        assert r.status_code == 422, (amount, r.get_json())
        assert {"salaries.0.salary", "salaries.0.bpjs_already"} <= set(r.get_json()["error"]["fields"])
    ok = client.put("/salaries/2026/11", json={"salaries": [{"employee_id": employee, "salary": 6_400_000}]}, headers=bpkad)
    assert ok.status_code == 200, ok.get_json()
    # The salary file takes the same bound.
    nip = "198609262015051001"
    r = client.post("/salaries/2026/11/import", data=f"nip,gaji_pokok\n{nip},{10**15}\n".encode(),
                    headers={**bpkad, "Content-Type": "text/csv"})
    assert r.status_code == 422 and "paling banyak" in str(r.get_json()["error"]), r.get_json()


def test_a_tpp_base_stays_in_a_realistic_range(apps):
    client = apps["payroll"].test_client()
    bpkad = KEYS.headers(None, "bpkad", account_id="bpkad-operator")
    doc = client.get("/policies/2026", headers=bpkad).get_json()
    doc["base_amounts"]["17"] = 10**19
    doc["bpjs"]["cap"] = 2**63
    r = client.put("/policies/2026", json=doc, headers=bpkad)
    assert r.status_code == 422, r.get_json()
    assert {"base_amounts.17", "bpjs.cap"} <= set(r.get_json()["error"]["fields"])
    assert "paling banyak" in r.get_json()["error"]["fields"]["base_amounts.17"]["message"]
