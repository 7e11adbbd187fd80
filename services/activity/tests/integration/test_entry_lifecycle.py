"""Drafts, edits, (re)submission, withdrawal, deletion, batches, locked months and the month
summary, against a real PostgreSQL database."""
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from activity.domain import EntryRules
from activity.orm import Entry


def body(world, **kw) -> dict:
    return {"date": world.today.isoformat(), "start_time": "08:00", "end_time": "10:00", "duty_id": world.duty_id,
            "volume": 3, "description": "Menyusun laporan bulanan", **kw}


def h(keys, world):
    return keys.headers(world.employee_id, "pegawai")


def create(client, keys, world, **kw):
    r = client.post("/entries", json=body(world, **kw), headers=h(keys, world))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def count(runtime) -> int:
    with runtime.session_factory() as s:
        return s.scalar(select(func.count()).select_from(Entry))


def types(outbox):
    return [(e["type"], e["data"]["version"]) for e in outbox()]


def decide(feed, event_type, entry, version, reason=None, decided_at=None):
    env = feed.decision(event_type, entry, version, reason=reason)
    if decided_at is not None:
        env.data["decided_at"] = decided_at.isoformat()
    return feed.consumer.apply(env)


# -- drafts -----------------------------------------------------------------------------------

def test_a_draft_is_kept_unannounced_until_submitted(client, keys, world, outbox, month, consistent):
    draft = create(client, keys, world, submit=False)
    assert (draft["status"], draft["version"], draft["credited_minutes"]) == ("draft", 1, 90)
    assert outbox() == []
    assert month(world.employee_id)["minutes"] == {"approved": 0, "pending": 0, "returned": 0, "rejected": 0, "draft": 90}
    r = client.post(f"/entries/{draft['id']}/submit", headers=h(keys, world))
    assert r.status_code == 200 and (r.get_json()["status"], r.get_json()["version"]) == ("submitted", 2)
    [event] = outbox()
    assert event["type"] == "activity.submitted" and event["data"]["version"] == 2
    assert event["data"]["entry_id"] == draft["id"] and event["data"]["credited_minutes"] == 90
    assert month(world.employee_id)["minutes"]["pending"] == 90 and month(world.employee_id)["minutes"]["draft"] == 0
    again = client.post(f"/entries/{draft['id']}/submit", headers=h(keys, world))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_submittable"
    consistent()


def test_a_draft_claims_its_slot_and_is_checked_like_a_submission(client, keys, world, runtime):
    create(client, keys, world, submit=False)
    r = client.post("/entries", json=body(world, start_time="09:00", end_time="11:00"), headers=h(keys, world))
    assert r.status_code == 422 and "start_time" in r.get_json()["error"]["fields"]
    r = client.post("/entries", json=body(world, submit=False, volume=0, start_time="13:00", end_time="14:00"),
                    headers=h(keys, world))
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"volume"}
    r = client.post("/entries", json=body(world, submit="no"), headers=h(keys, world))
    assert r.status_code == 422 and "submit" in r.get_json()["error"]["fields"]
    assert count(runtime) == 1


def test_submitting_a_draft_rechecks_the_duty(client, keys, world, feed, runtime, outbox):
    draft = create(client, keys, world, submit=False)
    feed.retire(world.duty_id, world.position_id)
    r = client.post(f"/entries/{draft['id']}/submit", headers=h(keys, world))
    assert r.status_code == 422 and "duty_id" in r.get_json()["error"]["fields"]
    assert outbox() == []


def test_only_drafts_can_be_deleted(client, keys, world, runtime, outbox, consistent):
    draft = create(client, keys, world, submit=False)
    sent = create(client, keys, world, start_time="13:00", end_time="14:00")
    assert client.delete(f"/entries/{draft['id']}", headers=h(keys, world)).status_code == 204
    assert client.get(f"/entries/{draft['id']}", headers=h(keys, world)).status_code == 404
    r = client.delete(f"/entries/{sent['id']}", headers=h(keys, world))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_deletable"
    stranger = keys.headers("someone-else", "pegawai")
    assert client.delete(f"/entries/{sent['id']}", headers=stranger).status_code == 404
    assert count(runtime) == 1 and [t for t, _ in types(outbox)] == ["activity.submitted"]
    consistent()


