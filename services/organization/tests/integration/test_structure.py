"""The unit tree, position history and the guards of the tree, against real PostgreSQL."""
import uuid
from datetime import timedelta

from organization.orm import Duty, Position, PositionHistory, Unit
from ekinerja_common.clock import today as local_today

POSITION_FIELDS = {"position_id", "code", "name", "kind", "kelas_jabatan", "parent_id", "unit_id", "factor", "version"}


def test_unit_kinds_nest_in_order_and_every_bad_field_is_listed(org, client):
    opd = org.unit("DISKOMINFO")
    bidang = org.unit("APTIKA", "bidang", opd["id"])
    sub = org.unit("APTIKA-INFRA", "subbidang", bidang["id"])
    for kind, parent in (("subbidang", opd["id"]), ("bidang", bidang["id"]), ("opd", opd["id"]), ("bidang", None),
                         ("subbidang", sub["id"])):
        r = client.post("/units", json={"code": f"X-{uuid.uuid4().hex[:6]}", "name": "X", "kind": kind, "parent_id": parent},
                        headers=org.h)
        assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"parent_id"}, (kind, parent)
    r = client.post("/units", json={"code": "", "name": "", "kind": "seksi"}, headers=org.h)
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"code", "name", "kind"}
    r = client.post("/units", json={"code": "APTIKA", "name": "Lagi", "kind": "bidang", "parent_id": opd["id"]}, headers=org.h)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "duplicate_code"
    assert org.count(Unit) == 3
    assert [a.details["kind"] for a in org.audits("unit.created")] == ["opd", "bidang", "subbidang"]


def test_a_unit_with_child_units_or_positions_is_not_dissolved(org, client, tree):
    r = client.delete(f"/units/{tree['bidang']['id']}", headers=org.h)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "unit_has_children"
    r = client.delete(f"/units/{tree['sub']['id']}", headers=org.h)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "unit_has_positions"
    empty = org.unit("APTIKA-LAIN", "subbidang", tree["bidang"]["id"])
    assert client.delete(f"/units/{empty['id']}", headers=org.h).status_code == 204
    assert client.delete(f"/units/{empty['id']}", headers=org.h).status_code == 204  # already gone: no change
    listed = {u["code"] for u in client.get("/units", headers=org.h).get_json()["units"]}
    assert "APTIKA-LAIN" not in listed and len(listed) == 3
    assert any(u["code"] == "APTIKA-LAIN" and u["active"] is False
               for u in client.get("/units?status=all", headers=org.h).get_json()["units"])
    # Nothing new goes into a dissolved unit.
    r = client.post("/units", json={"code": "Y", "name": "Y", "kind": "subbidang", "parent_id": empty["id"]}, headers=org.h)
    assert r.status_code == 422 and "parent_id" in r.get_json()["error"]["fields"]
    r = client.post("/positions", json={"code": "Y", "name": "Y", "kind": "pelaksana", "kelas_jabatan": 5,
                                        "unit_id": empty["id"]}, headers=org.h)
    assert r.status_code == 422 and "unit_id" in r.get_json()["error"]["fields"]
    assert client.delete(f"/units/{uuid.uuid4()}", headers=org.h).status_code == 404
    [record] = org.audits("unit.dissolved")
    assert record.object_id == empty["id"] and record.actor_account_id == org.account
    renamed = client.patch(f"/units/{tree['sub']['id']}", json={"name": "Subbidang Jaringan"}, headers=org.h)
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Subbidang Jaringan"


