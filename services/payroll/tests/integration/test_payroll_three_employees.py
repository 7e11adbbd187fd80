"""Three employees of different golongan, status and discipline, through events and the API, from
July to September 2026, with every figure worked by hand (the same people as
``tests/unit/test_tpp_examples.py``). Default 2026 policy: 60/40 split, CPNS 80 %, PPh 21 by
golongan IV 15 % / III 5 % / II 0 %, BPJS 1 % capped at a base of 12,000,000.

July 2026 has 23 working days (target 6,900 minutes); August 20 (17 August is a holiday).
"""
import csv
import io
import json
import uuid

import pytest
from sqlalchemy import select

from payroll.orm import DataChange

AYU, BAYU, CITRA = "emp-ayu", "emp-bayu", "emp-citra"
NIP = {AYU: "197805122003122001", BAYU: "199503172025031002", CITRA: "198811022010012003"}
WORKDAYS_JULY = [1, 2, 3, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 27, 28, 29, 30, 31]


def bpkad(keys):
    return keys.headers(None, "bpkad", account_id="bpkad-operator")


def approve_days(events, emp, days, minutes=300, last=None):
    for d in days:
        events.decision("approved", f"{emp}-07-{d:02d}", emp, f"2026-07-{d:02d}", minutes)
    if last:
        day, extra = last
        events.decision("approved", f"{emp}-07-{day:02d}-b", emp, f"2026-07-{day:02d}", extra)


def figures(line):
    return line["gross"], line["pph"], line["bpjs"], line["net"]


def outbox(runtime, event_type):
    with runtime.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT body FROM outbox WHERE type = %s ORDER BY seq", (event_type,)).all()
    return [json.loads(r[0]) for r in rows]