# -- editing ----------------------------------------------------------------------------------

def test_editing_a_pending_entry_announces_it_again_with_a_version_jump(client, keys, world, outbox, month, consistent):
    entry = create(client, keys, world)
    r = client.put(f"/entries/{entry['id']}", json=body(world, end_time="09:00", volume=1), headers=h(keys, world))
    assert r.status_code == 200, r.get_json()
    edited = r.get_json()
    assert (edited["status"], edited["version"], edited["credited_minutes"], edited["end_time"]) == ("submitted", 3, 30, "09:00")
    assert types(outbox) == [("activity.submitted", 1), ("activity.submitted", 3)]
    assert outbox()[-1]["data"]["credited_minutes"] == 30 and outbox()[-1]["data"]["end_time"] == "09:00"
    assert month(world.employee_id)["minutes"]["pending"] == 30
    # The same content again is not a change: no version, no event.
    same = client.put(f"/entries/{entry['id']}", json=body(world, end_time="09:00", volume=1), headers=h(keys, world))
    assert same.status_code == 200 and same.get_json()["version"] == 3 and len(outbox()) == 2
    consistent()


def test_an_edit_is_checked_against_the_other_entries_but_not_itself(client, keys, world, runtime):
    entry = create(client, keys, world)
    create(client, keys, world, start_time="10:00", end_time="11:00", volume=1)
    ok = client.put(f"/entries/{entry['id']}", json=body(world, start_time="08:30"), headers=h(keys, world))
    assert ok.status_code == 200  # overlaps only its own old slot
    bad = client.put(f"/entries/{entry['id']}", json=body(world, end_time="10:30", volume=0), headers=h(keys, world))
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"start_time", "volume"}
    stranger = keys.headers("someone-else", "pegawai")
    assert client.put(f"/entries/{entry['id']}", json=body(world), headers=stranger).status_code == 404


def accepted(feed, entry, version, status="pending"):
    feed("activity.change_accepted", {"entry_id": entry["id"], "employee_id": entry["employee_id"],
                                      "version": version, "status": status})


def test_an_approval_that_beat_the_edit_stands_and_the_decided_content_comes_back(client, keys, world, feed, month,
                                                                                   consistent):
    """Approval approved v1 (as v2) while the employee's edit (v3) was on its way: approval takes no
    change after a decision, so this service puts v1's content back and says the edit did not count
    (issue 9: payroll counted the approval while activity had the edit)."""
    entry = create(client, keys, world)  # 08:00-10:00, 90 minutes
    edited = client.put(f"/entries/{entry['id']}", json=body(world, end_time="09:00", volume=1), headers=h(keys, world))
    assert edited.get_json()["awaiting_confirmation"] is True
    assert month(world.employee_id)["minutes"]["pending"] == 30
    decide(feed, "activity.approved", entry, version=2)
    shown = client.get(f"/entries/{entry['id']}", headers=h(keys, world)).get_json()
    assert (shown["status"], shown["end_time"], shown["credited_minutes"]) == ("approved", "10:00", 90)
    assert shown["awaiting_confirmation"] is False
    assert shown["superseded"]["message"].startswith("Atasan sudah memutus kegiatan ini sebelum perubahan Anda")
    m = month(world.employee_id)["minutes"]
    assert (m["approved"], m["pending"]) == (90, 0)
    consistent()


