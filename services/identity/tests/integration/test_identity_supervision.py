"""Ending placements, who may read whose record (self, subordinates today, Plt of a vacant post),
and the position read model under late and repeated events — against real PostgreSQL."""
import uuid
from datetime import timedelta

from sqlalchemy import select

from identity.orm import Placement, PositionRef
from ekinerja_common.clock import today as local_today

KADIS, KABID, STAFF, OTHER = (str(uuid.uuid4()) for _ in range(4))
NIPS = {"kadis": "197103141996031002", "kabid": "198007222005012003", "staff": "198802172011032001",
        "other": "199209092017121002", "plt": "197811052003121001"}


def structure(api):
    api.deliver_position(KADIS, name="Kepala Dinas")
    api.deliver_position(KABID, name="Kepala Bidang", parent_id=KADIS)
    api.deliver_position(STAFF, name="Pranata Komputer", parent_id=KABID)
    api.deliver_position(OTHER, name="Analis", parent_id=KADIS)


def place(client, h, employee_id, position_id, start, kind="definitive", end=None):
    r = client.post(f"/employees/{employee_id}/placements",
                    json={"position_id": position_id, "start_date": start, "end_date": end, "kind": kind}, headers=h)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_ending_a_placement_publishes_it_again_with_a_higher_version(api, client, admin, admin_h):
    structure(api)
    e = api.register(admin_h)
    p = place(client, admin_h, e["id"], STAFF, "2025-01-01")
    r = client.post(f"/placements/{p['id']}/end", json={"end_date": "2025-12-31"}, headers=admin_h)
    assert r.status_code == 200 and (r.get_json()["end_date"], r.get_json()["version"]) == ("2025-12-31", 2)
    kind, data = api.outbox()[-1]
    assert kind == "employee.placed"
    assert data == {"placement_id": p["id"], "employee_id": e["id"], "position_id": STAFF, "start_date": "2025-01-01",
                    "end_date": "2025-12-31", "kind": "definitive", "version": 2}
    [record] = api.audits("placement.ended")
    assert record.actor_account_id == admin["account"]["id"] and record.details["previous_end_date"] is None
    # The same end again changes nothing and sends nothing.
    events = len(api.outbox())
    assert client.post(f"/placements/{p['id']}/end", json={"end_date": "2025-12-31"}, headers=admin_h).get_json()["version"] == 2
    assert len(api.outbox()) == events
    # Before its start: refused, nothing changes.
    bad = client.post(f"/placements/{p['id']}/end", json={"end_date": "2024-12-31"}, headers=admin_h)
    assert bad.status_code == 422 and "end_date" in bad.get_json()["error"]["fields"]
    assert client.post(f"/placements/{uuid.uuid4()}/end", json={"end_date": "2025-12-31"}, headers=admin_h).status_code == 404


def test_a_plt_is_extended_but_cannot_be_reopened_over_a_later_placement(api, client, admin_h):
    structure(api)
    e = api.register(admin_h)
    plt = place(client, admin_h, e["id"], KABID, "2025-01-01", kind="plt", end="2025-03-31")
    place(client, admin_h, e["id"], KABID, "2025-07-01", kind="plt")
    extended = client.patch(f"/placements/{plt['id']}", json={"end_date": "2025-06-30"}, headers=admin_h)
    assert extended.status_code == 200 and extended.get_json()["version"] == 2
    reopened = client.patch(f"/placements/{plt['id']}", json={"end_date": None}, headers=admin_h)
    assert reopened.status_code == 409 and reopened.get_json()["error"]["code"] == "overlapping_placement"
    with api.runtime.session_factory() as s:
        assert s.get(Placement, plt["id"]).end_date.isoformat() == "2025-06-30"


def test_nobody_but_admin_bkd_changes_placements(api, client, admin_h):
    structure(api)
    me, user = api.make_user(admin_h, "budi.santoso", roles=["organisasi"])
    p = place(client, admin_h, me["id"], STAFF, "2025-01-01")
    events = len(api.outbox())
    h = api.bearer(user)
    for r in (client.post(f"/placements/{p['id']}/end", json={"end_date": "2025-06-30"}, headers=h),
              client.patch(f"/placements/{p['id']}", json={"end_date": "2025-06-30"}, headers=h)):
        assert r.status_code == 403
    assert len(api.outbox()) == events


def test_an_abolished_position_takes_no_new_placements(api, client, admin_h):
    structure(api)
    e = api.register(admin_h)
    api.deliver_position(STAFF, version=2, event="position.updated", parent_id=KABID, active=False, abolished=True)
    r = client.post(f"/employees/{e['id']}/placements",
                    json={"position_id": STAFF, "start_date": "2025-01-01", "kind": "definitive"}, headers=admin_h)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "abolished_position"


