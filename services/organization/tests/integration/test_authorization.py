"""Organisasi manages the structure and nobody else; reading needs a login with a role."""
import uuid

from organization.orm import Duty, Position, Unit


def test_nobody_but_organisasi_changes_anything(org, client, keys, runtime, tree):
    d = org.duty(tree["staff"]["id"], "Menangani tiket", 30)
    events, audits = len(org.outbox()), len(org.audits())
    attempts = lambda h: [  # noqa: E731
        client.post("/units", json={"code": "X", "name": "X", "kind": "opd"}, headers=h),
        client.patch(f"/units/{tree['opd']['id']}", json={"name": "X"}, headers=h),
        client.delete(f"/units/{tree['sub']['id']}", headers=h),
        client.post("/positions", json={"code": "X", "name": "X", "kind": "pelaksana", "kelas_jabatan": 5,
                                        "unit_id": tree["sub"]["id"]}, headers=h),
        client.patch(f"/positions/{tree['staff']['id']}", json={"kelas_jabatan": 17}, headers=h),
        client.delete(f"/positions/{tree['staff']['id']}", headers=h),
        client.post(f"/positions/{tree['staff']['id']}/duties", json={"description": "X", "output_unit": "x",
                                                                     "norma_waktu": 5}, headers=h),
        client.patch(f"/duties/{d['id']}", json={"yearly_volume": 9}, headers=h),
        client.post(f"/duties/{d['id']}/retire", headers=h),
        client.put("/abk/policy/2026", json={"effective_minutes_per_year": 1}, headers=h),
    ]
    for roles in (("pegawai",), ("admin_bkd",), ("bpkad",), ("majelis",), ("pegawai", "admin_bkd", "bpkad", "majelis")):
        for r in attempts(keys.headers(str(uuid.uuid4()), *roles)):
            assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden", (roles, r.request.path)
    for r in attempts({}):
        assert r.status_code == 401
    assert len(org.outbox()) == events and len(org.audits()) == audits
    with runtime.session_factory() as s:
        assert s.get(Position, tree["staff"]["id"]).kelas_jabatan == 7 and s.get(Duty, d["id"]).status == "published"
        assert s.query(Unit).filter(Unit.active).count() == 3


def test_reading_needs_a_role_so_a_password_change_token_reads_nothing(client, keys, tree):
    pegawai = keys.headers(str(uuid.uuid4()), "pegawai")
    for path in ("/units", "/positions", f"/positions/{tree['staff']['id']}", f"/positions/{tree['staff']['id']}/history",
                 f"/positions/{tree['staff']['id']}/duties"):
        assert client.get(path, headers=pegawai).status_code == 200, path
        # What identity issues before the one-time password is replaced: no roles, no employee.
        restricted = keys.headers(None, account_id=str(uuid.uuid4()), roles=[], pwd_change=True)
        r = client.get(path, headers=restricted)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "password_change_required", path
        assert client.get(path).status_code == 401
