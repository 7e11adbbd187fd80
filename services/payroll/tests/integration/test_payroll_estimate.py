"""The employee's TPP estimate for a month still open (GET /estimates/{y}/{m}/me): the same figure
the run will compute, each cut from the most the position pays in rupiah, what each attendance
code costs a day, what the waiting entries would add; only for oneself, nothing stored. And the
slip PDF naming the unit and the position.

June 2026 has 21 working days (target 6,300 minutes): DOMAIN.md's example employee, kelas 9
(Rp 5,000,000), golongan III, 5,670 approved minutes (90 %), 3 % of deductions (97 %), salary
Rp 4,000,000 → gross 4,640,000, PPh 232,000, BPJS 46,400, net 4,361,600.
"""
import re
import zlib

import pytest
from sqlalchemy import func, select

from payroll.orm import AuditEntry, PolicyVersion, TppLineRow, TppRun


def bpkad(keys):
    return keys.headers(None, "bpkad", account_id="bpkad-operator")


def me(keys, who="ani", *roles):
    return keys.headers(who, *(roles or ("pegawai",)))


@pytest.fixture
def ani(events, client, keys):
    events.unit("unit-kominfo", code="DISKOMINFO", name="Dinas Komunikasi dan Informatika")
    events.position("p9", kelas=9, unit_id="unit-kominfo")
    events.employee("ani", golongan="III/b", nip="198609262015051001", name="Ani Lestari")
    events.placement("pl-ani", "ani", "p9", "2020-01-01")
    for n, (day, minutes) in enumerate([("2026-06-02", 1200), ("2026-06-03", 1200), ("2026-06-04", 1200),
                                        ("2026-06-05", 1200), ("2026-06-08", 870)]):
        events.decision("approved", f"e{n}", "ani", day, minutes)
    events.decision("rejected", "rej", "ani", "2026-06-09", 240)
    events.attendance("ani", "2026-06-02", "1.0", ["TL1", "PSW1"])
    events.attendance("ani", "2026-06-03", "2", ["TL4"])
    # Salaries are imported at month end: May's is what is known in June.
    assert client.put("/salaries/2026/5", json={"salaries": [{"employee_id": "ani", "salary": 4_000_000}]},
                      headers=bpkad(keys)).status_code == 200


def get(client, keys, path="/estimates/2026/6/me", who="ani", *roles, **params):
    return client.get(path, headers=me(keys, who, *roles), query_string=params)


def test_the_estimate_is_the_runs_figure_with_each_cut_in_rupiah(ani, client, keys, runtime):
    r = get(client, keys)
    assert r.status_code == 200, r.get_json()
    est = r.get_json()
    assert (est["gross"], est["pph"], est["bpjs"], est["net"]) == (4_640_000, 232_000, 46_400, 4_361_600)
    assert est["cuts"] == {"full": 5_000_000, "productivity": 300_000, "discipline": 60_000, "sanction": 0,
                           "pph": 232_000, "bpjs": 46_400}
    c = est["cuts"]
    assert c["full"] - c["productivity"] - c["discipline"] - c["sanction"] - c["pph"] - c["bpjs"] == est["net"]
    assert est["minutes_short"] == 630 and est["salary_month"] == "2026-05" and est["run_status"] is None
    assert (est["position_name"], est["kelas_jabatan"]) == ("Jabatan kelas 9", 9)
    # 5,000,000 x 40 % discipline weight x 0.5 % = 10,000 a day for TL1 and PSW1; TL4 (2 %) 40,000.
    assert est["attendance"] == [{"code": "PSW1", "days": 1, "deduction_pct": "0.5", "cost_per_day": 10_000},
                                 {"code": "TL1", "days": 1, "deduction_pct": "0.5", "cost_per_day": 10_000},
                                 {"code": "TL4", "days": 1, "deduction_pct": "2", "cost_per_day": 40_000}]
    assert est["inputs"]["approved_minutes"] == 5_670 and est["inputs"]["target_minutes"] == 6_300
    assert est["with_pending"] is None
    # One more approved hour: productivity 5,730 / 6,300, by the same arithmetic (hand-checked).
    assert est["net_per_next_hour"] == 26_856
    # The run computes the same line (with June's salary it would be the same too).
    assert client.put("/salaries/2026/6", json={"salaries": [{"employee_id": "ani", "salary": 4_000_000}]},
                      headers=bpkad(keys)).status_code == 200
    run = client.post("/runs/2026/6/compute", headers=bpkad(keys)).get_json()
    (line,) = run["lines"]
    assert (line["gross"], line["net"]) == (est["gross"], est["net"])