def test_a_return_on_replaced_content_yields_to_the_edit(client, keys, world, feed, runtime):
    """A return is not final: approval re-queues the newer version, so this service keeps it."""
    entry = create(client, keys, world)
    client.put(f"/entries/{entry['id']}", json=body(world, end_time="09:00", volume=1), headers=h(keys, world))
    decide(feed, "activity.returned", entry, version=2, reason="Perbaiki")
    shown = client.get(f"/entries/{entry['id']}", headers=h(keys, world)).get_json()
    assert (shown["status"], shown["version"], shown["end_time"]) == ("submitted", 3, "09:00")
    # The old 09:00-10:00 half is free once approval has taken the edit (the return released v1).
    assert shown["awaiting_confirmation"] is False
    create(client, keys, world, start_time="09:00", end_time="10:00", volume=1)
    decide(feed, "activity.approved", entry, version=4)  # the decision on v3
    shown = client.get(f"/entries/{entry['id']}", headers=h(keys, world)).get_json()
    assert (shown["status"], shown["version"], shown["superseded"]) == ("approved", 4, None)


def test_the_old_slot_stays_taken_until_approval_takes_the_edit(client, keys, world, feed):
    entry = create(client, keys, world)  # 08:00-10:00
    client.put(f"/entries/{entry['id']}", json=body(world, start_time="13:00", end_time="15:00"), headers=h(keys, world))
    again = client.post("/entries", json=body(world), headers=h(keys, world))
    assert again.status_code == 422 and "start_time" in again.get_json()["error"]["fields"]
    accepted(feed, entry, 3)
    assert client.get(f"/entries/{entry['id']}", headers=h(keys, world)).get_json()["awaiting_confirmation"] is False
    create(client, keys, world)  # 08:00-10:00 is free now


def test_the_ceiling_counts_a_version_that_may_come_back(client, keys, world, feed, app):
    """An entry edited from 300 to 60 minutes may still be approved at 300: the day's ceiling
    (450) counts its larger version until approval has spoken."""
    entry = create(client, keys, world, start_time="07:00", end_time="12:00", volume=10)  # 300 minutes
    client.put(f"/entries/{entry['id']}", json=body(world, start_time="07:00", end_time="08:00", volume=2),
               headers=h(keys, world))
    big = body(world, start_time="13:00", end_time="16:00", volume=6)  # 180 more: 480 if v1 comes back
    r = client.post("/entries", json=big, headers=h(keys, world))
    assert r.status_code == 422 and "credited_minutes" in r.get_json()["error"]["fields"]
    accepted(feed, entry, 3)
    assert client.post("/entries", json=big, headers=h(keys, world)).status_code == 201


def test_edit_can_move_an_entry_to_another_month(client, keys, world, month, consistent, app):
    app.extensions["activity_policy"] = EntryRules(submission_window_days=40)  # whatever today's date is
    entry = create(client, keys, world)
    previous = world.today - timedelta(days=world.today.day)  # last day of the previous month
    r = client.put(f"/entries/{entry['id']}", json=body(world, date=previous.isoformat()), headers=h(keys, world))
    assert r.status_code == 200
    assert month(world.employee_id)["minutes"]["pending"] == 0
    assert month(world.employee_id, previous.strftime("%Y-%m"))["minutes"]["pending"] == 90
    consistent()


# -- withdraw, return, resubmit ---------------------------------------------------------------

def test_withdrawn_entries_can_be_resubmitted(client, keys, world, feed, outbox, month, consistent):
    entry = create(client, keys, world)
    assert client.post(f"/entries/{entry['id']}/withdraw", headers=h(keys, world)).status_code == 200
    assert month(world.employee_id)["minutes"]["pending"] == 0
    r = client.post(f"/entries/{entry['id']}/submit", headers=h(keys, world))
    assert r.status_code == 200 and (r.get_json()["status"], r.get_json()["version"]) == ("submitted", 4)
    assert types(outbox) == [("activity.submitted", 1), ("activity.withdrawn", 3), ("activity.submitted", 4)]
    # Approval's late return of v1 (numbered 2) speaks of a submission that was withdrawn and replaced.
    decide(feed, "activity.returned", entry, version=2, reason="Perbaiki")
    assert client.get(f"/entries/{entry['id']}", headers=h(keys, world)).get_json()["status"] == "submitted"
    assert month(world.employee_id)["minutes"]["pending"] == 90
    consistent()


