"""Bulk import of employees and placements from CSV and XLSX against real PostgreSQL: every bad
row reported with its line, nothing stored unless the whole file is valid (or ?partial=true),
events through the outbox for every imported record."""
import io
import os
import uuid

from openpyxl import Workbook
from sqlalchemy import select

from identity.orm import AuditRecord, Employee, Placement

HEADER = "nip,name,employee_kind,status,golongan,bank_account,npwp,position_code,placement_kind,start_date,end_date\n"
SAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "samples")


def nip(i: int) -> str:
    """A valid PNS NIP per i: born 1980-01-01 + i days (mod 28), appointed 2005-01 + i months."""
    return f"1980{1 + i % 12:02d}{1 + i % 28:02d}{2005 + i // 12 % 15}{1 + i % 12:02d}{1 + i % 2}{1 + i:03d}"


def csv_rows(n: int, position_code: str = "") -> str:
    return HEADER + "".join(
        f"{nip(i)},Pegawai {i},PNS,PNS,III/a,00{1000000 + i},,{position_code},{'definitive' if position_code else ''},"
        f"{'2025-01-01' if position_code else ''},\n" for i in range(n))


def post(client, h, body: str | bytes, path="/employees/import", partial=False, content_type="text/csv"):
    return client.post(path + ("?partial=true" if partial else ""), data=body, headers={**h, "Content-Type": content_type})


