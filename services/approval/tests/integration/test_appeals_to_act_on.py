"""The appeals a person must act on (GET /appeals?needs_action=true, my_actions), with the names
of the people an appeal names: the employee escalates or adds evidence, the rejecting supervisor
comments once, the first level decides, then (after an escalation) a seated board member."""
import pytest

MAJELIS = ("pegawai", "majelis")


def reject(api, who, *keys):
    r = api.post("/decisions", who, json={"decision": "reject", "reason": "Bukti tidak ada",
                                          "entry_ids": [api.entry(k) for k in keys]})
    assert r.status_code == 200, r.get_json()


def listing(api, who, *roles, **params):
    r = api.get("/appeals", who, *roles, query_string=params)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["appeals"]


def actions(api, who, *roles):
    return [(a["id"], a["my_actions"]) for a in listing(api, who, *roles, needs_action="true")]


@pytest.fixture
def appeal(org, api):
    org.submit("1", "ani", day="2026-11-10")
    org.submit("2", "ani", day="2026-11-11")
    reject(api, "kabid", "1", "2")
    r = api.post("/appeals", "ani", json={"entry_ids": [api.entry("1"), api.entry("2")], "reasons": "Sudah ada bukti"})
    assert r.status_code == 201, r.get_json()
    org.employee("insp", "Inspektur Pembantu", nip="197001011995031001")
    assert api.post("/board/members", None, "admin_bkd", json={"employee_id": org.id("insp"),
                                                               "from_date": "2026-01-01"}).status_code == 201
    return r.get_json()["appeals"][0]["id"]


def test_each_party_sees_what_waits_for_them(api, appeal):
    (listed,) = listing(api, "ani")
    assert (listed["employee_name"], listed["original_decider_name"], listed["first_level_decider_name"]) == (
        "Ani Lestari", "Kabid Satu", "Kepala Dinas")
    assert listed["entry_count"] == 2 and listed["employee_nip"] == "198609262015051004"
    assert listed["entry_ids"] == [api.entry("1"), api.entry("2")]
    assert actions(api, "ani") == [(appeal, ["escalate", "add_evidence"])]
    assert actions(api, "kabid") == [(appeal, ["comment"])]
    assert actions(api, "kadis") == [(appeal, ["decide"])]
    assert actions(api, "insp", *MAJELIS) == []  # not at the board yet
    assert actions(api, "budi") == [] and listing(api, "budi") == []

    # The supervisor's comment is in: nothing waits for them any more, the appeal stays readable.
    assert api.post(f"/appeals/{appeal}/comments", "kabid", json={"text": "Tidak ada bukti"}).status_code == 201
    assert actions(api, "kabid") == [] and [a["id"] for a in listing(api, "kabid")] == [appeal]
    detail = api.get(f"/appeals/{appeal}", "kadis").get_json()
    assert detail["my_actions"] == ["decide"] and detail["comments"][0]["author_name"] == "Kabid Satu"
    assert [e["rejected_by_name"] for e in detail["entries"]] == ["Kabid Satu", "Kabid Satu"]

    # The first level upholds; the employee may still take it to the board.
    r = api.post(f"/appeals/{appeal}/decide", "kadis", json={"outcome": "upheld", "reasoning": "Bukti tidak ada"})
    assert r.status_code == 200, r.get_json()
    assert actions(api, "kadis") == [] and actions(api, "ani") == [(appeal, ["escalate"])]
    assert api.post(f"/appeals/{appeal}/escalate", "ani").status_code == 200
    assert actions(api, "ani") == [(appeal, ["add_evidence"])]
    assert actions(api, "insp", *MAJELIS) == [(appeal, ["decide"])]
    # The first level sat on it, so a board role would not seat them.
    assert actions(api, "kadis", *MAJELIS) == []
    trail = api.get(f"/appeals/{appeal}/trail", "insp", *MAJELIS).get_json()["trail"]
    assert [(t["step"], t["actor_name"]) for t in trail] == [
        ("filed", "Ani Lestari"), ("commented", "Kabid Satu"), ("decided", "Kepala Dinas"), ("escalated", "Ani Lestari")]

    r = api.post(f"/appeals/{appeal}/decide", "insp", *MAJELIS, json={"outcome": "overturned", "reasoning": "Bukti cukup"})
    assert r.status_code == 200, r.get_json()
    assert actions(api, "insp", *MAJELIS) == [] and actions(api, "ani") == []
    (done,) = listing(api, "ani", status="decided")
    assert (done["outcome"], done["decided_by_name"]) == ("overturned", "Inspektur Pembantu")


def test_needs_action_must_be_a_boolean(api, appeal):
    r = api.get("/appeals", "ani", query_string={"needs_action": "mungkin"})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"needs_action"}