def test_an_approval_that_beat_the_withdrawal_stands(client, keys, world, feed, month, consistent):
    entry = create(client, keys, world)
    client.post(f"/entries/{entry['id']}/withdraw", headers=h(keys, world))
    decide(feed, "activity.approved", entry, version=2)
    shown = client.get(f"/entries/{entry['id']}", headers=h(keys, world)).get_json()
    assert (shown["status"], shown["credited_minutes"], shown["awaiting_confirmation"]) == ("approved", 90, False)
    assert shown["superseded"]["message"].startswith("Atasan sudah memutus kegiatan ini sebelum penarikan Anda")
    assert month(world.employee_id)["minutes"]["approved"] == 90
    consistent()


def test_returned_entry_is_revised_then_resubmitted(client, keys, world, feed, outbox, month, consistent):
    entry = create(client, keys, world)
    decide(feed, "activity.returned", entry, version=2, reason="Lengkapi uraian", decided_at=datetime.now(timezone.utc))
    assert month(world.employee_id)["minutes"]["returned"] == 90
    r = client.put(f"/entries/{entry['id']}", json=body(world, description="Menyusun laporan bulanan, lengkap"),
                   headers=h(keys, world))
    revised = r.get_json()
    assert r.status_code == 200 and (revised["status"], revised["version"]) == ("returned", 3)
    assert len(outbox()) == 1  # saving a revision announces nothing
    r = client.post(f"/entries/{entry['id']}/submit", headers=h(keys, world))
    assert r.status_code == 200 and (r.get_json()["status"], r.get_json()["version"], r.get_json()["reason"]) == ("submitted", 4, None)
    assert outbox()[-1]["data"]["description"] == "Menyusun laporan bulanan, lengkap"
    assert outbox()[-1]["data"]["version"] == 4
    assert month(world.employee_id)["minutes"]["pending"] == 90 and month(world.employee_id)["minutes"]["returned"] == 0
    consistent()


def test_a_returned_entry_may_be_resubmitted_after_its_dates_window(client, keys, world, feed, app):
    yesterday = world.today - timedelta(days=1)
    app.extensions["activity_policy"] = EntryRules(submission_window_days=1)
    entry = create(client, keys, world, date=yesterday.isoformat())
    app.extensions["activity_policy"] = EntryRules(submission_window_days=0, revision_window_days=2)
    decide(feed, "activity.returned", entry, version=2, reason="Perbaiki", decided_at=datetime.now(timezone.utc))
    fresh = client.post("/entries", json=body(world, date=yesterday.isoformat(), start_time="13:00", end_time="14:00"),
                        headers=h(keys, world))
    assert fresh.status_code == 422 and "date" in fresh.get_json()["error"]["fields"]  # a new entry: window closed
    moved = client.put(f"/entries/{entry['id']}", json=body(world, date=(yesterday - timedelta(days=1)).isoformat()),
                       headers=h(keys, world))
    assert moved.status_code == 422 and "date" in moved.get_json()["error"]["fields"]  # moving it is a new claim
    assert client.post(f"/entries/{entry['id']}/submit", headers=h(keys, world)).status_code == 200


def test_the_revision_window_lapses(client, keys, world, feed, app):
    yesterday = world.today - timedelta(days=1)
    app.extensions["activity_policy"] = EntryRules(submission_window_days=1)
    entry = create(client, keys, world, date=yesterday.isoformat())
    app.extensions["activity_policy"] = EntryRules(submission_window_days=0, revision_window_days=2)
    decide(feed, "activity.returned", entry, version=2, reason="Perbaiki",
           decided_at=datetime.now(timezone.utc) - timedelta(days=3))
    r = client.post(f"/entries/{entry['id']}/submit", headers=h(keys, world))
    assert r.status_code == 422 and "date" in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("decision", ["activity.approved", "activity.rejected"])
