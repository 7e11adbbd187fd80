"""The organization API against a real PostgreSQL database."""
import json

from sqlalchemy import select

from ekinerja_common.outbox import OUTBOX


def outbox_types(runtime):
    table = runtime.metadata.tables[OUTBOX]
    with runtime.engine.connect() as conn:
        return [r.type for r in conn.execute(select(table.c.type).order_by(table.c.seq))]


def make_structure(client, h):
    unit = client.post("/units", json={"code": "DISKOMINFO", "name": "Dinas Kominfo", "kind": "opd"}, headers=h)
    assert unit.status_code == 201, unit.get_json()
    head = client.post("/positions", json={"code": "KADIS", "name": "Kepala Dinas", "kind": "jpt", "eselon": "II.b",
                                           "kelas_jabatan": 14, "unit_id": unit.get_json()["id"]}, headers=h)
    assert head.status_code == 201, head.get_json()
    staff = client.post("/positions", json={"code": "PRANATA", "name": "Pranata Komputer", "kind": "pelaksana",
                                            "kelas_jabatan": 7, "unit_id": unit.get_json()["id"],
                                            "parent_id": head.get_json()["id"]}, headers=h)
    assert staff.status_code == 201, staff.get_json()
    return unit.get_json(), head.get_json(), staff.get_json()


def test_structure_is_built_and_every_change_is_an_event(client, keys, runtime):
    h = keys.headers(None, "organisasi")
    _, head, staff = make_structure(client, h)
    duty = client.post(f"/positions/{staff['id']}/duties",
                       json={"description": "Memelihara jaringan", "output_unit": "kegiatan", "norma_waktu": 60}, headers=h)
    assert duty.status_code == 201
    moved = client.patch(f"/positions/{staff['id']}", json={"kelas_jabatan": 8}, headers=h)
    assert moved.get_json()["version"] == 2
    retired = client.post(f"/duties/{duty.get_json()['id']}/retire", headers=h)
    assert retired.get_json()["status"] == "retired"
    assert outbox_types(runtime) == ["unit.created", "position.created", "position.created", "duty.published",
                                     "position.updated", "duty.retired"]
    table = runtime.metadata.tables[OUTBOX]
    with runtime.engine.connect() as conn:
        body = json.loads(conn.execute(select(table.c.body).where(table.c.type == "position.updated")).scalar())
    assert body["data"]["kelas_jabatan"] == 8 and body["data"]["parent_id"] == head["id"] and body["source"] == "organization"


def test_only_organisasi_role_changes_structure(client, keys, runtime):
    for roles in [("pegawai",), ("admin_bkd",), ("bpkad",)]:
        r = client.post("/units", json={"code": "X", "name": "X", "kind": "opd"}, headers=keys.headers("e1", *roles))
        assert r.status_code == 403, roles
        assert r.get_json()["error"]["code"] == "forbidden"
    assert client.get("/units").status_code == 401
    assert client.get("/units", headers=keys.headers("e1", "pegawai")).status_code == 200
    assert outbox_types(runtime) == []


def test_cycle_is_refused_and_nothing_changes(client, keys, runtime):
    h = keys.headers(None, "organisasi")
    _, head, staff = make_structure(client, h)
    r = client.patch(f"/positions/{head['id']}", json={"parent_id": staff["id"]}, headers=h)
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "cycle"
    assert client.get(f"/positions/{head['id']}", headers=h).get_json()["parent_id"] is None
    assert outbox_types(runtime) == ["unit.created", "position.created", "position.created"]


def test_bad_input_is_a_clear_json_error(client, keys):
    h = keys.headers(None, "organisasi")
    r = client.post("/positions", data="{not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed_json"
    r = client.post("/positions", json={"code": "", "kind": "raja", "kelas_jabatan": "x"}, headers=h)
    err = r.get_json()["error"]
    assert r.status_code == 422 and {"code", "kind", "kelas_jabatan", "name", "unit_id"} <= set(err["fields"])
    assert err["message"] and err["message_en"]
    r = client.post("/positions", json={"code": "A", "name": "A", "kind": "pelaksana", "kelas_jabatan": 20, "unit_id": "nope"}, headers=h)
    assert r.status_code == 422 and "kelas_jabatan" in r.get_json()["error"]["fields"]


def test_health_metrics_openapi(client):
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/readyz").status_code == 200
    client.get("/nowhere")
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'route="/readyz"' in metrics and 'route="<unmatched>"' in metrics
    spec = client.get("/openapi.json").get_json()
    assert "/positions/{position_id}" in spec["paths"]
    assert spec["paths"]["/positions"]["post"]["requestBody"]
