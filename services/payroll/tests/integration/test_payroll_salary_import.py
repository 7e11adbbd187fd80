"""Salary CSV import: by NIP, all or nothing unless partial, every bad row with its line."""
from sqlalchemy import func, select

from payroll.orm import AuditEntry, Salary

NIPS = {"e1": "198609262015051001", "e2": "199001012019032002", "e3": "198001012005011003"}


def bpkad(keys):
    return keys.headers(None, "bpkad", account_id="bpkad-operator")


def stored(runtime):
    with runtime.session_factory() as s:
        return {r.employee_id: (r.salary, r.bpjs_already) for r in s.scalars(select(Salary))}


def setup(events):
    for emp, nip in NIPS.items():
        events.employee(emp, golongan="III/a", nip=nip)


GOOD = (f"nip,gaji_pokok,bpjs_dipotong\n{NIPS['e1']},4000000,40000\n{NIPS['e2']},3.500.000,\n").encode()


def test_import_as_body_or_multipart(events, client, keys, runtime):
    setup(events)
    r = client.post("/salaries/2026/6/import", data=GOOD, content_type="text/csv", headers=bpkad(keys))
    assert r.status_code == 200 and r.get_json() == {"year": 2026, "month": 6, "imported": 2, "rejected": []}
    assert stored(runtime) == {"e1": (4_000_000, 40_000), "e2": (3_500_000, None)}
    import io
    body = f"nip;gaji\n{NIPS['e3']};5.000.000\n{NIPS['e1']};4.100.000\n".encode()
    r = client.post("/salaries/2026/6/import", data={"file": (io.BytesIO(body), "gaji-juni.csv")},
                    content_type="multipart/form-data", headers=bpkad(keys))
    assert r.status_code == 200 and r.get_json()["imported"] == 2
    assert stored(runtime) == {"e1": (4_100_000, None), "e2": (3_500_000, None), "e3": (5_000_000, None)}
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "salaries.imported")) == 2


def test_a_bad_file_lists_every_row_and_imports_nothing(events, client, keys, runtime):
    setup(events)
    bad = (f"nip,gaji_pokok\n{NIPS['e1']},4000000\n999999999999999999,1\n{NIPS['e2']},banyak\n"
           f"{NIPS['e1']},5\n{NIPS['e3']},7\n").encode()
    r = client.post("/salaries/2026/6/import", data=bad, content_type="text/csv", headers=bpkad(keys))
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "invalid_rows"
    assert set(err["fields"]) == {"rows.3.nip", "rows.4.salary", "rows.5.nip"}
    assert err["fields"]["rows.3.nip"]["message_en"].startswith("Unknown NIP")
    assert err["fields"]["rows.5.nip"]["message"] == "NIP ini sudah ada di baris 2"
    assert stored(runtime) == {}
    # partial: the good rows (lines 2 and 6) are stored, the bad ones returned.
    r = client.post("/salaries/2026/6/import?partial=true", data=bad, content_type="text/csv", headers=bpkad(keys))
    assert r.status_code == 200
    out = r.get_json()
    assert out["imported"] == 2 and [(x["line"], x["field"]) for x in out["rejected"]] == [(3, "nip"), (4, "salary"), (5, "nip")]
    assert stored(runtime) == {"e1": (4_000_000, None), "e3": (7, None)}


def test_a_broken_file_is_refused_even_when_partial(events, client, keys, runtime):
    setup(events)
    r = client.post("/salaries/2026/6/import?partial=true", data=b"nama,umur\nx,1\n", content_type="text/csv",
                    headers=bpkad(keys))
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"file"}
    assert stored(runtime) == {}


def test_who_and_what_may_be_sent(events, client, keys):
    setup(events)
    for roles in [("pegawai",), ("admin_bkd",)]:
        r = client.post("/salaries/2026/6/import", data=GOOD, content_type="text/csv", headers=keys.headers("e1", *roles))
        assert r.status_code == 403
    r = client.post("/salaries/2026/6/import", json={"salaries": []}, headers=bpkad(keys))
    assert r.status_code == 415 and r.get_json()["error"]["code"] == "unsupported_media_type"
    r = client.post("/salaries/2026/6/import", data={}, content_type="multipart/form-data", headers=bpkad(keys))
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"file"}
    r = client.post("/salaries/2026/6/import?partial=maybe", data=GOOD, content_type="text/csv", headers=bpkad(keys))
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"partial"}
    r = client.post("/salaries/2026/13/import", data=GOOD, content_type="text/csv", headers=bpkad(keys))
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"month"}