def test_decided_entries_are_immutable(client, keys, world, feed, outbox, decision):
    entry = create(client, keys, world)
    decide(feed, decision, entry, version=2, reason="Tidak sesuai")
    hh = h(keys, world)
    for r in (client.put(f"/entries/{entry['id']}", json=body(world, volume=1), headers=hh),
              client.post(f"/entries/{entry['id']}/submit", headers=hh),
              client.post(f"/entries/{entry['id']}/withdraw", headers=hh),
              client.delete(f"/entries/{entry['id']}", headers=hh)):
        assert r.status_code == 409, r.get_json()
    assert len(outbox()) == 1


def test_an_overturned_appeal_makes_the_minutes_count(client, keys, world, feed, month, consistent):
    entry = create(client, keys, world)
    decide(feed, "activity.rejected", entry, version=2, reason="Tidak sesuai")
    assert month(world.employee_id)["minutes"]["rejected"] == 90
    feed("appeal.filed", {"appeal_id": "ap-1", "entry_ids": [entry["id"]], "employee_id": world.employee_id,
                          "filed_at": "2026-11-30T02:00:00Z", "version": 1})
    shown = client.get(f"/entries/{entry['id']}", headers=h(keys, world)).get_json()
    assert (shown["status"], shown["appeal"]) == ("rejected", {"appeal_id": "ap-1", "outcome": None})
    entries = [{"entry_id": entry["id"], "date": entry["date"], "credited_minutes": 90, "submission_version": 1,
                "version": 3}]
    decided = {"appeal_id": "ap-1", "entry_ids": [entry["id"]], "employee_id": world.employee_id,
               "outcome": "overturned", "decided_by": "majelis-1", "decided_at": "2026-12-01T02:00:00Z", "version": 3,
               "entries": entries}
    assert feed.consumer.apply(feed.envelope("appeal.decided", decided)) == "handled"
    # The first level's upholding arriving late (an older step of the same appeal) changes nothing.
    upheld = {**decided, "outcome": "upheld", "version": 2, "entries": [{**entries[0], "version": 2}]}
    assert feed.consumer.apply(feed.envelope("appeal.decided", upheld)) == "handled"
    m = month(world.employee_id)["minutes"]
    assert (m["approved"], m["rejected"]) == (90, 0)
    shown = client.get(f"/entries/{entry['id']}", headers=h(keys, world)).get_json()
    assert (shown["status"], shown["appeal"]) == ("overturned", {"appeal_id": "ap-1", "outcome": "overturned"})
    r = client.put(f"/entries/{entry['id']}", json=body(world, volume=1), headers=h(keys, world))
    assert r.status_code == 409
    consistent()


def test_an_overturn_arriving_before_the_rejection_stands(client, keys, world, feed, month, consistent):
    entry = create(client, keys, world)
    decided = {"appeal_id": "ap-2", "entry_ids": [entry["id"]], "employee_id": world.employee_id,
               "outcome": "overturned", "decided_by": "majelis-1", "decided_at": "2026-12-01T02:00:00Z", "version": 2,
               "entries": [{"entry_id": entry["id"], "date": entry["date"], "credited_minutes": 90,
                            "submission_version": 1, "version": 3}]}
    feed("appeal.decided", decided)
    decide(feed, "activity.rejected", entry, version=2, reason="Tidak sesuai")  # late
    assert client.get(f"/entries/{entry['id']}", headers=h(keys, world)).get_json()["status"] == "overturned"
    assert month(world.employee_id)["minutes"]["approved"] == 90
    consistent()


# -- batches ----------------------------------------------------------------------------------

def post_batch(client, keys, world, entries, **kw):
    return client.post("/entries/batch", json={"entries": entries, **kw}, headers=h(keys, world))


