"""The yearly policy through the API: defaults on first read, validated versions, audit."""
from sqlalchemy import func, select

from payroll.orm import AuditEntry, PolicyVersion


def bpkad(keys):
    return keys.headers(None, "bpkad", account_id="bpkad-operator")


def stored_versions(runtime, year):
    with runtime.session_factory() as s:
        return s.scalars(select(PolicyVersion.version).where(PolicyVersion.year == year).order_by(PolicyVersion.version)).all()


def audit_actions(runtime):
    with runtime.session_factory() as s:
        return s.scalars(select(AuditEntry.action).order_by(AuditEntry.at)).all()


def test_reading_a_year_never_configured_shows_the_defaults_and_writes_nothing(client, keys, runtime):
    h = keys.headers("e1", "pegawai")
    first = client.get("/policies/2026", headers=h)
    assert first.status_code == 200
    p = first.get_json()
    assert (p["year"], p["version"], p["base_amounts"]["9"]) == (2026, 1, 5_000_000)
    assert "minutes_per_day" not in p and "holidays" not in p  # working days are BKD's calendar
    assert p["weights_pct"] == {"performance": "60", "discipline": "40"} and p["cpns_factor_pct"] == "80"
    assert p["pph21_pct"]["pns"] == {"I": "0", "II": "0", "III": "5", "IV": "15"}
    assert p["pph21_pct"]["pppk"]["IX"] == "5" and p["pph21_pct"]["pppk"]["XIII"] == "15"
    assert p["bpjs"] == {"employee_rate_pct": "1", "cap": 12_000_000}
    assert client.get("/policies/2026", headers=h).get_json() == p
    # A read must not write (issue 9 item 13): the defaults are stored when first used.
    assert stored_versions(runtime, 2026) == [] and audit_actions(runtime) == []
    assert client.get("/policies/2026").status_code == 401


def test_bpkad_stores_a_new_version_with_an_audit_row(client, keys, runtime):
    doc = client.get("/policies/2027", headers=bpkad(keys)).get_json()
    doc["weights_pct"] = {"performance": "70", "discipline": "30"}
    # An editor built on an older GET may still send the old fallback fields: ignored.
    r = client.put("/policies/2027", json={**doc, "holidays": ["2027-03-10"], "minutes_per_day": 280}, headers=bpkad(keys))
    assert r.status_code == 200, r.get_json()
    saved = r.get_json()
    assert saved["version"] == 2 and saved["weights_pct"]["performance"] == "70"
    assert "holidays" not in saved and "minutes_per_day" not in saved
    assert client.get("/policies/2027", headers=keys.headers("e1", "pegawai")).get_json() == saved
    assert stored_versions(runtime, 2027) == [1, 2]
    assert audit_actions(runtime) == ["policy.defaulted", "policy.changed"]
    # Saving again from the version read before is refused: someone changed it meanwhile.
    r = client.put("/policies/2027", json=doc, headers=bpkad(keys))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "stale_policy"
    assert stored_versions(runtime, 2027) == [1, 2]


def test_invalid_policy_lists_every_bad_field_and_stores_nothing(client, keys, runtime):
    doc = client.get("/policies/2026", headers=bpkad(keys)).get_json()
    doc["weights_pct"] = {"performance": "60", "discipline": "50"}
    del doc["base_amounts"]["17"]
    doc["base_amounts"]["3"] = -100
    doc["pph21_pct"]["pns"]["III"] = "150"
    doc["bpjs"]["employee_rate_pct"] = "101"
    r = client.put("/policies/2026", json=doc, headers=bpkad(keys))
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "validation_failed" and err["message"] and err["message_en"]
    assert set(err["fields"]) == {"weights_pct", "base_amounts.17", "base_amounts.3", "pph21_pct.pns.III",
                                  "bpjs.employee_rate_pct"}
    assert all(f["message"] and f["message_en"] for f in err["fields"].values())
    # The shape is checked too: wrong types and unknown fields are listed.
    r = client.put("/policies/2026", json={**doc, "cpns_factor_pct": [], "bonus": 1, "base_amounts": {"9": 1.5}},
                   headers=bpkad(keys))
    assert r.status_code == 422 and {"cpns_factor_pct", "bonus", "base_amounts.9"} <= set(r.get_json()["error"]["fields"])
    r = client.put("/policies/2026", json={**client.get("/policies/2026", headers=bpkad(keys)).get_json(), "year": 2025},
                   headers=bpkad(keys))
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"year"}
    assert stored_versions(runtime, 2026) == [] and audit_actions(runtime) == []  # nothing stored, not even the defaults