def test_every_version_of_a_position_is_kept_with_its_effective_date(org, client, tree):
    today = local_today()
    staff = tree["staff"]
    assert staff["valid_from"] == today.isoformat() and staff["version"] == 1
    back = (today - timedelta(days=40)).isoformat()
    r = client.post("/positions", json={"code": "ANALIS", "name": "Analis", "kind": "fungsional", "kelas_jabatan": 8,
                                        "unit_id": tree["sub"]["id"], "parent_id": tree["kasubid"]["id"],
                                        "valid_from": back}, headers=org.h)
    analis = org.ok(r)
    mid = (today - timedelta(days=10)).isoformat()
    changed = org.ok(client.patch(f"/positions/{analis['id']}", json={"kelas_jabatan": 9, "valid_from": mid}, headers=org.h), 200)
    assert (changed["version"], changed["valid_from"], changed["kelas_jabatan"]) == (2, mid, 9)
    moved = org.ok(client.patch(f"/positions/{analis['id']}", json={"parent_id": tree["kabid"]["id"],
                                                                    "unit_id": tree["bidang"]["id"]}, headers=org.h), 200)
    assert (moved["version"], moved["valid_from"]) == (3, today.isoformat())
    # Nothing changed: no version, no event.
    events = len(org.outbox())
    same = org.ok(client.patch(f"/positions/{analis['id']}", json={"kelas_jabatan": 9}, headers=org.h), 200)
    assert same["version"] == 3 and len(org.outbox()) == events
    # Before the version in force, or in the future: refused, nothing changes.
    for day, code in ((back, "before_current_version"), ((today + timedelta(days=1)).isoformat(), "future_change")):
        r = client.patch(f"/positions/{analis['id']}", json={"kelas_jabatan": 10, "valid_from": day}, headers=org.h)
        assert r.status_code == 422 and r.get_json()["error"]["code"] == code
    history = org.ok(client.get(f"/positions/{analis['id']}/history", headers=org.h), 200)["versions"]
    assert [(v["version"], v["valid_from"], v["kelas_jabatan"], v["parent_id"]) for v in history] == [
        (1, back, 8, tree["kasubid"]["id"]), (2, mid, 9, tree["kasubid"]["id"]), (3, today.isoformat(), 9, tree["kabid"]["id"])]
    assert all(v["recorded_by"] == org.account for v in history)
    on = client.get(f"/positions/{analis['id']}?date={(today - timedelta(days=20)).isoformat()}", headers=org.h).get_json()
    assert (on["version"], on["kelas_jabatan"]) == (1, 8)
    early = client.get(f"/positions/{analis['id']}?date={(today - timedelta(days=41)).isoformat()}", headers=org.h)
    assert early.status_code == 404 and early.get_json()["error"]["code"] == "not_yet_valid"
    updates = [d for t, d in org.outbox() if t == "position.updated" and d["position_id"] == analis["id"]]
    assert [(d["version"], d["valid_from"], d["active"]) for d in updates] == [(2, mid, True), (3, today.isoformat(), True)]
    assert all(POSITION_FIELDS <= set(d) for d in updates)
    assert [a.details["changed"] for a in org.audits("position.updated")] == [
        {"kelas_jabatan": [8, 9]}, {"unit_id": [tree["sub"]["id"], tree["bidang"]["id"]],
                                    "parent_id": [tree["kasubid"]["id"], tree["kabid"]["id"]]}]


def test_no_position_becomes_its_own_ancestor(org, client, tree):
    for parent in (tree["kadis"]["id"], tree["staff"]["id"]):
        target = tree["kadis"]["id"]
        r = client.patch(f"/positions/{target}", json={"parent_id": parent}, headers=org.h)
        assert r.status_code == 422 and r.get_json()["error"]["code"] == "cycle", parent
    r = client.patch(f"/positions/{tree['kabid']['id']}", json={"parent_id": str(uuid.uuid4())}, headers=org.h)
    assert r.status_code == 422 and "parent_id" in r.get_json()["error"]["fields"]
    with org.runtime.session_factory() as s:
        assert s.get(Position, tree["kadis"]["id"]).parent_id is None
        assert s.query(PositionHistory).count() == 4


def test_eselon_and_kind_are_checked_together(org, client, tree):
    r = client.post("/positions", json={"code": "KABID2", "name": "Kabid", "kind": "administrator", "kelas_jabatan": 20,
                                        "unit_id": tree["bidang"]["id"], "eselon": "II.a"}, headers=org.h)
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"eselon", "kelas_jabatan"}
    ok = org.position("KABID2", tree["bidang"]["id"], "administrator", 11, eselon="iii/a")
    assert ok["eselon"] == "III.a"


