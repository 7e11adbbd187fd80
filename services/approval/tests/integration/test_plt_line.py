"""Issue 12's Plt example through approval's own use cases: a head of division acting (Plt) over a
vacant section of the *other* division. For that section's staff the line goes on from the section's
post, so escalations and first-level appeals go to that division's head (who may also read the
evidence in activity), not to the Plt's own boss."""
from datetime import date

import pytest
from sqlalchemy import select

from approval import jobs
from approval.orm import Escalation


@pytest.fixture
def acting(org):
    """org (conftest) plus SEKSI under KABID2, vacant, with the kabid of the *first* division as its
    Plt, and dedi in STAFF4 under SEKSI."""
    org.position("SEKSI", "KABID2")
    org.position("STAFF4", "SEKSI")
    org.employee("dedi", "Dedi Kurniawan", nip="198609262015051009")
    org.place("dedi", "STAFF4")
    org.place("kabid", "SEKSI", kind="plt")
    return org


def test_escalation_goes_to_the_head_above_the_post_acted_in(api, runtime, acting):
    acting.submit("late", "dedi", day="2026-11-10")
    assert jobs.run(runtime, date(2026, 12, 6))["entries_escalated"] == 1
    with runtime.session_factory() as s:
        (esc,) = s.scalars(select(Escalation)).all()
    assert (esc.late_supervisor_id, esc.escalated_to) == (acting.id("kabid"), acting.id("kabid2"))
    assert [i["entry_id"] for i in api.get("/queue", "kabid2").get_json()["items"]] == [api.entry("late")]
    assert api.get("/queue", "kadis").get_json()["items"] == []


def test_the_first_level_of_an_appeal_is_the_head_above_the_post_acted_in(api, acting):
    acting.submit("r", "dedi", day="2026-11-10")
    r = api.post(f"/entries/{api.entry('r')}/reject", "kabid", json={"reason": "Tidak sesuai uraian tugas"})
    assert r.status_code == 200, r.get_json()
    r = api.post("/appeals", "dedi", json={"reasons": "Sudah sesuai uraian tugas seksi", "entry_ids": [api.entry("r")]})
    assert r.status_code == 201, r.get_json()
    (appeal,) = r.get_json()["appeals"]
    assert appeal["level"] == "first_level"
    assert appeal["first_level_decider_id"] == acting.id("kabid2")


def test_an_appeal_against_an_escalated_decision_goes_one_level_further(api, runtime, acting):
    acting.submit("x", "dedi", day="2026-11-10")
    jobs.run(runtime, date(2026, 12, 6))
    r = api.post(f"/entries/{api.entry('x')}/reject", "kabid2", json={"reason": "Bukti tidak ada"})
    assert r.status_code == 200, r.get_json()
    r = api.post("/appeals", "dedi", json={"reasons": "Bukti sudah diunggah", "entry_ids": [api.entry("x")]})
    assert r.status_code == 201, r.get_json()
    (appeal,) = r.get_json()["appeals"]
    assert appeal["original_decider_id"] == acting.id("kabid2")
    assert appeal["first_level_decider_id"] == acting.id("kadis")
