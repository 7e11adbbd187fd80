"""Importing duties from CSV and XLSX against real PostgreSQL: every bad row reported with its
line, nothing stored unless the whole file is valid (or ?partial=true), an event per duty."""
import io
import os

from openpyxl import Workbook

from organization.orm import Duty

SAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "samples")
HEADER = "position_code,description,output_unit,norma_waktu,yearly_volume\n"
DUTY_FIELDS = {"duty_id", "position_id", "description", "output_unit", "norma_waktu", "version"}


def post(client, h, body, partial=False):
    return client.post("/duties/import" + ("?partial=true" if partial else ""), data=body,
                       headers={**h, "Content-Type": "text/csv"})


def test_a_valid_file_publishes_every_duty(org, client, tree):
    body = HEADER + "".join(f"PRANATA,Tugas nomor {i},laporan,{1 + i % 450},{i}\n" for i in range(500))
    r = post(client, org.h, body)
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {"rows": 500, "duties": 500, "rejected_lines": [], "errors": []}
    events = [d for t, d in org.outbox() if t == "duty.published"]
    assert len(events) == 500 and all(DUTY_FIELDS <= set(d) for d in events)
    assert {d["position_id"] for d in events} == {tree["staff"]["id"]} and events[7]["yearly_volume"] == 7
    assert org.count(Duty) == 500 and len(org.audits("duty.published")) == 500
    [summary] = org.audits("duties.imported")
    assert summary.actor_account_id == org.account and summary.details["duties"] == 500


def test_every_bad_row_is_reported_and_nothing_is_stored(org, client, tree):
    org.duty(tree["staff"]["id"], "Sudah ada", 30)
    old = org.position("LAMA", tree["sub"]["id"])
    assert client.delete(f"/positions/{old['id']}", headers=org.h).status_code == 204
    before = len(org.outbox())
    body = (HEADER
            + "PRANATA,Menyusun laporan,laporan,30,12\n"          # 2: fine
            + "TIDAK-ADA,Apa saja,laporan,30,\n"                  # 3: unknown code
            + "LAMA,Apa saja,laporan,30,\n"                       # 4: abolished
            + "PRANATA,,laporan,0,\n"                             # 5: description, norma
            + "PRANATA,Menyusun  LAPORAN,laporan,30,\n"           # 6: same as line 2
            + "PRANATA,sudah ada,laporan,30,\n"                   # 7: already published
            + "PRANATA,Volume aneh,laporan,451,1.200\n"           # 8: norma, volume
            + ",Tanpa kode,,abc,-3\n"                             # 9: code, output unit, norma, volume
            + "KADIS,Menyusun laporan,laporan,30,\n")             # 10: fine (another position)
    r = post(client, org.h, body)
    assert r.status_code == 422
    err = r.get_json()["error"]
    found = {(x["line"], x["field"]) for x in err["rows"]}
    assert found == {(3, "position_code"), (4, "position_code"), (5, "description"), (5, "norma_waktu"),
                     (6, "description"), (7, "description"), (8, "norma_waktu"), (8, "yearly_volume"),
                     (9, "position_code"), (9, "output_unit"), (9, "norma_waktu"), (9, "yearly_volume")}
    assert all(x["message"] and x["message_en"] for x in err["rows"])
    assert "baris 2" in next(x for x in err["rows"] if x["line"] == 6)["message"]
    assert org.count(Duty) == 1 and len(org.outbox()) == before
    r = post(client, org.h, body, partial=True)
    assert r.status_code == 201 and r.get_json()["duties"] == 2 and r.get_json()["rejected_lines"] == [3, 4, 5, 6, 7, 8, 9]
    assert [t for t, _ in org.outbox()[before:]] == ["duty.published"] * 2


def test_xlsx_and_the_documented_sample(org, client, tree):
    for code in ("KOMINFO-APTIKA-JARINGAN", "KOMINFO-APTIKA-PK-MUDA", "KOMINFO-IKP-ADMIN"):
        org.position(code, tree["sub"]["id"])
    with open(os.path.join(SAMPLES, "duties.csv"), "rb") as f:
        r = client.post("/duties/import", data={"file": (f, "duties.csv")}, headers=org.h, content_type="multipart/form-data")
    assert r.status_code == 201 and r.get_json()["duties"] == 5, r.get_json()
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["PRANATA", "Mengganti kabel", "kegiatan", 45, 120])
    sheet.append(["PRANATA", "Mengganti kabel", "kegiatan", 45.5, None])
    data = io.BytesIO()
    book.save(data)
    r = client.post("/duties/import", data=data.getvalue(), headers={
        **org.h, "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    assert r.status_code == 422
    assert {(x["line"], x["field"]) for x in r.get_json()["error"]["rows"]} == {(3, "norma_waktu"), (3, "description")}


def test_only_organisasi_imports(org, client, keys, tree):
    for roles in (("pegawai",), ("admin_bkd",)):
        r = post(client, keys.headers("e1", *roles), HEADER + "PRANATA,X,y,5,\n")
        assert r.status_code == 403
    assert client.post("/duties/import", json=[], headers=org.h).status_code == 415
    assert org.count(Duty) == 0


def test_the_preview_stores_nothing(org, client, tree):
    body = HEADER + "".join(f"PRANATA,Tugas nomor {i},laporan,30,{i}\n" for i in range(5))
    r = client.post("/duties/import?dry_run=true", data=body, headers={**org.h, "Content-Type": "text/csv"})
    assert r.status_code == 200 and (r.get_json()["duties"], r.get_json()["dry_run"]) == (5, True)
    assert org.count(Duty) == 0 and [t for t, _ in org.outbox() if t == "duty.published"] == []
    r = client.post("/duties/import?dry_run=true", data=body + "TIDAK-ADA,X,laporan,30,1\n",
                    headers={**org.h, "Content-Type": "text/csv"})
    assert r.status_code == 422 and [e["line"] for e in r.get_json()["error"]["rows"]] == [7]