def test_a_held_position_is_not_abolished(org, client, tree):
    today = local_today()
    staff = tree["staff"]["id"]
    outcome, placement = org.placed(staff, (today - timedelta(days=100)).isoformat())
    assert outcome == "handled"
    r = client.delete(f"/positions/{staff}", headers=org.h)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "position_held"
    # The placement ends today: still held today.
    org.placed(staff, (today - timedelta(days=100)).isoformat(), today.isoformat(), placement_id=placement, version=2)
    assert client.delete(f"/positions/{staff}", headers=org.h).get_json()["error"]["code"] == "position_held"
    # Ended yesterday, but someone starts next month: held after today.
    org.placed(staff, (today - timedelta(days=100)).isoformat(), (today - timedelta(days=1)).isoformat(),
               placement_id=placement, version=3)
    _, future = org.placed(staff, (today + timedelta(days=30)).isoformat())
    assert client.delete(f"/positions/{staff}", headers=org.h).get_json()["error"]["code"] == "position_held"
    org.placed(staff, (today + timedelta(days=30)).isoformat(), (today + timedelta(days=29)).isoformat(),
               placement_id=future, version=2)  # cancelled: ends before it starts
    r = client.delete(f"/positions/{tree['kasubid']['id']}", headers=org.h)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "position_has_children"
    with org.runtime.session_factory() as s:
        assert all(p.active for p in s.query(Position)) and s.get(Position, staff).version == 1


def test_abolishing_retires_the_duties_and_announces_the_last_version(org, client, tree):
    staff = tree["staff"]["id"]
    kept = org.duty(staff, "Memelihara jaringan", 60, 100)
    org.duty(staff, "Memasang perangkat", 90)
    client.post(f"/duties/{kept['id']}/retire", headers=org.h)
    before = len(org.outbox())
    assert client.delete(f"/positions/{staff}", headers=org.h).status_code == 204
    events = org.outbox()[before:]
    assert [t for t, _ in events] == ["duty.retired", "position.updated"]
    _, last = events[-1]
    assert POSITION_FIELDS <= set(last)
    assert (last["active"], last["abolished"], last["version"]) == (False, True, 2)
    assert org.count(Duty, Duty.status == "published") == 0
    assert client.delete(f"/positions/{staff}", headers=org.h).status_code == 204 and len(org.outbox()) == before + 2
    codes = {p["code"] for p in client.get("/positions", headers=org.h).get_json()["positions"]}
    assert "PRANATA" not in codes
    assert any(p["code"] == "PRANATA" and p["active"] is False
               for p in client.get("/positions?status=all", headers=org.h).get_json()["positions"])
    history = client.get(f"/positions/{staff}/history", headers=org.h).get_json()["versions"]
    assert [v["active"] for v in history] == [True, False]
    # An abolished post takes no duties, no changes and no children, and its code stays taken.
    r = client.post(f"/positions/{staff}/duties", json={"description": "x", "output_unit": "y", "norma_waktu": 5}, headers=org.h)
    assert r.status_code == 409
    assert client.patch(f"/positions/{staff}", json={"kelas_jabatan": 8}, headers=org.h).status_code == 409
    r = client.patch(f"/positions/{tree['kadis']['id']}", json={"parent_id": staff}, headers=org.h)
    assert r.status_code == 422 and "parent_id" in r.get_json()["error"]["fields"]
    r = client.post("/positions", json={"code": "PRANATA", "name": "Baru", "kind": "pelaksana", "kelas_jabatan": 7,
                                        "unit_id": tree["sub"]["id"]}, headers=org.h)
    assert r.status_code == 409
    [record] = org.audits("position.abolished")
    assert record.actor_account_id == org.account and len(record.details["retired_duties"]) == 1
    # Now the subbidang has no active position but its head's: dissolving it is still refused.
    assert client.delete(f"/units/{tree['sub']['id']}", headers=org.h).status_code == 409