def test_waiting_entries_show_what_they_would_add(ani, client, keys):
    est = get(client, keys, pending_minutes=630).get_json()
    # At the target: 5,000,000 x (60 % + 40 % x 97 %) = 4,940,000; PPh 247,000; BPJS 89,400 - 40,000.
    assert est["with_pending"] == {"approved_minutes": 6_300, "gross": 4_940_000, "pph": 247_000, "bpjs": 49_400,
                                   "net": 4_643_600}
    assert est["net"] == 4_361_600  # the estimate itself counts only what is approved


def test_the_estimate_follows_new_approvals_and_appeals(ani, client, keys, events):
    before = get(client, keys).get_json()["net"]
    events.appeal_decided("ap1", "ani", [("rej", "2026-06-09", 240)], "overturned")
    after = get(client, keys).get_json()
    assert after["inputs"]["approved_minutes"] == 5_910 and after["net"] > before


def test_only_for_oneself_nothing_stored_and_locked_months_refused(ani, client, keys, runtime, events):
    def state():
        with runtime.session_factory() as s:
            return (s.scalar(select(func.count()).select_from(TppLineRow)), s.scalar(select(func.count()).select_from(TppRun)),
                    s.scalar(select(func.count()).select_from(AuditEntry)))

    get(client, keys)  # the first reading stores the year's default policy, once
    before = state()
    assert client.get("/estimates/2026/6/me").status_code == 401
    for roles in (("bpkad",), ("admin_bkd",), ("organisasi",), ("majelis",)):
        assert get(client, keys, "/estimates/2026/6/me", "ani", *roles).status_code == 403, roles
    r = client.get("/estimates/2026/6/me", headers=keys.headers(None, "pegawai"))
    assert r.status_code == 403
    # Someone without a position here: nothing to estimate (and nothing of Ani's).
    stranger = get(client, keys, "/estimates/2026/6/me", "budi")
    assert stranger.status_code == 404 and "Ani" not in stranger.get_data(as_text=True)
    bad = get(client, keys, "/estimates/2026/13/me")
    assert bad.status_code == 422
    bad = get(client, keys, pending_minutes="-5")
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"pending_minutes"}
    assert get(client, keys, extra="x").status_code == 422
    assert state() == before
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(PolicyVersion)) == 1
    assert client.put("/salaries/2026/6", json={"salaries": [{"employee_id": "ani", "salary": 4_000_000}]},
                      headers=bpkad(keys)).status_code == 200
    run = client.post("/runs/2026/6/compute", headers=bpkad(keys)).get_json()
    warned = [w["code"] for w in run["warnings"] if w.get("blocking")]
    lock = client.post("/runs/2026/6/lock", json={"acknowledged_warnings": warned}, headers=bpkad(keys))
    assert lock.status_code == 200, lock.get_json()
    locked = get(client, keys)
    assert locked.status_code == 409 and locked.get_json()["error"]["code"] == "period_locked"


def pdf_text(data: bytes) -> str:
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            out.append(stream.decode("latin-1"))
    return "".join(out)


def test_the_slip_names_the_unit_and_the_position(ani, client, keys):
    client.post("/runs/2026/6/compute", headers=bpkad(keys))
    slip = client.get("/runs/2026/6/slips/ani.pdf", headers=me(keys))
    assert slip.status_code == 200
    text = pdf_text(slip.data)
    assert "Dinas Komunikasi dan Informatika" in text and "Jabatan kelas 9" in text
    assert "unit-kominfo" not in text and "P-p9" not in text
