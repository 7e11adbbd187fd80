"""Disciplinary sanctions through the API: who may enter them, validation, listing, revocation,
audit, and how they cut the months they overlap."""
from sqlalchemy import select

from payroll.orm import AuditEntry

EMP, OTHER = "emp-s", "emp-o"


def bpkad(keys):
    return keys.headers(None, "bpkad", account_id="bpkad-operator")


def bkd(keys):
    return keys.headers(None, "admin_bkd", account_id="bkd-operator")


def sanction(**kw):
    return {"employee_id": EMP, "start_date": "2026-06-01", "end_date": "2026-11-30", "cut_pct": "25",
            "reference": "800/1/BKD", "reason": "Hukuman disiplin sedang", **kw}


def actions(runtime):
    with runtime.session_factory() as s:
        return s.scalars(select(AuditEntry.action).order_by(AuditEntry.at)).all()


def setup(events):
    events.position("p9", kelas=9)
    events.employee(EMP, golongan="III/b")
    events.employee(OTHER, golongan="III/b", nip="198609262015051002")
    events.placement("pl-s", EMP, "p9", "2020-01-01")


def test_bpkad_and_bkd_record_and_revoke_with_audit(events, client, keys, runtime):
    setup(events)
    r = client.post("/sanctions", json=sanction(), headers=bkd(keys))
    assert r.status_code == 201
    s = r.get_json()
    assert (s["employee_id"], s["cut_pct"], s["created_by"], s["revoked_at"]) == (EMP, "25", "bkd-operator", None)
    assert client.post("/sanctions", json=sanction(cut_pct="10"), headers=bpkad(keys)).status_code == 201
    for roles in [("pegawai",), ("organisasi",), ("majelis",)]:
        h = keys.headers(EMP, *roles)
        assert client.post("/sanctions", json=sanction(), headers=h).status_code == 403
        assert client.post(f"/sanctions/{s['id']}/revoke", json={"reason": "x"}, headers=h).status_code == 403
    r = client.post(f"/sanctions/{s['id']}/revoke", json={"reason": ""}, headers=bpkad(keys))
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"reason"}
    r = client.post(f"/sanctions/{s['id']}/revoke", json={"reason": "Keliru input"}, headers=bpkad(keys))
    assert r.status_code == 200 and r.get_json()["revoke_reason"] == "Keliru input"
    r = client.post(f"/sanctions/{s['id']}/revoke", json={"reason": "lagi"}, headers=bpkad(keys))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_revoked"
    assert client.post("/sanctions/nope/revoke", json={"reason": "x"}, headers=bpkad(keys)).status_code == 404
    assert actions(runtime) == ["sanction.recorded", "sanction.recorded", "sanction.revoked"]


def test_every_bad_field_is_listed_and_nothing_stored(events, client, keys, runtime):
    setup(events)
    r = client.post("/sanctions", json=sanction(employee_id="ghost", start_date="2026-07-01", end_date="2026-06-30",
                                                cut_pct="120", reference=" "), headers=bpkad(keys))
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"employee_id", "end_date", "cut_pct", "reference"}
    r = client.post("/sanctions", json={"employee_id": EMP, "start_date": "kemarin", "cut_pct": "x", "extra": 1},
                    headers=bpkad(keys))
    assert r.status_code == 422
    assert {"start_date", "end_date", "cut_pct", "reference", "extra"} <= set(r.get_json()["error"]["fields"])
    r = client.post("/sanctions", json=sanction(cut_pct="0", end_date="2032-01-01"), headers=bpkad(keys))
    assert set(r.get_json()["error"]["fields"]) == {"cut_pct", "end_date"}
    assert actions(runtime) == []


def test_listing_employees_see_only_their_own(events, client, keys):
    setup(events)
    client.post("/sanctions", json=sanction(), headers=bkd(keys))
    client.post("/sanctions", json=sanction(employee_id=OTHER, start_date="2025-01-01", end_date="2025-06-30"),
                headers=bkd(keys))
    assert len(client.get("/sanctions", headers=bpkad(keys)).get_json()["sanctions"]) == 2
    assert [x["employee_id"] for x in client.get("/sanctions?year=2025", headers=bkd(keys)).get_json()["sanctions"]] == [OTHER]
    mine = client.get("/sanctions", headers=keys.headers(EMP, "pegawai")).get_json()["sanctions"]
    assert [x["employee_id"] for x in mine] == [EMP]
    assert client.get(f"/sanctions?employee_id={OTHER}", headers=keys.headers(EMP, "pegawai")).status_code == 403
    assert client.get("/sanctions", headers=keys.headers(None, "pegawai")).status_code == 403
    assert client.get("/sanctions?year=abc", headers=bpkad(keys)).status_code == 422


def test_overlapping_months_are_cut_and_policy_decides_how_sanctions_combine(events, client, keys):
    setup(events)
    h = bpkad(keys)
    client.post("/sanctions", json=sanction(start_date="2026-06-20", end_date="2026-07-10"), headers=h)
    client.post("/sanctions", json=sanction(cut_pct="10", start_date="2026-07-01", end_date="2026-07-31"), headers=h)
    # No minutes, full discipline: 5,000,000 x 40 % = 2,000,000 before the cut.
    june = client.post("/runs/2026/6/compute", headers=h).get_json()["lines"][0]
    assert (june["gross"], june["inputs"]["sanction_cut_pct"]) == (1_500_000, "25")  # overlaps from 20 June
    july = client.post("/runs/2026/7/compute", headers=h).get_json()["lines"][0]
    assert (july["gross"], july["inputs"]["sanction_cut_pct"]) == (1_500_000, "25")  # max(25, 10)
    assert len(july["inputs"]["sanctions"]) == 2
    august = client.post("/runs/2026/8/compute", headers=h).get_json()["lines"][0]
    assert august["gross"] == 2_000_000 and august["inputs"]["sanctions"] == []
    doc = client.get("/policies/2026", headers=h).get_json()
    doc["sanctions"] = {"combine": "sum", "max_cut_pct": "30"}
    assert client.put("/policies/2026", json=doc, headers=h).status_code == 200
    july = client.post("/runs/2026/7/compute", headers=h).get_json()["lines"][0]
    assert (july["gross"], july["inputs"]["sanction_cut_pct"]) == (1_400_000, "30")  # 25 + 10, capped at 30
