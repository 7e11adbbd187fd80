"""Evidence files: accepted by content, stored outside the database under random names, served
only to the employee, their supervisor(s) on the entry's date and the appeals board."""
import io
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from activity.domain import EntryRules
from activity.orm import Evidence, Placement

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(32)


@dataclass
class Org:
    supervisor: str
    above: str
    colleague: str


@pytest.fixture
def org(feed, world) -> Org:
    """staf (the employee, and a colleague) -> kasubbag (supervisor) -> kabag (above)."""
    kasubbag, kabag = str(uuid.uuid4()), str(uuid.uuid4())
    feed.position(kabag)
    feed.position(kasubbag, parent_id=kabag)
    feed.position(world.position_id, parent_id=kasubbag)
    since = world.today - timedelta(days=100)
    org = Org(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))
    feed.placement(org.supervisor, kasubbag, since)
    feed.placement(org.above, kabag, since)
    feed.placement(org.colleague, world.position_id, since)
    return org


def entry(client, keys, world, **kw):
    body = {"date": world.today.isoformat(), "start_time": "08:00", "end_time": "10:00", "duty_id": world.duty_id,
            "volume": 3, "description": "Rapat koordinasi", **kw}
    r = client.post("/entries", json=body, headers=keys.headers(world.employee_id, "pegawai"))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def upload(client, headers, entry_id, data, name):
    return client.post(f"/entries/{entry_id}/evidence", data={"file": (io.BytesIO(data), name)}, headers=headers,
                       content_type="multipart/form-data")


def files(evidence_dir):
    return sorted(p for p in evidence_dir.rglob("*") if p.is_file()) if evidence_dir.exists() else []


def rows(runtime):
    with runtime.session_factory() as s:
        return s.scalar(select(func.count()).select_from(Evidence))


def test_upload_stores_the_file_outside_the_database_under_a_random_name(client, keys, world, evidence_dir, runtime):
    e = entry(client, keys, world)
    r = upload(client, keys.headers(world.employee_id, "pegawai"), e["id"], PDF, "undangan rapat.pdf")
    assert r.status_code == 201, r.get_json()
    ev = r.get_json()
    assert (ev["filename"], ev["content_type"], ev["size_bytes"], ev["entry_id"]) == ("undangan rapat.pdf", "application/pdf", len(PDF), e["id"])
    [stored] = files(evidence_dir)
    assert stored.name == ev["id"] and "undangan" not in str(stored) and stored.read_bytes() == PDF
    with runtime.engine.connect() as conn:  # the bytes are not in any column
        assert conn.execute(select(Evidence.sha256)).scalar() == __import__("hashlib").sha256(PDF).hexdigest()


@pytest.mark.parametrize("who", ["owner", "supervisor", "above", "majelis"])
def test_the_audience_gets_the_file(client, keys, world, org, who):
    e = entry(client, keys, world)
    ev = upload(client, keys.headers(world.employee_id, "pegawai"), e["id"], PNG, "foto.png").get_json()
    headers = {"owner": keys.headers(world.employee_id, "pegawai"), "supervisor": keys.headers(org.supervisor, "pegawai"),
               "above": keys.headers(org.above, "pegawai"), "majelis": keys.headers("board-1", "pegawai", "majelis")}[who]
    r = client.get(f"/evidence/{ev['id']}", headers=headers)
    assert r.status_code == 200 and r.data == PNG
    assert r.headers["Content-Type"] == "image/png" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in r.headers["Content-Disposition"] and "no-store" in r.headers["Cache-Control"]
    listed = client.get(f"/entries/{e['id']}/evidence", headers=headers)
    assert listed.status_code == 200 and [x["id"] for x in listed.get_json()["evidence"]] == [ev["id"]]


@pytest.mark.parametrize("who", ["colleague", "stranger", "admin_bkd", "anonymous"])
def test_nobody_else_learns_anything(client, keys, world, org, who):
    e = entry(client, keys, world)
    ev = upload(client, keys.headers(world.employee_id, "pegawai"), e["id"], PNG, "foto.png").get_json()
    headers = {"colleague": keys.headers(org.colleague, "pegawai"), "stranger": keys.headers("x-1", "pegawai"),
               "admin_bkd": keys.headers("bkd-1", "pegawai", "admin_bkd"), "anonymous": {}}[who]
    expected = 401 if who == "anonymous" else 404
    assert client.get(f"/evidence/{ev['id']}", headers=headers).status_code == expected
    assert client.get(f"/entries/{e['id']}/evidence", headers=headers).status_code == expected
    assert client.get(f"/evidence/{'0' * 32}", headers=keys.headers(world.employee_id, "pegawai")).status_code == 404


def test_the_supervisor_is_the_one_of_the_entrys_date(client, keys, world, org, feed):
    """The supervisor left the post yesterday; whoever holds it today sees today's evidence."""
    with feed.consumer.session_factory() as s:
        held = s.scalars(select(Placement).where(Placement.employee_id == org.supervisor)).one()
    kasubbag = held.position_id
    feed.placement(org.supervisor, kasubbag, held.start_date, world.today - timedelta(days=1), version=2,
                   placement_id=held.placement_id)
    successor = str(uuid.uuid4())
    feed.placement(successor, kasubbag, world.today, kind="plt")
    e = entry(client, keys, world)
    ev = upload(client, keys.headers(world.employee_id, "pegawai"), e["id"], PDF, "a.pdf").get_json()
    assert client.get(f"/evidence/{ev['id']}", headers=keys.headers(org.supervisor, "pegawai")).status_code == 404
    assert client.get(f"/evidence/{ev['id']}", headers=keys.headers(successor, "pegawai")).status_code == 200