def test_a_days_list_is_stored_whole(client, keys, world, outbox, month, consistent):
    items = [body(world, start_time="07:30", end_time="09:00", volume=3), body(world, start_time="09:00", end_time="11:00"),
             body(world, start_time="13:00", end_time="15:00", volume=4)]
    r = post_batch(client, keys, world, items)
    assert r.status_code == 201, r.get_json()
    stored = r.get_json()["entries"]
    assert [e["credited_minutes"] for e in stored] == [90, 90, 120]
    assert [t for t, _ in types(outbox)] == ["activity.submitted"] * 3
    assert month(world.employee_id)["minutes"]["pending"] == 300
    consistent()


def test_a_batch_with_any_bad_item_stores_nothing_and_names_every_problem(client, keys, world, runtime, outbox):
    items = [body(world),                                                      # fine
             body(world, start_time="11:00", end_time="10:00"),               # end before start
             body(world, start_time="09:00", end_time="09:30"),               # overlaps item 0
             body(world, start_time="13:00", end_time="14:00", duty_id=world.other_duty_id, volume=0)]
    r = post_batch(client, keys, world, items)
    assert r.status_code == 422
    fields = r.get_json()["error"]["fields"]
    assert set(fields) == {"entries.1.end_time", "entries.2.start_time", "entries.3.duty_id", "entries.3.volume"}
    assert fields["entries.2.start_time"]["message_en"].startswith("The time overlaps")
    assert count(runtime) == 0 and outbox() == []


def test_batch_shape_errors_are_per_item(client, keys, world, runtime):
    items = [body(world), body(world, start_time="8:00", volume="2"), {"date": world.today.isoformat()}]
    r = post_batch(client, keys, world, items)
    fields = set(r.get_json()["error"]["fields"])
    assert r.status_code == 422
    assert {"entries.1.start_time", "entries.1.volume", "entries.2.start_time", "entries.2.duty_id"} <= fields
    assert not any(f.startswith("entries.0") for f in fields)
    assert post_batch(client, keys, world, []).status_code == 422
    assert count(runtime) == 0


def test_the_daily_ceiling_counts_the_whole_list_and_stored_entries(client, keys, world, runtime):
    create(client, keys, world, start_time="06:00", end_time="08:00", volume=4)  # 120 stored
    items = [body(world, start_time="08:00", end_time="12:00", volume=8),       # 240 -> 360
             body(world, start_time="12:00", end_time="14:00", volume=4)]       # 120 -> 480 > 450
    r = post_batch(client, keys, world, items)
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"entries.1.credited_minutes"}
    assert count(runtime) == 1


def test_a_batch_of_drafts(client, keys, world, outbox, month):
    r = post_batch(client, keys, world, [body(world), body(world, start_time="13:00", end_time="14:00")], submit=False)
    assert r.status_code == 201 and {e["status"] for e in r.get_json()["entries"]} == {"draft"}
    assert outbox() == [] and month(world.employee_id)["minutes"]["draft"] == 150


# -- locked months ----------------------------------------------------------------------------

def test_a_locked_month_refuses_every_change_with_409(client, keys, world, feed, outbox, runtime, evidence_dir):
    pending = create(client, keys, world)
    draft = create(client, keys, world, start_time="13:00", end_time="14:00", submit=False)
    feed.lock(world.today.year, world.today.month)
    hh = h(keys, world)
    attempts = [
        client.put(f"/entries/{pending['id']}", json=body(world, volume=1), headers=hh),
        client.post(f"/entries/{pending['id']}/withdraw", headers=hh),
        client.post(f"/entries/{draft['id']}/submit", headers=hh),
        client.delete(f"/entries/{draft['id']}", headers=hh),
        client.post(f"/entries/{draft['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.4 x"), "a.pdf")},
                    headers=hh, content_type="multipart/form-data"),
    ]
    for r in attempts:
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "period_locked", r.get_json()
        assert r.get_json()["error"]["message"] and r.get_json()["error"]["message_en"]
    assert len(outbox()) == 1 and count(runtime) == 2
    assert not evidence_dir.exists() or not any(p.is_file() for p in evidence_dir.rglob("*"))
    # A new entry dated in the locked month stays a field error among the others (existing rule).
    r = client.post("/entries", json=body(world, start_time="15:00", end_time="16:00"), headers=hh)
    assert r.status_code == 422 and "date" in r.get_json()["error"]["fields"]