def read_csv(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


@pytest.fixture
def july(events, client, keys):
    events.position("pos-k12", kelas=12, unit_id="unit-keuangan")
    events.position("pos-k7", kelas=7, unit_id="unit-umum")
    events.position("pos-k5", kelas=5, unit_id="unit-umum")
    events.employee(AYU, name="Ayu Lestari", nip=NIP[AYU], golongan="IV/a", bank_account="1110001111")
    events.employee(BAYU, name="Bayu Pratama", nip=NIP[BAYU], golongan="III/a", status="CPNS", bank_account="2220002222")
    events.employee(CITRA, name="Citra Dewi", nip=NIP[CITRA], golongan="II/c", bank_account="3330003333")
    events.placement("pl-ayu", AYU, "pos-k12", "2020-01-01")
    events.placement("pl-bayu", BAYU, "pos-k7", "2025-03-01")
    events.placement("pl-citra", CITRA, "pos-k5", "2015-01-01")

    # Ayu: all 23 days x 300 = 6,900 minutes (100 %).
    approve_days(events, AYU, WORKDAYS_JULY)
    # Bayu: 18 days x 300 + 120 = 5,520 minutes (80 %).
    approve_days(events, BAYU, WORKDAYS_JULY[:18], last=(WORKDAYS_JULY[18], 120))
    # Citra: 11 days x 300 + 150 = 3,450 minutes (50 %); 1,380 more rejected on 31 July.
    approve_days(events, CITRA, WORKDAYS_JULY[:11], last=(WORKDAYS_JULY[11], 150))
    events.decision("rejected", "citra-rejected", CITRA, "2026-07-31", 1_380)

    # Ayu: TL2 twice (1 % each), PSW1 once (0.5 %) = 2.5 %. Bayu: TK (3 %) + TL1 twice (0.5 % each)
    # = 4 %. activity reports its own deduction too; payroll prices the codes with BPKAD's table.
    events.attendance(AYU, "2026-07-06", "1", ["TL2"])
    events.attendance(AYU, "2026-07-07", "1", ["TL2"])
    events.attendance(AYU, "2026-07-08", "0.5", ["PSW1"])
    events.attendance(BAYU, "2026-07-09", "3", ["TK"])
    events.attendance(BAYU, "2026-07-13", "0.5", ["TL1"])
    events.attendance(BAYU, "2026-07-14", "0.5", ["TL1"])
    events.attendance(CITRA, "2026-07-15", "0", ["CUTI"])

    # Citra's medium sanction (PP 94/2021), entered by BKD: 25 % for July to December.
    r = client.post("/sanctions", json={"employee_id": CITRA, "start_date": "2026-07-01", "end_date": "2026-12-31",
                                        "cut_pct": "25", "reference": "800/123/BKD/2026",
                                        "reason": "Hukuman disiplin sedang"},
                    headers=keys.headers(None, "admin_bkd", account_id="bkd-operator"))
    assert r.status_code == 201, r.get_json()

    salary_file = (
        "NIP;Nama;Gaji Pokok;BPJS Dipotong\n"
        f"{NIP[AYU]};Ayu Lestari;12.500.000;\n"
        f"{NIP[BAYU][:8]} {NIP[BAYU][8:14]} {NIP[BAYU][14]} {NIP[BAYU][15:]};Bayu Pratama;2.800.000;\n"
        f"{NIP[CITRA]};Citra Dewi;3.100.000;31.000\n"
    )
    r = client.post("/salaries/2026/7/import", data=salary_file.encode(), content_type="text/csv", headers=bpkad(keys))
    assert r.status_code == 200 and r.get_json()["imported"] == 3, r.get_json()


def test_july_august_september(july, client, keys, events, runtime):
    h = bpkad(keys)
    run = client.post("/runs/2026/7/compute", headers=h).get_json()
    lines = {line["employee_id"]: line for line in run["lines"]}

    # Ayu  gross = 8,750,000 x (60 % x 100 % + 40 % x 97.5 %) = 8,662,500; PPh 15 % = 1,299,375;
    #      BPJS: salary 12,500,000 is over the 12,000,000 cap -> 0; net 7,363,125.
    assert figures(lines[AYU]) == (8_662_500, 1_299_375, 0, 7_363_125)
    # Bayu gross = 3,500,000 x (60 % x 80 % + 40 % x 96 %) x 80 % = 3,024,000 x 0.8 = 2,419,200;
    #      PPh 5 % = 120,960; BPJS 1 % x 5,219,200 - 1 % x 2,800,000 = 52,192 - 28,000 = 24,192;
    #      net 2,274,048.
    assert figures(lines[BAYU]) == (2_419_200, 120_960, 24_192, 2_274_048)
    # Citra gross = 2,650,000 x (60 % x 50 % + 40 % x 100 %) x (1 - 25 %) = 1,391,250; PPh 0;
    #      BPJS 1 % x 4,491,250 = 44,912.5 -> 44,913 less the 31,000 from the salary = 13,913;
    #      net 1,377,337.
    assert figures(lines[CITRA]) == (1_391_250, 0, 13_913, 1_377_337)
    assert run["totals"] == {"employees": 3, "gross": 12_472_950, "pph": 1_420_335, "bpjs": 38_105, "net": 11_014_510}
    assert run["payable"] == {"employees": 3, "net": 11_014_510} and run["corrections"] == []

    ayu = lines[AYU]["inputs"]
    assert ayu["attendance_days_by_code"] == {"PSW1": 1, "TL2": 2} and ayu["deductions_pct"] == "2.500"
    assert ayu["deductions_pct_reported"] == "2.500" and ayu["discipline"] == "39/40"
    assert lines[CITRA]["inputs"]["sanction_cut_pct"] == "25" and lines[CITRA]["inputs"]["sanctions"][0]["reference"] == "800/123/BKD/2026"
    assert lines[CITRA]["inputs"]["bpjs_already"] == 31_000 and lines[BAYU]["inputs"]["status_factor_pct"] == "80"

    # The recap and the disbursement list add up to the run, to the rupiah.
    recap = read_csv(client.get("/runs/2026/7/recap.csv", headers=h))
    assert [row[0] for row in recap[1:]] == ["unit-keuangan", "unit-umum", "JUMLAH"]
    assert recap[-1][1:] == ["3", "12472950", "1420335", "38105", "11014510", "0", "0", "11014510"]
    transfers = read_csv(client.get("/runs/2026/7/disbursement.csv", headers=h))
    assert transfers[1:-1] == [
        [NIP[AYU], "Ayu Lestari", "1110001111", "7363125", "transfer"],
        [NIP[CITRA], "Citra Dewi", "3330003333", "1377337", "transfer"],
        [NIP[BAYU], "Bayu Pratama", "2220002222", "2274048", "transfer"],
    ]
    assert transfers[-1][3] == "11014510"

    r = client.post("/runs/2026/7/lock", json={"version": run["version"],
                                             "acknowledged_warnings": [w["code"] for w in run["warnings"]]}, headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "locked"
    [locked] = outbox(runtime, "tpp.period_locked")
    assert (locked["data"]["year"], locked["data"]["month"], locked["data"]["locked_by"]) == (2026, 7, "bpkad-operator")

    # After the lock: Bayu's supervisor approves a July entry late (690 minutes -> 6,210 = 90 %),
    # and an appeal overturns the rejection of Citra's 1,380 minutes (-> 4,830 = 70 %).
    late_id, appeal_id = str(uuid.uuid4()), str(uuid.uuid4())
    events.decision("approved", "bayu-late", BAYU, "2026-07-30", 690, id=late_id)
    events.appeal_decided("appeal-1", CITRA, [("citra-rejected", "2026-07-31", 1_380)], "overturned", id=appeal_id)
    assert client.get("/runs/2026/7", headers=h).get_json()["pending_changes"] == 2

    august = client.post("/runs/2026/8/compute", headers=h).get_json()
    corrections = {c["employee_id"]: c for c in august["corrections"]}
    assert set(corrections) == {BAYU, CITRA}
    # Bayu July now: 3,500,000 x (0.54 + 0.384) x 0.8 = 2,587,200; PPh 129,360;
    #   BPJS 53,872 - 28,000 = 25,872; net 2,431,968. Less the locked line: +168,000 gross,
    #   +8,400 PPh, +1,680 BPJS, +157,920 net.
    assert figures(corrections[BAYU]) == (168_000, 8_400, 1_680, 157_920)
    # Citra July now: 2,650,000 x (0.42 + 0.4) x 0.75 = 1,629,750; BPJS 47,297.5 -> 47,298 - 31,000
    #   = 16,298; net 1,613,452. Less the locked line: +238,500, 0, +2,385, +236,115.
    assert figures(corrections[CITRA]) == (238_500, 0, 2_385, 236_115)
    assert corrections[BAYU]["cause"]["event_id"] == late_id and corrections[BAYU]["cause"]["event_type"] == "activity.approved"
    assert corrections[CITRA]["cause"]["event_id"] == appeal_id and corrections[CITRA]["cause"]["event_type"] == "appeal.decided"
    # BPKAD reads the cause in words: an appeal granted (naming it), not a late approval.
    assert corrections[CITRA]["cause_text"] == "banding dikabulkan (keberatan appeal-1)"
    assert corrections[BAYU]["cause_text"] == "kegiatan disetujui setelah bulan dikunci"
    assert (corrections[BAYU]["for_year"], corrections[BAYU]["for_month"]) == (2026, 7)
    assert corrections[CITRA]["basis"]["recomputed"]["approved_minutes"] == 4_830
    # August's own lines: no August work yet (0 %), full discipline, no August salary recorded:
    # Ayu 8,750,000 x 40 % = 3,500,000 - 525,000 - 35,000 = 2,940,000; Bayu 3,500,000 x 40 % x 80 %
    # = 1,120,000 - 56,000 - 11,200 = 1,052,800; Citra 2,650,000 x 40 % x 75 % = 795,000 - 0 - 7,950
    # = 787,050. Paid in August: 4,779,850 + 157,920 + 236,115 = 5,173,885.
    assert august["totals"]["net"] == 4_779_850
    assert august["correction_totals"] == {"employees": 2, "gross": 406_500, "pph": 8_400, "bpjs": 4_065, "net": 394_035}
    assert august["payable"] == {"employees": 3, "net": 5_173_885}
    assert client.get("/runs/2026/7", headers=h).get_json()["lines"] == run["lines"]  # July never changes

    # Recomputing August replaces its corrections: the same two, not four.
    again = client.post("/runs/2026/8/compute", headers=h).get_json()
    assert sorted(figures(c) for c in again["corrections"]) == sorted(figures(c) for c in august["corrections"])
    recap = read_csv(client.get("/runs/2026/8/recap.csv", headers=h))
    transfers = read_csv(client.get("/runs/2026/8/disbursement.csv", headers=h))
    assert int(recap[-1][-1]) == int(transfers[-1][3]) == 5_173_885
    assert {row[0]: int(row[3]) for row in transfers[1:-1]}[NIP[BAYU]] == 1_052_800 + 157_920

    assert client.post("/runs/2026/8/lock", headers=h, json={"acknowledged_warnings": [
        w["code"] for w in client.get("/runs/2026/8", headers=h).get_json()["warnings"]]}).status_code == 200
    issued = {e["data"]["employee_id"]: e["data"] for e in outbox(runtime, "tpp.correction_issued")}
    assert {k: v["amount"] for k, v in issued.items()} == {BAYU: 157_920, CITRA: 236_115}
    assert issued[BAYU]["cause"]["event_id"] == late_id and (issued[BAYU]["for_month"], issued[BAYU]["month"]) == (7, 8)
    with runtime.session_factory() as s:
        assert s.scalars(select(DataChange.settled_at)).all() and all(s.scalars(select(DataChange.settled_at)))

    # September: activity corrects Ayu's 7 July (no longer late): deductions 1.5 %, discipline 98.5 %.
    fix_id = str(uuid.uuid4())
    events.attendance(AYU, "2026-07-07", "0", [], version=2, id=fix_id)
    september = client.post("/runs/2026/9/compute", headers=h).get_json()
    [ayu_fix] = september["corrections"]
    # 8,750,000 x (0.6 + 0.4 x 0.985) = 8,697,500: +35,000 gross, PPh 15 % +5,250, BPJS 0, net +29,750.
    # Bayu's and Citra's July were corrected in August and nothing changed since: nothing more.
    assert (ayu_fix["employee_id"], figures(ayu_fix)) == (AYU, (35_000, 5_250, 0, 29_750))
    assert ayu_fix["cause"] == {"event_id": fix_id, "event_type": "attendance.recorded", "for_year": 2026,
                                "for_month": 7, "text": "presensi dikoreksi 07/07/2026 (TL2 → tepat waktu)",
                                "changes": [{"event_id": fix_id, "event_type": "attendance.recorded", "ref": None,
                                             "day": "2026-07-07", "detail": {"codes": [], "previous_codes": ["TL2"]}}]}