def test_yearly_volume_is_set_on_a_duty_and_announced(org, client, tree):
    d = org.duty(tree["staff"]["id"], "Memelihara jaringan", 60)
    assert d["yearly_volume"] is None
    changed = org.ok(client.patch(f"/duties/{d['id']}", json={"yearly_volume": 240}, headers=org.h), 200)
    assert (changed["yearly_volume"], changed["version"]) == (240, 2)
    kind, data = org.outbox()[-1]
    assert kind == "duty.published" and (data["yearly_volume"], data["version"], data["norma_waktu"]) == (240, 2, 60)
    bad = client.patch(f"/duties/{d['id']}", json={"yearly_volume": -1}, headers=org.h)
    assert bad.status_code == 422 and "yearly_volume" in bad.get_json()["error"]["fields"]
    client.post(f"/duties/{d['id']}/retire", headers=org.h)
    assert client.patch(f"/duties/{d['id']}", json={"yearly_volume": 1}, headers=org.h).get_json()["error"]["code"] == "duty_retired"
    dup = client.post(f"/positions/{tree['staff']['id']}/duties", json={"description": "memelihara  JARINGAN",
                                                                      "output_unit": "x", "norma_waktu": 5}, headers=org.h)
    assert dup.status_code == 201  # the first one is retired; a published twin would be refused
    again = client.post(f"/positions/{tree['staff']['id']}/duties", json={"description": "Memelihara jaringan",
                                                                        "output_unit": "x", "norma_waktu": 5}, headers=org.h)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "duplicate_duty"


def test_unit_changes_are_published_with_their_full_state(org, client):
    before = len(org.outbox())
    opd = org.unit("DISKOMINFO", name="Dinas Kominfo")
    bidang = org.unit("APTIKA", "bidang", opd["id"], name="Bidang Aptika")
    assert opd["version"] == 1
    assert org.outbox()[before:] == [
        ("unit.created", {"unit_id": opd["id"], "code": "DISKOMINFO", "name": "Dinas Kominfo", "kind": "opd",
                          "parent_id": None, "active": True, "version": 1}),
        ("unit.created", {"unit_id": bidang["id"], "code": "APTIKA", "name": "Bidang Aptika", "kind": "bidang",
                          "parent_id": opd["id"], "active": True, "version": 1}),
    ]
    renamed = org.ok(client.patch(f"/units/{bidang['id']}", json={"name": "Bidang Aplikasi Informatika"},
                                  headers=org.h), 200)
    assert renamed["version"] == 2
    assert org.outbox()[-1] == ("unit.updated", {"unit_id": bidang["id"], "code": "APTIKA",
                                                 "name": "Bidang Aplikasi Informatika", "kind": "bidang",
                                                 "parent_id": opd["id"], "active": True, "version": 2})
    # The same name again is no change and no event.
    events = len(org.outbox())
    org.ok(client.patch(f"/units/{bidang['id']}", json={"name": "Bidang Aplikasi Informatika"}, headers=org.h), 200)
    assert len(org.outbox()) == events
    # Dissolving is the last version, active false.
    assert client.delete(f"/units/{bidang['id']}", headers=org.h).status_code == 204
    assert org.outbox()[-1] == ("unit.updated", {"unit_id": bidang["id"], "code": "APTIKA",
                                                 "name": "Bidang Aplikasi Informatika", "kind": "bidang",
                                                 "parent_id": opd["id"], "active": False, "version": 3})
    # A refused change publishes nothing.
    events = len(org.outbox())
    org.unit("APTIKA-X", "bidang", opd["id"])
    r = client.post("/units", json={"code": "APTIKA-X", "name": "Lagi", "kind": "bidang", "parent_id": opd["id"]},
                    headers=org.h)
    assert r.status_code == 409 and len(org.outbox()) == events + 1