@pytest.mark.parametrize("name, data, code, status", [
    ("surat.pdf", b"MZ\x90\x00this is an exe", "evidence_type", 422),
    ("gambar.gif", b"GIF89a" + bytes(20), "evidence_type", 422),
    ("foto.pdf", PNG, "evidence_type", 422),
    ("kosong.pdf", b"", "validation_failed", 422),
])
def test_refused_files_leave_nothing_behind(client, keys, world, evidence_dir, runtime, name, data, code, status):
    e = entry(client, keys, world)
    r = upload(client, keys.headers(world.employee_id, "pegawai"), e["id"], data, name)
    assert r.status_code == status and r.get_json()["error"]["code"] == code
    assert set(r.get_json()["error"]["fields"]) == {"file"}
    assert files(evidence_dir) == [] and rows(runtime) == 0


def test_size_limit(client, keys, world, evidence_dir, runtime, app):
    e = entry(client, keys, world)
    h = keys.headers(world.employee_id, "pegawai")
    big = PDF + b"0" * (5 * 1024 * 1024)
    r = upload(client, h, e["id"], big, "besar.pdf")
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "evidence_too_large"
    assert "5 MB" in r.get_json()["error"]["message"]
    exact = PDF + b"0" * (5 * 1024 * 1024 - len(PDF))
    assert upload(client, h, e["id"], exact, "pas.pdf").status_code == 201
    assert len(files(evidence_dir)) == 1 and rows(runtime) == 1


def test_no_file_field(client, keys, world):
    e = entry(client, keys, world)
    r = client.post(f"/entries/{e['id']}/evidence", data={"other": "x"}, headers=keys.headers(world.employee_id, "pegawai"),
                    content_type="multipart/form-data")
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"file"}


def test_at_most_n_files_per_entry(client, keys, world, app):
    app.extensions["activity_policy"] = EntryRules(evidence_max_files=2)
    e = entry(client, keys, world)
    h = keys.headers(world.employee_id, "pegawai")
    assert upload(client, h, e["id"], PDF, "1.pdf").status_code == 201
    assert upload(client, h, e["id"], JPEG, "2.jpg").status_code == 201
    r = upload(client, h, e["id"], PDF, "3.pdf")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "too_many_evidence"


def test_only_the_owner_attaches_and_only_while_undecided(client, keys, world, org, feed, evidence_dir):
    e = entry(client, keys, world)
    assert upload(client, keys.headers(org.supervisor, "pegawai"), e["id"], PDF, "a.pdf").status_code == 404
    feed.consumer.apply(feed.decision("activity.approved", e, version=2))
    r = upload(client, keys.headers(world.employee_id, "pegawai"), e["id"], PDF, "a.pdf")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_editable"
    assert files(evidence_dir) == []


def test_removing_evidence_and_deleting_a_draft_remove_the_files(client, keys, world, evidence_dir, runtime, feed):
    h = keys.headers(world.employee_id, "pegawai")
    e = entry(client, keys, world)
    first = upload(client, h, e["id"], PDF, "a.pdf").get_json()
    second = upload(client, h, e["id"], PNG, "b.png").get_json()
    assert client.delete(f"/entries/{e['id']}/evidence/{first['id']}", headers=h).status_code == 204
    assert [p.name for p in files(evidence_dir)] == [second["id"]]
    assert client.delete(f"/entries/{e['id']}/evidence/{first['id']}", headers=h).status_code == 404
    draft = entry(client, keys, world, start_time="13:00", end_time="14:00", submit=False)
    upload(client, h, draft["id"], JPEG, "c.jpg")
    assert client.delete(f"/entries/{draft['id']}", headers=h).status_code == 204
    assert [p.name for p in files(evidence_dir)] == [second["id"]] and rows(runtime) == 1
    feed.consumer.apply(feed.decision("activity.approved", e, version=2))
    assert client.delete(f"/entries/{e['id']}/evidence/{second['id']}", headers=h).status_code == 409


def test_a_plt_line_everyone_who_may_decide_sees_the_evidence_and_nobody_else(client, keys, world, feed):
    """Issue 12's Plt example: the head of division A acts (Plt) over the vacant section above the
    employee, in division B. Everyone who may have to decide on the entry sees its evidence: the
    Plt (supervisor), division B's head (escalations, first-level appeals: the shared rule
    continues from the post acted in) and the Kepala Dinas (the first level of an appeal against
    a decision division B's head took after an escalation). Division A's staff do not."""
    kadis, bidang_a, bidang_b, seksi, staf_a = (str(uuid.uuid4()) for _ in range(5))
    feed.position(kadis)
    feed.position(bidang_a, parent_id=kadis)
    feed.position(bidang_b, parent_id=kadis)
    feed.position(seksi, parent_id=bidang_b)
    feed.position(staf_a, parent_id=bidang_a)
    feed.position(world.position_id, parent_id=seksi)
    since = world.today - timedelta(days=100)
    people = {name: str(uuid.uuid4()) for name in ("kadis", "kabid_a", "kabid_b", "staf_a")}
    feed.placement(people["kadis"], kadis, since)
    feed.placement(people["kabid_a"], bidang_a, since)
    feed.placement(people["kabid_b"], bidang_b, since)
    feed.placement(people["kabid_a"], seksi, since, kind="plt")
    feed.placement(people["staf_a"], staf_a, since)
    e = entry(client, keys, world)
    ev = upload(client, keys.headers(world.employee_id, "pegawai"), e["id"], PNG, "foto.png").get_json()
    for who, status in (("kabid_a", 200), ("kabid_b", 200), ("kadis", 200), ("staf_a", 404)):
        assert client.get(f"/evidence/{ev['id']}", headers=keys.headers(people[who], "pegawai")).status_code == status, who