def test_month_summary_through_decisions(client, keys, world, feed, month, consistent):
    a = create(client, keys, world, start_time="07:30", end_time="09:30", volume=4)         # 120
    b = create(client, keys, world, start_time="09:30", end_time="10:30", volume=2)         # 60
    c = create(client, keys, world, start_time="10:30", end_time="11:00", volume=1)         # 30
    decide(feed, "activity.approved", a, version=2)
    decide(feed, "activity.rejected", b, version=2, reason="Tidak relevan")
    m = month(world.employee_id)
    assert m["minutes"] == {"approved": 120, "pending": 30, "returned": 0, "rejected": 60, "draft": 0}
    assert m["target_minutes"] == m["working_days"] * 300
    expected = (Decimal(min(120, m["target_minutes"])) / m["target_minutes"] * 100).quantize(Decimal("0.01"))
    assert Decimal(m["productivity_pct"]) == expected
    assert m["discipline_pct"] == "100.00" and m["tpp_estimate"] is None and m["tpp_note"]["message_en"]
    assert c["status"] == "submitted"
    consistent()


# -- every bad field in one answer, for edits and batches too (issue 9, item 15) ---------------

def test_an_edit_lists_schema_and_rule_errors_at_once_and_never_overlaps_itself(client, keys, world):
    entry = create(client, keys, world, start_time="08:00", end_time="10:00")
    create(client, keys, world, start_time="10:00", end_time="11:00")
    # Moved half an hour later with a typo in the volume: the typo and the overlap with 10:00–11:00
    # come together; its own 08:00–10:00 is no overlap.
    r = client.put(f"/entries/{entry['id']}", json=body(world, start_time="08:30", end_time="10:30", volume="dua"),
                   headers=h(keys, world))
    fields = r.get_json()["error"]["fields"]
    assert r.status_code == 422 and set(fields) == {"volume", "start_time"}
    assert "10:00–11:00" in fields["start_time"]["message"]
    r = client.put(f"/entries/{entry['id']}", json=body(world, start_time="08:30", end_time="09:30", volume="dua",
                                                        duty_id=world.other_duty_id), headers=h(keys, world))
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"volume", "duty_id"}
    # Someone else's entry: the rules say nothing about it (the schema error alone; 404 once it parses).
    r = client.put(f"/entries/{entry['id']}", json=body(world, volume="dua"), headers=keys.headers("other", "pegawai"))
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"volume"}


def test_a_batch_lists_schema_and_rule_errors_of_every_item_at_once(client, keys, world, runtime):
    create(client, keys, world, start_time="13:00", end_time="14:00")
    items = [body(world, start_time="07:00", end_time="08:00", volume="x"),                # schema
             body(world, start_time="13:30", end_time="14:30"),                           # overlaps the stored one
             body(world, start_time="07:30", end_time="08:30", description="y" * 2001),   # overlaps item 0, too long
             body(world, start_time="15:00", end_time="16:00", duty_id=world.other_duty_id),  # another post's duty
             body(world, start_time="16:00", end_time="17:00")]                           # fine
    r = post_batch(client, keys, world, items)
    fields = r.get_json()["error"]["fields"]
    assert r.status_code == 422
    assert set(fields) == {"entries.0.volume", "entries.1.start_time", "entries.2.description",
                           "entries.2.start_time", "entries.3.duty_id"}
    assert "13:00–14:00" in fields["entries.1.start_time"]["message"]
    assert "07:00–08:00" in fields["entries.2.start_time"]["message"]
    assert count(runtime) == 1
