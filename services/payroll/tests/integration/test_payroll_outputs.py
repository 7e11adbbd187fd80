"""Slips, the unit recap and the disbursement list through the API: who may fetch them, formats,
totals equal to the run, and spreadsheet-safe cells."""
import csv
import io

import pytest
from openpyxl import load_workbook

UNIT_A, UNIT_B = "unit-a", "=unit-b"  # a unit id that looks like a formula must stay text


def bpkad(keys):
    return keys.headers(None, "bpkad", account_id="bpkad-operator")


@pytest.fixture
def month(events, client, keys):
    events.position("p9", kelas=9, unit_id=UNIT_A)
    events.position("p7", kelas=7, unit_id=UNIT_B)
    events.employee("e1", golongan="III/b", nip="198609262015051001", name="Ani", bank_account="1234567890")
    events.employee("e2", golongan="IV/a", nip="197001011995031002", name="=HYPERLINK(\"http://evil\")",
                    bank_account="-987654321")
    # No bank account on record for this one.
    events.employee("e3", golongan="II/a", nip="199901012022031003", name="Citra")
    for n, (emp, pos) in enumerate((("e1", "p9"), ("e2", "p9"), ("e3", "p7"))):
        events.placement(f"pl-{n}", emp, pos, "2020-01-01")
    events.decision("approved", "a1", "e1", "2026-06-02", 6_300)
    run = client.post("/runs/2026/6/compute", headers=bpkad(keys)).get_json()
    assert run["totals"]["employees"] == 3
    return run


def test_recap_shows_unit_code_and_name_where_known(month, client, keys, events):
    h = bpkad(keys)
    events.unit(UNIT_A, code="DISKOMINFO", name="Dinas Komunikasi dan Informatika")
    rows = list(csv.reader(io.StringIO(client.get("/runs/2026/6/recap.csv", headers=h).get_data().decode("utf-8-sig"))))
    assert rows[0][0] == "unit"
    # Known units by code and name, an unknown one by its id (still neutralised).
    assert [row[0] for row in rows[1:]] == ["'=unit-b", "DISKOMINFO - Dinas Komunikasi dan Informatika", "JUMLAH"]
    wb = load_workbook(io.BytesIO(client.get("/runs/2026/6/recap.xlsx", headers=h).data))
    assert "DISKOMINFO - Dinas Komunikasi dan Informatika" in [row[0] for row in wb.active.iter_rows(values_only=True)]
    pdf = client.get("/runs/2026/6/recap.pdf", headers=h)
    assert pdf.status_code == 200 and b"%PDF" in pdf.data[:8]
    events.unit(UNIT_A, code="DISKOMINFO", name="Diskominfo Baru", version=2)
    r = client.get("/runs/2026/6/recap.json", headers=h)
    assert r.status_code == 200
    body = r.get_json()
    assert [(u["unit_id"], u["code"], u["name"], u["label"]) for u in body["units"]] == [
        (UNIT_B, None, None, UNIT_B), (UNIT_A, "DISKOMINFO", "Diskominfo Baru", "DISKOMINFO - Diskominfo Baru")]
    assert body["total"]["payable"] == month["payable"]["net"] == sum(u["payable"] for u in body["units"])
    assert body["total"]["employees"] == 3 and body["status"] == "open"
    assert client.get("/runs/2026/6/recap.json", headers=keys.headers("e1", "pegawai")).status_code == 403
    assert client.get("/runs/2026/6/disbursement.json", headers=h).status_code == 404