def test_a_valid_csv_is_imported_with_an_event_and_audit_per_record(api, client, admin, admin_h, runtime):
    pid = str(uuid.uuid4())
    api.deliver_position(pid, code="KOMINFO-PK")
    r = post(client, admin_h, csv_rows(300, "KOMINFO-PK"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {"rows": 300, "employees": 300, "placements": 300, "placements_ended": 0,
                            "rejected_lines": [], "errors": []}
    with runtime.session_factory() as s:
        employees = s.scalars(select(Employee).order_by(Employee.nip)).all()
        placements = s.scalars(select(Placement)).all()
    assert len(employees) == 300 and {e.bank_account for e in employees} >= {"001000000", "001000299"}
    assert {(p.position_id, p.start_date.isoformat(), p.kind, p.version) for p in placements} == {(pid, "2025-01-01", "definitive", 1)}
    events = api.outbox()
    registered = [d for t, d in events if t == "employee.registered"]
    placed = [d for t, d in events if t == "employee.placed"]
    assert len(registered) == len(placed) == 300
    by_id = {e.id: e for e in employees}
    for d in registered:  # the same fields as a single registration
        e = by_id[d["employee_id"]]
        assert d == {"employee_id": e.id, "nip": e.nip, "name": e.name, "employee_kind": "PNS", "status": "PNS",
                     "golongan": "III/a", "bank_account": e.bank_account, "active": True, "version": 1}
        assert d["bank_account"] is not None
    assert {d["employee_id"] for d in placed} == set(by_id)
    assert set(placed[0]) == {"placement_id", "employee_id", "position_id", "start_date", "end_date", "kind", "version"}
    assert len(api.audits("employee.registered")) == 300 and len(api.audits("employee.placed")) == 300
    [summary] = api.audits("employees.imported")
    assert summary.actor_account_id == admin["account"]["id"] and summary.details["employees"] == 300
    assert client.get(f"/employees/{employees[0].id}", headers=admin_h).get_json()["placements"][0]["position_code"] == "KOMINFO-PK"


def test_every_bad_row_is_reported_and_nothing_is_stored(api, client, admin_h, runtime):
    api.register(admin_h, nip=nip(50))
    api.deliver_position(str(uuid.uuid4()), code="HAPUS", active=False)
    api.deliver_position(str(uuid.uuid4()), code="ADA")
    before = len(api.outbox())
    body = (HEADER
            + f"{nip(1)},Benar Satu,PNS,PNS,III/a,,,ADA,definitive,2025-01-01,\n"           # line 2: fine
            + "198602302015133000,Salah NIP,PNS,PNS,III/a,,,,,,\n"                          # line 3: four NIP parts
            + f"{nip(2)},,PNS,PPPK,IV/f,12ab,,,,,\n"                                        # line 4: name, status, golongan, bank
            + f"{nip(1)},Ganda,PNS,PNS,III/a,,,,,,\n"                                       # line 5: same NIP as line 2
            + f"{nip(50)},Sudah Ada,PNS,PNS,III/a,,,,,,\n"                                  # line 6: NIP in the database
            + f"{nip(3)},Jabatan,PNS,PNS,III/a,,,TIDAK-ADA,plt,2025-13-01,\n"               # line 7: code, date
            + f"{nip(4)},Dihapus,PNS,PNS,III/a,,,HAPUS,definitive,2025-01-01,2024-01-01\n"  # line 8: abolished, end
            + f"{nip(5)},Tanpa Jabatan,PNS,PNS,III/a,,,,acting,2025-01-01,\n"               # line 9: placement w/o code
            + f"{nip(6)},Benar Dua,PPPK,PPPK,IX,,,,,,\n")                                   # line 10: fine
    r = post(client, admin_h, body)
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "import_invalid" and err["message"] and err["message_en"]
    found = {(row["line"], row["field"]) for row in err["rows"]}
    assert found == {
        (3, "nip.birth_date"), (3, "nip.tmt_cpns"), (3, "nip.gender"), (3, "nip.sequence"),
        (4, "name"), (4, "status"), (4, "golongan"), (4, "bank_account"),
        (5, "nip"), (6, "nip"), (7, "position_code"), (7, "start_date"),
        (8, "position_code"), (8, "end_date"), (9, "placement_kind"), (9, "start_date"),
    }
    assert all(row["message"] and row["message_en"] for row in err["rows"])
    assert "baris 2" in next(x for x in err["rows"] if x["line"] == 5)["message"]
    assert set(err["fields"]) == {f"{line}:{name}" for line, name in found}
    assert api.count(Employee) == 1 and api.count(Placement) == 0 and len(api.outbox()) == before
    assert [a for a in api.audits() if a.action.endswith("imported")] == []

    # Partial mode: the two good lines go in, the report is the same.
    r = post(client, admin_h, body, partial=True)
    assert r.status_code == 201
    result = r.get_json()
    assert (result["employees"], result["placements"]) == (2, 1)
    assert result["rejected_lines"] == [3, 4, 5, 6, 7, 8, 9]
    assert {(row["line"], row["field"]) for row in result["errors"]} == found
    with runtime.session_factory() as s:
        assert set(s.scalars(select(Employee.name))) == {"Budi Santoso", "Benar Satu", "Benar Dua"}
    assert [t for t, _ in api.outbox()[before:]] == ["employee.registered"] * 2 + ["employee.placed"]


def test_a_file_with_no_good_row_imports_nothing_even_in_partial_mode(api, client, admin_h):
    r = post(client, admin_h, HEADER + "1,,PNS,PNS,III/a,,,,,,\n", partial=True)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "import_invalid"
    assert api.count(Employee) == 0


def test_header_problems_come_first(api, client, admin_h):
    r = post(client, admin_h, "nip;nama;status;golongan;warna\n1;2;3;4;5\n")
    err = r.get_json()["error"]
    assert r.status_code == 422 and err["code"] == "import_header_invalid"
    assert {(x["line"], x["field"]) for x in err["rows"]} == {(1, "name"), (1, "employee_kind"), (1, "nama"), (1, "warna")}


def test_xlsx_upload_as_multipart_and_numeric_cells(api, client, admin_h):
    pid = str(uuid.uuid4())
    api.deliver_position(pid, code="KOMINFO-PK")
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    from datetime import datetime
    sheet.append([nip(1), "Dewi Lestari", "PNS", "PNS", "III/c", "0012006381", None, "KOMINFO-PK", "plt",
                  datetime(2026, 1, 5), None])
    sheet.append([nip(2), "Yusuf", "PNS", "PNS", "II/d", 12008513, None, None, None, None, None])
    sheet.append([float(nip(3)), "Angka", "PNS", "PNS", "II/d", None, None, None, None, None, None])
    data = io.BytesIO()
    book.save(data)
    upload = {"file": (io.BytesIO(data.getvalue()), "pegawai.xlsx")}
    r = client.post("/employees/import", data=upload, headers=admin_h, content_type="multipart/form-data")
    assert r.status_code == 422
    assert {(x["line"], x["field"]) for x in r.get_json()["error"]["rows"]} == {(3, "bank_account"), (4, "nip")}
    upload = {"file": (io.BytesIO(data.getvalue()), "pegawai.xlsx")}
    r = client.post("/employees/import?partial=1", data=upload, headers=admin_h, content_type="multipart/form-data")
    assert r.status_code == 201 and (r.get_json()["employees"], r.get_json()["placements"]) == (1, 1)
    placed = [d for t, d in api.outbox() if t == "employee.placed"]
    assert placed[0]["kind"] == "plt" and placed[0]["start_date"] == "2026-01-05"


def test_the_documented_samples_import(api, client, admin_h):
    for code in ("KOMINFO-KADIS", "KOMINFO-KABID-APTIKA", "KOMINFO-APTIKA-PK-MUDA", "KOMINFO-APTIKA-JARINGAN"):
        api.deliver_position(str(uuid.uuid4()), code=code)
    with open(os.path.join(SAMPLES, "employees.csv"), "rb") as f:
        r = client.post("/employees/import", data={"file": (f, "employees.csv")}, headers=admin_h,
                        content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    with open(os.path.join(SAMPLES, "placements.csv"), "rb") as f:
        r = post(client, admin_h, f.read(), path="/placements/import")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["placements"] >= 1 and r.get_json()["placements_ended"] >= 1


def test_placement_import_applies_rows_in_order_with_the_single_placement_rules(api, client, admin_h, runtime):
    codes = {c: str(uuid.uuid4()) for c in ("A", "B", "C")}
    for code, pid in codes.items():
        api.deliver_position(pid, code=code)
    dewi = api.register(admin_h, nip=nip(1), name="Dewi")
    yusuf = api.register(admin_h, nip=nip(2), name="Yusuf")
    r = client.post(f"/employees/{dewi['id']}/placements",
                    json={"position_id": codes["A"], "start_date": "2024-01-01", "kind": "definitive"}, headers=admin_h)
    first = r.get_json()
    api.register(admin_h, nip=nip(3), name="Pensiun")
    retired = api.client.get("/employees", headers=admin_h).get_json()["items"]
    retired_id = next(e["id"] for e in retired if e["name"] == "Pensiun")
    client.patch(f"/employees/{retired_id}", json={"active": False}, headers=admin_h)
    before = len(api.outbox())
    body = ("nip,position_code,kind,start_date,end_date\n"
            f"{nip(1)},B,definitive,2025-07-01,\n"          # line 2: transfer, ends A on 2025-06-30
            f"{nip(1)},C,plt,2025-08-01,2025-10-31\n"       # line 3: acting alongside
            f"{nip(2)},A,definitive,2025-01-01,\n"          # line 4: first post
            f"{nip(2)},C,definitive,2026-01-01,\n"          # line 5: then a transfer within the same file
            f"{nip(1)},C,plt,2025-10-01,\n"                 # line 6: overlaps line 3's Plt
            f"{nip(3)},A,definitive,2025-01-01,\n"          # line 7: inactive employee
            "199901012020011001,A,definitive,2025-01-01,\n"  # line 8: unknown NIP
            f"{nip(2)},X,definitive,01/02/2026,\n")         # line 9: unknown code
    r = post(client, admin_h, body, path="/placements/import")
    assert r.status_code == 422
    assert {(x["line"], x["field"]) for x in r.get_json()["error"]["rows"]} == {
        (6, "start_date"), (7, "nip"), (8, "nip"), (9, "position_code")}
    assert len(api.outbox()) == before

    r = post(client, admin_h, body, path="/placements/import", partial=True)
    assert r.status_code == 201
    assert (r.get_json()["placements"], r.get_json()["placements_ended"]) == (4, 1)
    with runtime.session_factory() as s:
        rows = s.execute(select(Placement.employee_id, Placement.position_id, Placement.start_date, Placement.end_date,
                                Placement.version).order_by(Placement.employee_id, Placement.start_date)).all()
    got = {(e, p, str(start), str(end) if end else None, v) for e, p, start, end, v in rows}
    assert got == {
        (dewi["id"], codes["A"], "2024-01-01", "2025-06-30", 2), (dewi["id"], codes["B"], "2025-07-01", None, 1),
        (dewi["id"], codes["C"], "2025-08-01", "2025-10-31", 1),
        (yusuf["id"], codes["A"], "2025-01-01", "2025-12-31", 1), (yusuf["id"], codes["C"], "2026-01-01", None, 1)}
    placed = [d for t, d in api.outbox()[before:] if t == "employee.placed"]
    assert len(placed) == 5
    ended = next(d for d in placed if d["placement_id"] == first["id"])
    assert (ended["end_date"], ended["version"]) == ("2025-06-30", 2)
    assert len(api.audits("placement.ended")) == 1


def test_only_admin_bkd_imports_and_only_files_are_accepted(api, client, admin_h):
    _, user = api.make_user(admin_h, "budi.santoso", roles=["organisasi", "bpkad", "majelis"])
    for path in ("/employees/import", "/placements/import"):
        r = post(client, api.bearer(user), csv_rows(2), path=path)
        assert r.status_code == 403
    assert api.count(Employee) == 1
    r = client.post("/employees/import", json={"rows": []}, headers=admin_h)
    assert r.status_code == 415 and r.get_json()["error"]["code"] == "unsupported_media_type"
    r = client.post("/employees/import", data={"other": (io.BytesIO(b"x"), "x.csv")}, headers=admin_h,
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "file" in r.get_json()["error"]["fields"]
    assert post(client, admin_h, b"").status_code == 422
    assert len(api.outbox()) == 1  # only the user's own registration
    with api.runtime.session_factory() as s:
        assert s.scalar(select(AuditRecord.id).where(AuditRecord.action == "employees.imported")) is None


def test_the_preview_checks_and_counts_everything_and_stores_nothing(api, client, admin_h, runtime):
    pid = str(uuid.uuid4())
    api.deliver_position(pid, code="KOMINFO-PK")
    events = len(api.outbox())
    r = client.post("/employees/import?dry_run=true", data=csv_rows(20, "KOMINFO-PK"),
                    headers={**admin_h, "Content-Type": "text/csv"})
    assert r.status_code == 200, r.get_json()
    assert {k: r.get_json()[k] for k in ("rows", "employees", "placements", "dry_run")} == \
        {"rows": 20, "employees": 20, "placements": 20, "dry_run": True}
    bad = csv_rows(3, "KOMINFO-PK").replace(nip(1), "123")
    r = client.post("/employees/import?dry_run=true", data=bad, headers={**admin_h, "Content-Type": "text/csv"})
    assert r.status_code == 422 and [e["line"] for e in r.get_json()["error"]["rows"]] == [3]
    assert api.count(Employee) == 0 and api.count(Placement) == 0 and len(api.outbox()) == events
    assert [a for a in api.audits() if a.action.endswith("imported")] == []
    r = client.post("/placements/import?dry_run=maybe", data="nip,position_code,start_date\n",
                    headers={**admin_h, "Content-Type": "text/csv"})
    assert r.status_code == 422 and "dry_run" in r.get_json()["error"]["fields"]