def test_only_bpkad_changes_the_policy(client, keys, runtime):
    doc = client.get("/policies/2026", headers=bpkad(keys)).get_json()
    for roles in [("pegawai",), ("admin_bkd",), ("organisasi",), ("majelis",)]:
        r = client.put("/policies/2026", json=doc, headers=keys.headers("e1", *roles))
        assert r.status_code == 403, roles
    assert stored_versions(runtime, 2026) == []
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_new_policy_version_drives_the_next_compute(client, keys, events):
    events.employee("e1", golongan="III/a")
    events.position("p9", kelas=9)
    events.placement("pl-1", "e1", "p9", "2026-01-01")
    doc = client.get("/policies/2026", headers=bpkad(keys)).get_json()
    doc["base_amounts"]["9"] = 6_000_000
    client.put("/policies/2026", json=doc, headers=bpkad(keys))
    run = client.post("/runs/2026/6/compute", headers=bpkad(keys)).get_json()
    assert run["policy_version"] == 2
    inputs = run["lines"][0]["inputs"]
    # June under the default calendar: 21 working days; nothing approved, full discipline: 40 %.
    assert (inputs["working_days"], inputs["base"], run["lines"][0]["gross"]) == (21, 6_000_000, 2_400_000)


def test_health_metrics_openapi(client):
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/readyz").status_code == 200
    spec = client.get("/openapi.json").get_json()
    assert {"/policies/{year}", "/salaries/{year}/{month}", "/runs/{year}/{month}/compute", "/runs/{year}/{month}",
            "/runs/{year}/{month}/me"} <= set(spec["paths"])
    assert spec["paths"]["/policies/{year}"]["put"]["requestBody"]


def test_bracket_rule_and_position_factor_override_drive_the_compute(client, keys, events):
    events.employee("e1", golongan="III/a")
    events.position("p9", kelas=9, factor="1.2")
    events.placement("pl-1", "e1", "p9", "2026-01-01")
    events.decision("approved", "a", "e1", "2026-06-02", 5_040)  # 80 % of 6,300
    doc = client.get("/policies/2026", headers=bpkad(keys)).get_json()
    doc["productivity"]["rule"] = "bracket"
    r = client.put("/policies/2026", json=doc, headers=bpkad(keys))
    assert r.status_code == 200 and r.get_json()["productivity"]["rule"] == "bracket"
    line = client.post("/runs/2026/6/compute", headers=bpkad(keys)).get_json()["lines"][0]
    # 80 % reaches the 75 % bracket, paid 85 %: 5,000,000 x 1.2 x (0.6 x 0.85 + 0.4) = 5,460,000.
    assert line["gross"] == 5_460_000 and line["inputs"]["factor_source"] == "position"
    doc = client.get("/policies/2026", headers=bpkad(keys)).get_json()
    doc["position_factors"] = {"P-p9": "1.5"}
    client.put("/policies/2026", json=doc, headers=bpkad(keys))
    line = client.post("/runs/2026/6/compute", headers=bpkad(keys)).get_json()["lines"][0]
    assert line["gross"] == 6_825_000 and line["inputs"]["factor"] == "1.5" and line["inputs"]["factor_source"] == "policy"


def test_new_sections_are_validated_through_the_api(client, keys):
    doc = client.get("/policies/2026", headers=bpkad(keys)).get_json()
    doc["productivity"] = {"rule": "bracket", "brackets": [{"min_pct": "50", "pay_pct": "90"}, {"min_pct": "80", "pay_pct": "60"}]}
    del doc["discipline_deductions_pct"]["TK"]
    doc["sanctions"]["combine"] = "avg"
    r = client.put("/policies/2026", json=doc, headers=bpkad(keys))
    assert r.status_code == 422
    assert {"productivity.brackets", "discipline_deductions_pct.TK", "sanctions.combine"} <= set(r.get_json()["error"]["fields"])


def outbox(runtime, event_type):
    import json

    from ekinerja_common.outbox import OUTBOX

    table = runtime.metadata.tables[OUTBOX]
    with runtime.engine.connect() as conn:
        return [json.loads(b)["data"] for b in conn.execute(select(table.c.body).where(table.c.type == event_type)
                                                            .order_by(table.c.seq)).scalars()]


def test_a_changed_deduction_table_is_announced_to_activity(client, keys, runtime):
    """One deduction table (issue 12): BPKAD owns it in the policy; activity prices with the latest
    it was told of (tpp.deductions_updated), the shared default until then."""
    doc = client.get("/policies/2026", headers=bpkad(keys)).get_json()
    doc["weights_pct"] = {"performance": "70", "discipline": "30"}
    assert client.put("/policies/2026", json=doc, headers=bpkad(keys)).status_code == 200
    assert outbox(runtime, "tpp.deductions_updated") == []  # the table did not change
    doc = client.get("/policies/2026", headers=bpkad(keys)).get_json()
    doc["discipline_deductions_pct"] = {**doc["discipline_deductions_pct"], "TK": "5", "SAKIT": "0.25"}
    assert client.put("/policies/2026", json=doc, headers=bpkad(keys)).status_code == 200
    [event] = outbox(runtime, "tpp.deductions_updated")
    assert (event["year"], event["policy_version"]) == (2026, 3)
    assert event["deductions_pct"]["TK"] == "5" and event["deductions_pct"]["SAKIT"] == "0.25"
    assert event["deductions_pct"]["TL1"] == "0.5"