def test_recap_and_disbursement_in_every_format_add_up_to_the_run(month, client, keys):
    h = bpkad(keys)
    net = month["payable"]["net"]
    # e1 5,000,000 x 100 % -> 4,750,000 - 50,000 = 4,700,000 ... e2 2,000,000 at 15 %, e3 1,400,000 at 0 %.
    assert net == (5_000_000 - 250_000 - 50_000) + (2_000_000 - 300_000 - 20_000) + (1_400_000 - 0 - 14_000)
    r = client.get("/runs/2026/6/recap.csv", headers=h)
    assert r.content_type == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="rekap-tpp-2026-06.csv"'
    rows = list(csv.reader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["'=unit-b", UNIT_A, "JUMLAH"]
    assert int(rows[-1][-1]) == net == sum(int(row[-1]) for row in rows[1:-1])

    rows = list(csv.reader(io.StringIO(client.get("/runs/2026/6/disbursement.csv", headers=h).get_data().decode("utf-8-sig"))))
    by_nip = {row[0]: row for row in rows[1:-1]}
    assert by_nip["197001011995031002"][1:3] == ["'=HYPERLINK(\"http://evil\")", "'-987654321"]
    assert by_nip["199901012022031003"][2:] == ["", "1386000", "transfer; rekening belum ada"]
    assert int(rows[-1][3]) == net

    wb = load_workbook(io.BytesIO(client.get("/runs/2026/6/disbursement.xlsx", headers=h).data))
    values = [row for row in wb.active.iter_rows(values_only=True)]
    assert [row for row in values if row[0] == "JUMLAH"][0][3] == net
    assert not any(c.data_type == "f" for row in wb.active.iter_rows() for c in row)
    wb = load_workbook(io.BytesIO(client.get("/runs/2026/6/recap.xlsx", headers=h).data))
    assert [row for row in wb.active.iter_rows(values_only=True) if row[0] == "JUMLAH"][0][-1] == net

    for path in ("/runs/2026/6/recap.pdf", "/runs/2026/6/disbursement.pdf"):
        r = client.get(path, headers=h)
        assert r.status_code == 200 and r.content_type == "application/pdf" and r.data.startswith(b"%PDF")
    assert client.get("/runs/2026/6/recap.docx", headers=h).status_code == 404
    assert client.get("/runs/2026/7/recap.csv", headers=h).status_code == 404


def test_only_bpkad_takes_the_lists(month, client, keys):
    for roles in [("pegawai",), ("admin_bkd",), ("organisasi",), ("majelis",)]:
        for path in ("/runs/2026/6/recap.csv", "/runs/2026/6/disbursement.xlsx"):
            assert client.get(path, headers=keys.headers("e1", *roles)).status_code == 403
    assert client.get("/runs/2026/6/recap.csv").status_code == 401


def test_slip_for_the_employee_themself_or_bpkad(month, client, keys):
    own = client.get("/runs/2026/6/slips/e1.pdf", headers=keys.headers("e1", "pegawai"))
    assert own.status_code == 200 and own.data.startswith(b"%PDF")
    assert own.headers["Content-Disposition"] == 'attachment; filename="slip-tpp-2026-06-198609262015051001.pdf"'
    assert client.get("/runs/2026/6/slips/e2.pdf", headers=bpkad(keys)).status_code == 200
    assert client.get("/runs/2026/6/slips/e2.pdf", headers=keys.headers("e1", "pegawai")).status_code == 403
    assert client.get("/runs/2026/6/slips/e1.pdf", headers=keys.headers("e1", "admin_bkd")).status_code == 403
    assert client.get("/runs/2026/6/slips/nobody.pdf", headers=bpkad(keys)).status_code == 404
    assert client.get("/runs/2026/5/slips/e1.pdf", headers=keys.headers("e1", "pegawai")).status_code == 404


def test_bank_accounts_are_frozen_in_the_line(month, client, keys, events):
    events.employee("e1", golongan="III/b", nip="198609262015051001", name="Ani", bank_account="5555555555", version=2)
    rows = client.get("/runs/2026/6/disbursement.csv", headers=bpkad(keys)).get_data().decode("utf-8-sig")
    assert "1234567890" in rows and "5555555555" not in rows  # the run copied it when computed
    client.post("/runs/2026/6/compute", headers=bpkad(keys))
    rows = client.get("/runs/2026/6/disbursement.csv", headers=bpkad(keys)).get_data().decode("utf-8-sig")
    assert "5555555555" in rows
