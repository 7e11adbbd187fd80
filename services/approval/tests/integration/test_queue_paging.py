"""The queue a page at a time (a supervisor of 50 people has 3,300 entries at month end): pages
follow a keyset cursor, so deciding entries between two pages skips nothing; totals and people
describe the whole filtered queue; every entry id of a filtered queue for a bulk decision."""
from sqlalchemy import select

from approval.orm import ValidationItem


def names(api, items):
    return [api.name_of(i["entry_id"]) for i in items]


def page(api, who="kabid", **params):
    r = api.get("/queue", who, query_string=params)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def fill(org):
    # Ani: 5 entries over two months (one escalation-free), Budi: 2.
    org.submit("a1", "ani", day="2026-10-30")
    for n, day in enumerate(["2026-11-02", "2026-11-02", "2026-11-03", "2026-11-04"], start=2):
        org.submit(f"a{n}", "ani", day=day, start=f"{7 + n:02d}:00", end=f"{7 + n:02d}:30")
    org.submit("b1", "budi", day="2026-11-02")
    org.submit("b2", "budi", day="2026-11-05")


def test_pages_walk_the_whole_queue_in_order_with_totals_and_people(api, org):
    fill(org)
    first = page(api, limit=3)
    assert names(api, first["items"]) == ["E:a1", "E:a2", "E:a3"]
    assert first["total"] == 7 and first["next_cursor"]
    assert first["totals"] == {"entries": 7, "minutes": 420, "people": 2, "escalated": 0}
    ani, budi = first["people"]
    assert (ani["employee_name"], ani["pending_entries"], ani["pending_minutes"], ani["oldest_date"]) == (
        "Ani Lestari", 5, 300, "2026-10-30")
    assert ani["months"] == [{"month": "2026-10", "pending_entries": 1, "pending_minutes": 60, "approved_minutes": 0},
                             {"month": "2026-11", "pending_entries": 4, "pending_minutes": 240, "approved_minutes": 0}]
    assert (budi["employee_name"], budi["pending_entries"]) == ("Budi Santoso", 2)
    second = page(api, limit=3, cursor=first["next_cursor"])
    third = page(api, limit=3, cursor=second["next_cursor"])
    assert names(api, second["items"]) == ["E:a4", "E:a5", "E:b1"]
    assert names(api, third["items"]) == ["E:b2"] and third["next_cursor"] is None
    # Without paging parameters: the whole queue, as before.
    assert len(page(api)["items"]) == 7 and "groups" in page(api)


def test_decisions_between_pages_skip_nothing(api, org):
    fill(org)
    first = page(api, limit=3)
    # The supervisor approves the first page; the next page still starts right after it.
    r = api.post("/decisions", "kabid", json={"decision": "approve", "entry_ids": [i["entry_id"] for i in first["items"]]})
    assert r.status_code == 200
    second = page(api, limit=3, cursor=first["next_cursor"])
    assert names(api, second["items"]) == ["E:a4", "E:a5", "E:b1"]
    assert second["total"] == 4
    ani = second["people"][0]
    assert ani["months"][-1]["approved_minutes"] == 120  # a2, a3 approved in November


def test_filters_narrow_items_and_totals_but_people_keep_everyone(api, org):
    fill(org)
    body = page(api, limit=50, employee_id=org.id("ani"), month="2026-11")
    assert names(api, body["items"]) == ["E:a2", "E:a3", "E:a4", "E:a5"]
    assert body["totals"] == {"entries": 4, "minutes": 240, "people": 1, "escalated": 0}
    assert [p["employee_name"] for p in body["people"]] == ["Ani Lestari", "Budi Santoso"]
    assert page(api, limit=2, **{"from": "2026-11-05"})["totals"]["entries"] == 1


def test_entry_ids_of_the_filtered_queue_for_a_bulk_decision(api, org):
    fill(org)
    r = api.get("/queue/entry-ids", "kabid", query_string={"month": "2026-11"})
    assert r.status_code == 200
    body = r.get_json()
    assert [api.name_of(i) for i in body["entry_ids"]] == ["E:a2", "E:a3", "E:a4", "E:a5", "E:b1", "E:b2"]
    assert body["total"] == 6
    # Someone else's team: nothing, and nothing about it.
    assert api.get("/queue/entry-ids", "kabid2", query_string={"month": "2026-11"}).get_json() == {"entry_ids": [], "total": 0}


def test_bad_paging_parameters_are_422_each(api, org, runtime):
    fill(org)
    r = api.get("/queue", "kabid", query_string={"limit": "0", "cursor": "bukan-kursor", "month": "2026-13"})
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"limit", "month"}
    r = api.get("/queue", "kabid", query_string={"limit": "501"})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"limit"}
    r = api.get("/queue", "kabid", query_string={"limit": "5", "cursor": "bukan-kursor"})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"cursor"}
    with runtime.session_factory() as s:
        assert s.scalar(select(ValidationItem.status).limit(1)) == "pending"
