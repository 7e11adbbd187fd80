"""My team's month (GET /team/month): who is on the supervisor's team (the supervisor rule, day by
day), each member's month as they see it themselves, what waits since when, who entered nothing
this week; wrong callers see nothing and change nothing."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from activity.orm import Entry, MonthSummary


@pytest.fixture
def team(feed, world):
    """kabag > kasubbag (the supervisor) > [the world's employee "ani", "budi", a vacant post with
    "citra" below it, a held post (kasi) with "dodi" below it]."""
    ids = {k: str(uuid.uuid4()) for k in ("kabag", "kasubbag", "kasi", "budi", "citra", "dodi",
                                          "P:kabag", "P:kasubbag", "P:budi", "P:vacant", "P:citra", "P:kasi", "P:dodi")}
    ids["ani"] = world.employee_id
    feed.position(ids["P:kabag"])
    feed.position(ids["P:kasubbag"], parent_id=ids["P:kabag"])
    for child, parent in [(world.position_id, "P:kasubbag"), (ids["P:budi"], "P:kasubbag"), (ids["P:vacant"], "P:kasubbag"),
                          (ids["P:citra"], "P:vacant"), (ids["P:kasi"], "P:kasubbag"), (ids["P:dodi"], "P:kasi")]:
        feed.position(child, parent_id=ids[parent])
    since = world.today - timedelta(days=100)
    for who in ("kabag", "kasubbag", "kasi", "budi", "citra", "dodi"):
        feed.placement(ids[who], ids[f"P:{who}"], since)
    names = {"ani": "Ani Lestari", "budi": "Budi Santoso", "citra": "Citra Dewi", "dodi": "Dodi", "kasubbag": "Kasubbag",
             "kasi": "Kasi Pelayanan"}
    for who, name in names.items():
        feed.employee(ids[who], name=name)
    return ids


def month_of(client, keys, who, month=None):
    r = client.get("/team/month", query_string={"month": month} if month else {}, headers=keys.headers(who, "pegawai"))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def submit(client, keys, world, start, end, volume=2):
    r = client.post("/entries", json={"date": world.today.isoformat(), "start_time": start, "end_time": end,
                                      "duty_id": world.duty_id, "volume": volume, "description": "Menyusun laporan"},
                    headers=keys.headers(world.employee_id, "pegawai"))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_the_team_is_who_the_supervisor_supervises(client, keys, team, world):
    body = month_of(client, keys, team["kasubbag"])
    # Citra sits below a vacant post: hers too. Dodi has his own kasi above him (the kasi is ours).
    assert [m["name"] for m in body["members"]] == ["Ani Lestari", "Budi Santoso", "Citra Dewi", "Kasi Pelayanan"]
    assert [m["name"] for m in month_of(client, keys, team["kasi"])["members"]] == ["Dodi"]
    assert [m["employee_id"] for m in month_of(client, keys, team["kabag"])["members"]] == [team["kasubbag"]]
    assert month_of(client, keys, world.employee_id)["members"] == []  # supervises nobody


def test_each_members_month_and_what_waits(client, keys, team, world, feed, consistent):
    a = submit(client, keys, world, "08:00", "09:00")          # 60 min, approved below
    submit(client, keys, world, "09:00", "10:00")               # 60 min, pending
    r = submit(client, keys, world, "10:00", "10:30", volume=1)  # 30 min, rejected below
    feed.consumer.apply(feed.decision("activity.approved", a, 2))
    feed.consumer.apply(feed.decision("activity.rejected", r, 2, reason="Tidak sesuai"))
    draft = client.post("/entries", json={"date": world.today.isoformat(), "start_time": "13:00", "end_time": "14:00",
                                          "duty_id": world.duty_id, "volume": 2, "description": "Draf", "submit": False},
                        headers=keys.headers(world.employee_id, "pegawai"))
    assert draft.status_code == 201
    body = month_of(client, keys, team["kasubbag"])
    assert body["month"] == world.today.strftime("%Y-%m") and body["target_minutes"] == body["working_days"] * 300
    assert body["this_week"]["to"] == world.today.isoformat()
    ani = next(m for m in body["members"] if m["employee_id"] == world.employee_id)
    assert ani["days_filled"] == 1 and ani["minutes"] == {"approved": 60, "pending": 60, "returned": 0, "rejected": 30}
    assert (ani["pending_entries"], ani["oldest_pending_date"], ani["oldest_pending_days"]) == (1, world.today.isoformat(), 0)
    assert (ani["rejected_entries"], ani["returned_entries"], ani["entries_this_week"]) == (1, 0, 3)  # not the draft
    target = body["target_minutes"]
    assert ani["productivity_pct"] == (f"{60 * 100 / target:.2f}" if target else None)
    budi = next(m for m in body["members"] if m["name"] == "Budi Santoso")
    assert budi["entries_this_week"] == 0 and budi["days_filled"] == 0 and budi["minutes"]["approved"] == 0
    assert body["totals"]["members"] == 4 and body["totals"]["nothing_this_week"] == 3
    assert body["totals"]["approved_minutes"] == 60 and body["totals"]["pending_entries"] == 1
    consistent()


def test_a_member_who_moved_stays_on_the_team_of_the_months_he_was_in_it(client, keys, team, world, feed):
    # Eko held a post under the supervisor until the end of last month, and one under the kasi since.
    first = world.today.replace(day=1)
    previous = (first - timedelta(days=1)).strftime("%Y-%m")
    eko = str(uuid.uuid4())
    feed.employee(eko, name="Eko Saputra")
    feed.placement(eko, team["P:budi"], first - timedelta(days=100), end=first - timedelta(days=1))
    feed.placement(eko, team["P:dodi"], first)
    assert "Eko Saputra" in [m["name"] for m in month_of(client, keys, team["kasubbag"], previous)["members"]]
    assert "Eko Saputra" not in [m["name"] for m in month_of(client, keys, team["kasubbag"])["members"]]
    assert "Eko Saputra" in [m["name"] for m in month_of(client, keys, team["kasi"])["members"]]


def test_wrong_callers_learn_nothing_and_change_nothing(client, keys, team, world, runtime):
    submit(client, keys, world, "08:00", "09:00")

    def state():
        with runtime.session_factory() as s:
            return (sorted((e.id, e.status, e.version) for e in s.scalars(select(Entry))),
                    sorted((m.employee_id, m.pending_minutes) for m in s.scalars(select(MonthSummary))))

    before = state()
    assert client.get("/team/month").status_code == 401
    for roles in (("admin_bkd",), ("bpkad",), ("organisasi",), ("majelis",)):
        # The supervisor's own person with another role is refused: the team is a pegawai's.
        r = client.get("/team/month", headers=keys.headers(team["kasubbag"], *roles))
        assert r.status_code == 403, roles
    r = client.get("/team/month", headers=keys.headers(None, "pegawai"))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "no_employee"
    for stranger in (team["dodi"], world.employee_id, str(uuid.uuid4())):
        assert month_of(client, keys, stranger)["members"] == []
    assert client.post("/team/month", headers=keys.headers(team["kasubbag"], "pegawai")).status_code == 405
    bad = client.get("/team/month", query_string={"month": "2026-13"}, headers=keys.headers(team["kasubbag"], "pegawai"))
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"month"}
    assert state() == before