def test_supervisors_read_the_records_of_the_people_they_supervise_today(api, client, admin_h):
    structure(api)
    today = local_today()
    start = (today - timedelta(days=30)).isoformat()
    kadis, kadis_login = api.make_user(admin_h, "kadis", nip=NIPS["kadis"], name="Bambang")
    kabid, kabid_login = api.make_user(admin_h, "kabid", nip=NIPS["kabid"], name="Rina")
    staff, staff_login = api.make_user(admin_h, "staff", nip=NIPS["staff"], name="Dewi")
    other = api.register(admin_h, nip=NIPS["other"], name="Yusuf")
    place(client, admin_h, kadis["id"], KADIS, start)
    kabid_placement = place(client, admin_h, kabid["id"], KABID, start)
    place(client, admin_h, staff["id"], STAFF, start)
    place(client, admin_h, other["id"], OTHER, start)

    def visible(login):
        return {e["name"] for e in client.get("/employees", headers=api.bearer(login)).get_json()["items"]}

    assert visible(kabid_login) == {"Rina", "Dewi"}
    assert visible(kadis_login) == {"Bambang", "Rina", "Yusuf"}  # direct reports only
    assert visible(staff_login) == {"Dewi"}
    assert client.get(f"/employees/{staff['id']}", headers=api.bearer(kabid_login)).status_code == 200
    for reader, target in ((staff_login, kabid), (kabid_login, other), (kadis_login, staff)):
        r = client.get(f"/employees/{target['id']}", headers=api.bearer(reader))
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    sup = client.get(f"/employees/{staff['id']}/supervisor", headers=api.bearer(staff_login)).get_json()
    assert sup["supervisor"]["name"] == "Rina" and sup["position_id"] == KABID and sup["acting"] is False

    # Rina's placement ends yesterday: KABID is vacant, and Bambang (KADIS) is made its Plt.
    yesterday = (today - timedelta(days=1)).isoformat()
    assert client.post(f"/placements/{kabid_placement['id']}/end", json={"end_date": yesterday},
                       headers=admin_h).status_code == 200
    assert visible(kabid_login) == {"Rina"}
    assert client.get(f"/employees/{staff['id']}", headers=api.bearer(kabid_login)).status_code == 403
    # Nobody acts yet: the vacant post is skipped and the head above supervises.
    assert "Dewi" in visible(kadis_login)
    plt = api.register(admin_h, nip=NIPS["plt"], name="Agus")
    place(client, admin_h, plt["id"], OTHER, start)
    place(client, admin_h, plt["id"], KABID, today.isoformat(), kind="plt")
    sup = client.get(f"/employees/{staff['id']}/supervisor", headers=admin_h).get_json()
    assert sup["supervisor"]["name"] == "Agus" and sup["acting"] is True
    past = client.get(f"/employees/{staff['id']}/supervisor?date={start}", headers=admin_h).get_json()
    assert past["supervisor"]["name"] == "Rina" and past["acting"] is False
    assert "Dewi" not in visible(kadis_login)
    bad = client.get(f"/employees/{staff['id']}/supervisor?date=kemarin", headers=admin_h)
    assert bad.status_code == 422 and "date" in bad.get_json()["error"]["fields"]


def test_parent_links_follow_position_events_late_or_twice(api, client, admin_h, runtime):
    structure(api)
    today = local_today()
    start = (today - timedelta(days=10)).isoformat()
    kabid, kabid_login = api.make_user(admin_h, "kabid", nip=NIPS["kabid"], name="Rina")
    staff = api.register(admin_h, nip=NIPS["staff"], name="Dewi")
    place(client, admin_h, kabid["id"], KABID, start)
    place(client, admin_h, staff["id"], STAFF, start)
    assert client.get(f"/employees/{staff['id']}", headers=api.bearer(kabid_login)).status_code == 200
    # Organization moves STAFF under OTHER (version 2); the same message arrives twice and the
    # older version 1 arrives late: neither undoes the move.
    message = str(uuid.uuid4())
    assert api.deliver_position(STAFF, version=2, event="position.updated", parent_id=OTHER, envelope_id=message) == "handled"
    assert api.deliver_position(STAFF, version=2, event="position.updated", parent_id=OTHER, envelope_id=message) == "duplicate"
    assert api.deliver_position(STAFF, version=1, parent_id=KABID) == "handled"
    with runtime.session_factory() as s:
        ref = s.get(PositionRef, STAFF)
        assert (ref.parent_id, ref.version, ref.active) == (OTHER, 2, True)
    assert client.get(f"/employees/{staff['id']}", headers=api.bearer(kabid_login)).status_code == 403
    # An update that arrives before its create is kept; the create, older, changes nothing.
    new = str(uuid.uuid4())
    api.deliver_position(new, version=3, event="position.updated", parent_id=KADIS, name="Nama Baru", code="BARU")
    api.deliver_position(new, version=1, name="Nama Lama", code="LAMA")
    with runtime.session_factory() as s:
        assert s.execute(select(PositionRef.code, PositionRef.name, PositionRef.parent_id)
                         .where(PositionRef.position_id == new)).one() == ("BARU", "Nama Baru", KADIS)
