"""The activity API against a real PostgreSQL database, read models fed through the consumer."""
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from activity import services
from activity.app import EntryIn
from activity.domain import EntryRules
from activity.orm import Entry


def entry_body(world, **kw) -> dict:
    body = {"date": world.today.isoformat(), "start_time": "08:00", "end_time": "10:00", "duty_id": world.duty_id,
            "volume": 3, "description": "Menyusun laporan bulanan"}
    return {**body, **kw}


def entry_count(runtime) -> int:
    with runtime.session_factory() as s:
        return s.scalar(select(func.count()).select_from(Entry))


def submit(client, keys, world, **kw):
    return client.post("/entries", json=entry_body(world, **kw), headers=keys.headers(world.employee_id, "pegawai"))


def test_submit_stores_the_entry_and_publishes_exact_event(client, keys, world, outbox):
    r = submit(client, keys, world)
    assert r.status_code == 201, r.get_json()
    entry = r.get_json()
    assert entry["status"] == "submitted" and entry["credited_minutes"] == 90 and entry["version"] == 1
    assert entry["duty_description"] == "Menyusun laporan" and entry["output_unit"] == "laporan"
    [event] = outbox()
    assert event["type"] == "activity.submitted" and event["source"] == "activity"
    assert event["data"] == {
        "entry_id": entry["id"], "employee_id": world.employee_id, "date": world.today.isoformat(),
        "start_time": "08:00", "end_time": "10:00", "duty_id": world.duty_id, "duty_description": "Menyusun laporan",
        "volume": 3, "output_unit": "laporan", "credited_minutes": 90, "description": "Menyusun laporan bulanan",
        "version": 1,
    }
    assert event["correlation_id"]  # the request id travels with the event


def test_credited_minutes_are_capped_by_the_time_spent(client, keys, world):
    r = submit(client, keys, world, volume=10)  # 10 x 30 = 300 standard minutes in a 120-minute slot
    assert r.status_code == 201 and r.get_json()["credited_minutes"] == 120


