"""The read models added for attendance and evidence: employees (NIP -> id) and positions (the
parent links of the supervisor walk). Idempotent, deaf to stale versions, order-free."""
import uuid

from activity.orm import Employee, Position


def read(runtime, model, key):
    with runtime.session_factory() as s:
        return s.get(model, key)


def test_employee_versions(feed, runtime):
    env = feed.employee(name="Budi", version=1)
    emp = env.data["employee_id"]
    assert feed.consumer.apply(env) == "duplicate"
    feed.employee(emp, nip="199001012019032002", name="Budi S.", active=False, version=3, registered=False)
    feed.employee(emp, nip="198609262015051001", name="Budi lama", version=2, registered=False)  # late
    row = read(runtime, Employee, emp)
    assert (row.nip, row.name, row.active, row.version) == ("199001012019032002", "Budi S.", False, 3)


def test_position_versions_and_parent_before_child(feed, runtime):
    child, parent = str(uuid.uuid4()), str(uuid.uuid4())
    feed.position(child, parent_id=parent)  # the child's event may come first
    feed.position(parent)
    assert read(runtime, Position, child).parent_id == parent
    feed.position(child, parent_id=None, version=3, created=False)
    feed.position(child, parent_id=parent, version=2, created=False)  # late
    row = read(runtime, Position, child)
    assert (row.parent_id, row.version) == (None, 3)


def test_a_shared_nip_is_refused_by_the_import_not_by_the_consumer(client, keys, feed):
    nip = "198609262015051099"
    feed.employee(nip=nip)
    feed.employee(nip=nip)  # a NIP correction still on its way
    text = f"nip,date,check_in,check_out\n{nip},2026-10-05,07:30,16:00\n"
    r = client.post("/attendance/import", data=text.encode(), headers=keys.headers("b", "admin_bkd"), content_type="text/csv")
    assert r.status_code == 422 and "several" in r.get_json()["error"]["fields"]["lines.2.nip"]["message_en"]


def test_openapi_lists_the_new_endpoints(client):
    paths = set(client.get("/openapi.json").get_json()["paths"])
    assert {"/entries/batch", "/entries/{entry_id}/submit", "/entries/{entry_id}/evidence", "/evidence/{evidence_id}",
            "/me/month", "/calendar/{year}", "/calendar/{year}/history", "/attendance", "/attendance/import",
            "/attendance/records", "/attendance/leave", "/attendance/leave/{leave_id}", "/attendance/close-day",
            "/attendance/devices", "/attendance/{employee_id}/{day}"} <= paths