REFUSALS = {
    "unknown duty": (lambda w: {"duty_id": "00000000-0000-0000-0000-000000000000"}, "duty_id"),
    "duty of another position": (lambda w: {"duty_id": w.other_duty_id}, "duty_id"),
    "retired duty": (lambda w: {"duty_id": w.retired_duty_id}, "duty_id"),
    "end before start": (lambda w: {"start_time": "10:00", "end_time": "09:00"}, "end_time"),
    "volume 0": (lambda w: {"volume": 0}, "volume"),
    "future": (lambda w: {"date": (w.today + timedelta(days=1)).isoformat()}, "date"),
    "outside window": (lambda w: {"date": (w.today - timedelta(days=6)).isoformat()}, "date"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_broken_rules_are_refused_with_the_field_named_and_nothing_stored(client, keys, world, runtime, outbox, case):
    change, field = REFUSALS[case]
    r = submit(client, keys, world, **change(world))
    assert r.status_code == 422, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == "validation_failed" and field in err["fields"]
    assert err["fields"][field]["message"] and err["fields"][field]["message_en"]
    assert entry_count(runtime) == 0 and outbox() == []


def test_locked_month_is_refused(client, keys, world, feed, runtime, outbox):
    feed.lock(world.today.year, world.today.month)
    r = submit(client, keys, world)
    assert r.status_code == 422 and "date" in r.get_json()["error"]["fields"]
    assert "BPKAD" in r.get_json()["error"]["fields"]["date"]["message"]
    assert entry_count(runtime) == 0 and outbox() == []


def test_overlap_is_refused(client, keys, world, runtime, outbox):
    assert submit(client, keys, world).status_code == 201
    r = submit(client, keys, world, start_time="09:30", end_time="11:00")
    assert r.status_code == 422 and "start_time" in r.get_json()["error"]["fields"]
    assert entry_count(runtime) == 1 and [e["type"] for e in outbox()] == ["activity.submitted"]
    assert submit(client, keys, world, start_time="10:00", end_time="11:00").status_code == 201  # touching is fine


def test_daily_ceiling_counts_the_other_entries(client, keys, world, runtime, outbox):
    assert submit(client, keys, world, start_time="07:00", end_time="11:00", volume=8).status_code == 201  # 240
    assert submit(client, keys, world, start_time="11:00", end_time="14:30", volume=7).status_code == 201  # 210: 450
    r = submit(client, keys, world, start_time="14:30", end_time="15:00", volume=1)  # 30 more
    assert r.status_code == 422 and "credited_minutes" in r.get_json()["error"]["fields"]
    assert "480" in r.get_json()["error"]["fields"]["credited_minutes"]["message"]
    assert entry_count(runtime) == 2 and len(outbox()) == 2


def test_policy_comes_from_the_app(keys, world, app):
    app.extensions["activity_policy"] = EntryRules(daily_ceiling_minutes=60)
    r = submit(app.test_client(), keys, world)  # 90 credited minutes
    assert r.status_code == 422 and "credited_minutes" in r.get_json()["error"]["fields"]


def test_every_broken_rule_is_listed_at_once(client, keys, world):
    r = submit(client, keys, world, date=(world.today + timedelta(days=3)).isoformat(), end_time="07:00", volume=0,
               duty_id=world.other_duty_id)
    assert set(r.get_json()["error"]["fields"]) == {"date", "end_time", "volume", "duty_id"}


def test_bad_input_is_a_clear_json_error(client, keys, world, runtime, outbox):
    h = keys.headers(world.employee_id, "pegawai")
    r = client.post("/entries", data="{not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed_json"
    r = client.post("/entries", json={"date": "27-11-2026", "start_time": "8:00", "end_time": "10:00:30",
                                      "volume": "3", "extra": 1}, headers=h)
    err = r.get_json()["error"]
    assert r.status_code == 422
    assert {"date", "start_time", "end_time", "volume", "duty_id", "description", "extra"} <= set(err["fields"])
    assert err["fields"]["start_time"]["message"] == "Harus berupa jam (HH:MM)"
    r = client.post("/entries", json=entry_body(world, volume=2.5), headers=h)
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"volume"}
    assert entry_count(runtime) == 0 and outbox() == []


def test_preview_gives_the_credit_and_the_verdict_without_storing(client, keys, world, runtime, outbox):
    h = keys.headers(world.employee_id, "pegawai")
    r = client.post("/entries/preview", json=entry_body(world), headers=h)
    assert r.status_code == 200 and r.get_json() == {"credited_minutes": 90, "valid": True, "errors": {}}
    r = client.post("/entries/preview", json=entry_body(world, duty_id=world.retired_duty_id, volume=0), headers=h)
    body = r.get_json()
    assert r.status_code == 200 and body["valid"] is False and set(body["errors"]) == {"duty_id", "volume"}
    assert body["errors"]["volume"]["message_en"]
    assert entry_count(runtime) == 0 and outbox() == []


def test_entries_are_private_to_their_owner(client, keys, world, runtime, outbox):
    mine = submit(client, keys, world).get_json()
    stranger = keys.headers("someone-else", "pegawai")
    assert client.get(f"/entries/{mine['id']}", headers=stranger).status_code == 404
    r = client.post(f"/entries/{mine['id']}/withdraw", headers=stranger)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert client.get("/entries", headers=stranger).get_json()["entries"] == []
    owner = keys.headers(world.employee_id, "pegawai")
    assert client.get(f"/entries/{mine['id']}", headers=owner).get_json()["status"] == "submitted"
    assert [e["type"] for e in outbox()] == ["activity.submitted"]


def test_who_may_call(client, keys, world):
    assert client.get("/entries").status_code == 401
    admin = client.get("/entries", headers=keys.headers(None, "admin_bkd", "pegawai"))
    assert admin.status_code == 403 and admin.get_json()["error"]["code"] == "no_employee"
    no_role = client.post("/entries", json=entry_body(world), headers=keys.headers(world.employee_id, "bpkad"))
    assert no_role.status_code == 403


def test_list_entries_of_a_month(client, keys, world):
    h = keys.headers(world.employee_id, "pegawai")
    first = submit(client, keys, world, start_time="13:00", end_time="14:00").get_json()
    second = submit(client, keys, world, start_time="08:00", end_time="09:00").get_json()
    month = world.today.strftime("%Y-%m")
    listed = client.get(f"/entries?month={month}", headers=h).get_json()["entries"]
    assert [e["id"] for e in listed] == [second["id"], first["id"]]  # by time of day
    assert set(listed[0]) >= {"id", "date", "start_time", "end_time", "duty_id", "duty_description", "volume",
                              "output_unit", "credited_minutes", "description", "status", "reason"}
    assert client.get("/entries", headers=h).get_json()["entries"] == listed  # default: this month
    other = (world.today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert client.get(f"/entries?month={other}", headers=h).get_json()["entries"] == []
    r = client.get("/entries?month=2026-13", headers=h)
    assert r.status_code == 422 and "month" in r.get_json()["error"]["fields"]


def test_withdraw_publishes_and_frees_the_slot_once_approval_confirms(client, keys, world, outbox, feed):
    h = keys.headers(world.employee_id, "pegawai")
    entry = submit(client, keys, world).get_json()
    r = client.post(f"/entries/{entry['id']}/withdraw", headers=h)
    # Version 3: a withdrawal outranks approval's possible decision on v1 (numbered 2).
    assert r.status_code == 200 and r.get_json()["status"] == "withdrawn" and r.get_json()["version"] == 3
    assert r.get_json()["awaiting_confirmation"] is True
    withdrawn = outbox()[-1]
    assert withdrawn["type"] == "activity.withdrawn"
    assert withdrawn["data"] == {"entry_id": entry["id"], "employee_id": world.employee_id,
                                 "date": world.today.isoformat(), "version": 3}
    again = client.post(f"/entries/{entry['id']}/withdraw", headers=h)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_withdrawable"
    # The supervisor may have approved v1 already: until approval says it took the withdrawal,
    # the slot stays taken, so the same time cannot be claimed (and paid) twice.
    blocked = submit(client, keys, world)
    assert blocked.status_code == 422 and "start_time" in blocked.get_json()["error"]["fields"]
    feed("activity.change_accepted", {"entry_id": entry["id"], "employee_id": world.employee_id, "version": 3,
                                      "status": "withdrawn"})
    shown = client.get(f"/entries/{entry['id']}", headers=h).get_json()
    assert (shown["status"], shown["awaiting_confirmation"]) == ("withdrawn", False)
    assert submit(client, keys, world).status_code == 201  # the same slot is free again
    assert [e["type"] for e in outbox()] == ["activity.submitted", "activity.withdrawn", "activity.submitted"]


def test_decided_entries_cannot_be_withdrawn(client, keys, world, feed, outbox):
    entry = submit(client, keys, world).get_json()
    feed.consumer.apply(feed.decision("activity.approved", entry, version=2))
    r = client.post(f"/entries/{entry['id']}/withdraw", headers=keys.headers(world.employee_id, "pegawai"))
    assert r.status_code == 409
    assert [e["type"] for e in outbox()] == ["activity.submitted"]


def test_duties_of_the_day_include_plt_posts(client, keys, world, feed):
    h = keys.headers(world.employee_id, "pegawai")
    day = world.today.isoformat()
    r = client.get(f"/duties?date={day}", headers=h).get_json()
    assert r["position_id"] == world.position_id
    assert [d["id"] for d in r["duties"]] == [world.duty_id]  # the retired duty is not offered
    assert r["duties"][0] == {"id": world.duty_id, "position_id": world.position_id,
                              "description": "Menyusun laporan", "output_unit": "laporan", "norma_waktu": 30}
    # Acting (Plt) in another post, since before the definitive placement began.
    feed.placement(world.employee_id, world.other_position_id, world.today - timedelta(days=90), world.today, kind="plt")
    r = client.get(f"/duties?date={day}", headers=h).get_json()
    assert r["position_id"] == world.position_id  # the definitive post comes first
    assert {p["kind"] for p in r["positions"]} == {"definitive", "plt"}
    assert {d["id"] for d in r["duties"]} == {world.duty_id, world.other_duty_id}
    # ... and so the Plt post's duty is accepted that day
    assert submit(client, keys, world, duty_id=world.other_duty_id).status_code == 201
    before = (world.today - timedelta(days=91)).isoformat()
    nothing = client.get(f"/duties?date={before}", headers=h).get_json()
    assert {k: v for k, v in nothing.items() if k != "limits"} == {
        "date": before, "position_id": None, "positions": [], "duties": []}
    r = client.get("/duties?date=kemarin", headers=h)
    assert r.status_code == 422 and "date" in r.get_json()["error"]["fields"]


def test_concurrent_submissions_of_one_employee_are_serialized(client, keys, world, runtime, app):
    """A second submission waits for the first one's transaction, then sees its entry."""
    draft = EntryIn.model_validate(entry_body(world)).draft()
    result = {}

    def second():
        result["response"] = app.test_client().post(
            "/entries", json=entry_body(world, start_time="09:00", end_time="11:00"),
            headers=keys.headers(world.employee_id, "pegawai"))

    with runtime.uow() as uow:
        services.submit_entry(uow, world.employee_id, draft, world.today, EntryRules())
        racer = threading.Thread(target=second)
        racer.start()
        time.sleep(0.5)
        assert racer.is_alive(), "the second submission did not wait for the first"
        uow.commit()
    racer.join(10)
    r = result["response"]
    assert r.status_code == 422 and "start_time" in r.get_json()["error"]["fields"]
    assert entry_count(runtime) == 1


def test_other_employees_are_not_blocked(client, keys, world, feed, runtime):
    """The lock is per employee: a colleague's submission goes through meanwhile."""
    colleague = "colleague-1"
    feed.placement(colleague, world.position_id, world.today - timedelta(days=10))
    draft = EntryIn.model_validate(entry_body(world)).draft()
    with runtime.uow() as uow:
        services.submit_entry(uow, world.employee_id, draft, world.today, EntryRules())
        r = app_client_post(client, keys, colleague, entry_body(world))
        assert r.status_code == 201
        uow.commit()
    assert entry_count(runtime) == 2


def app_client_post(client, keys, employee_id, body):
    result = {}
    t = threading.Thread(target=lambda: result.update(r=client.post("/entries", json=body,
                                                                    headers=keys.headers(employee_id, "pegawai"))))
    t.start()
    t.join(5)
    assert not t.is_alive(), "a colleague's submission was blocked"
    return result["r"]


def test_health_metrics_openapi(client):
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/readyz").status_code == 200
    spec = client.get("/openapi.json").get_json()
    assert {"/duties", "/entries", "/entries/preview", "/entries/{entry_id}", "/entries/{entry_id}/withdraw"} <= set(spec["paths"])
    assert spec["paths"]["/entries"]["post"]["requestBody"]
    assert 'route="/healthz"' in client.get("/metrics").get_data(as_text=True)


def test_the_entry_list_carries_the_month_s_minutes_of_the_summary(client, keys, world):
    """Kegiatan shows these (the browser does not add up entries): the same figures as /me/month."""
    submit(client, keys, world)
    h = keys.headers(world.employee_id, "pegawai")
    listed = client.get("/entries", headers=h).get_json()
    assert listed["minutes"] == client.get("/me/month", headers=h).get_json()["minutes"]
    assert listed["minutes"]["pending"] == sum(e["credited_minutes"] for e in listed["entries"]) > 0


def test_schema_and_rule_errors_come_in_one_answer(client, keys, world, runtime, outbox):
    """Issue 9 item 15: a body with a schema error (volume as text, description too long) and
    rule errors (another position's duty, overlapping an entry already stored) is answered with
    every one of them at once, not the schema's first and the rules' after a resubmit."""
    assert submit(client, keys, world, start_time="08:00", end_time="09:00").status_code == 201
    r = submit(client, keys, world, start_time="08:30", end_time="09:30", duty_id=world.other_duty_id,
               volume="tiga", description="x" * 2001)
    assert r.status_code == 422, r.get_json()
    fields = r.get_json()["error"]["fields"]
    assert {"volume", "description", "duty_id", "start_time"} <= fields.keys(), fields
    assert "bertumpang tindih" in fields["start_time"]["message"]
    assert entry_count(runtime) == 1 and len(outbox()) == 1
    # A schema error alone stays what it was: no rule is invented from a stand-in value.
    r = submit(client, keys, world, start_time="11:00", end_time="12:00", volume="tiga")
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"volume"}
