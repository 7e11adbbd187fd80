"""The queue's read model (``validation_items.supervisor_id``, ``approval.queue_model``): whatever
the order in which placements, positions and submissions arrive, and however they change later,
each pending item's stored supervisor is the shared rule's answer on the facts as they are; and a
queue walked page by page is exactly the whole queue, with the same totals and people."""
import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from approval import queue_model, repository
from approval.orm import ValidationItem

SEEDS = [20261201, 13, 4242]


def stored_vs_rule(runtime):
    """(stored, rule) supervisor of every pending item."""
    with runtime.session_factory() as s:
        items = s.scalars(select(ValidationItem).where(ValidationItem.status == "pending")).all()
        rule = repository.supervisors_for(s, {(i.employee_id, i.date) for i in items})
        return ({i.entry_id: i.supervisor_id for i in items},
                {i.entry_id: rule[(i.employee_id, i.date)] for i in items})


@pytest.mark.parametrize("seed", SEEDS)
def test_the_stored_supervisor_follows_every_change_in_any_order(feed, runtime, seed):
    rng = random.Random(seed)
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(30)]
    people = [f"p{n}" for n in range(20)]
    codes = [f"J{n}" for n in range(12)]
    events = []
    for n, code in enumerate(codes):
        parent = codes[rng.randrange(n)] if n and rng.random() < 0.9 else None
        events.append(lambda code=code, parent=parent: feed.position(code, parent=parent))
    for n in range(40):
        start = rng.choice(days[:20])
        end = start + timedelta(days=rng.randrange(3, 25)) if rng.random() < 0.5 else None
        who, where = rng.choice(people), rng.choice(codes)
        kind = "plt" if rng.random() < 0.3 else "definitive"
        events.append(lambda n=n, who=who, where=where, start=start, end=end, kind=kind: feed.place(
            who, where, start=start.isoformat(), end=end and end.isoformat(), kind=kind, placement=f"PL{n}"))
    for n in range(70):
        who, day = rng.choice(people), rng.choice(days)
        events.append(lambda n=n, who=who, day=day: feed.submit(str(n), who, day=day.isoformat()))
    rng.shuffle(events)
    for send in events:
        send()
    stored, rule = stored_vs_rule(runtime)
    assert stored == rule and sum(v is not None for v in rule.values()) > 15

    # Later changes: placements moved or ended (version 2), posts moved under another parent.
    for n in rng.sample(range(40), 12):
        start = rng.choice(days[:20])
        feed.place(rng.choice(people), rng.choice(codes), start=start.isoformat(),
                   end=(start + timedelta(days=rng.randrange(0, 10))).isoformat() if rng.random() < 0.6 else None,
                   kind=rng.choice(["plt", "definitive"]), placement=f"PL{n}", version=2)
        stored, rule = stored_vs_rule(runtime)
        assert stored == rule, ("placement", n)
    for code in rng.sample(codes[1:], 4):
        parent = rng.choice([c for c in codes if c != code])
        feed.position(code, parent=parent, version=2, event="position.updated")
        stored, rule = stored_vs_rule(runtime)
        assert stored == rule, ("position", code)


def test_re_deriving_everything_changes_nothing_the_consumer_kept(feed, runtime, org):
    org.submit("a1", "ani")
    org.submit("c1", "citra")
    with runtime.session_factory() as s, s.begin():
        assert queue_model.derive_all(s) == 0
    stored, rule = stored_vs_rule(runtime)
    assert stored == rule and set(stored.values()) == {feed.id("kabid"), feed.id("kabid2")}


def reference_people(items, api):
    """``people`` as computed before the read model: from the whole queue's rows, in order."""
    people: dict[str, dict] = {}
    for i in items:
        p = people.setdefault(i["employee_id"], {
            "employee_id": i["employee_id"], "employee_name": i["employee_name"], "nip": i["nip"],
            "pending_entries": 0, "pending_minutes": 0, "escalated_entries": 0, "oldest_date": i["date"],
            "months": defaultdict(lambda: {"pending_entries": 0, "pending_minutes": 0})})
        p["pending_entries"] += 1
        p["pending_minutes"] += i["credited_minutes"] or 0
        p["escalated_entries"] += i["escalated"]
        p["oldest_date"] = min(p["oldest_date"], i["date"])
        m = p["months"][i["date"][:7]]
        m["pending_entries"] += 1
        m["pending_minutes"] += i["credited_minutes"] or 0
    return people


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 50])
def test_pages_of_any_size_are_the_whole_queue(api, org, limit):
    # Several people with several days each, names in an order unlike their ids.
    for n in range(7):
        org.submit(f"a{n}", "ani", day=f"2026-11-{2 + n % 3:02d}", start=f"{8 + n:02d}:00", end=f"{8 + n:02d}:30")
    for n in range(4):
        org.submit(f"b{n}", "budi", day=f"2026-10-{28 + n:02d}")
    whole = api.get("/queue", "kabid").get_json()["items"]
    assert len(whole) == 11
    seen, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        got = api.get("/queue", "kabid", query_string=params).get_json()
        assert got["total"] == 11 and len(got["items"]) <= limit
        seen += got["items"]
        cursor = got["next_cursor"]
        if cursor is None:
            break
        assert len(got["items"]) == limit  # only the last page is short
    assert seen == whole
    people = reference_people(whole, api)
    assert [p["employee_id"] for p in got["people"]] == list(people)
    for p in got["people"]:
        want = people[p["employee_id"]]
        assert {k: p[k] for k in ("employee_name", "nip", "pending_entries", "pending_minutes", "escalated_entries",
                                  "oldest_date")} == {k: want[k] for k in ("employee_name", "nip", "pending_entries",
                                                                            "pending_minutes", "escalated_entries",
                                                                            "oldest_date")}
        assert [(m["month"], m["pending_entries"], m["pending_minutes"]) for m in p["months"]] == [
            (month, v["pending_entries"], v["pending_minutes"]) for month, v in sorted(want["months"].items())]
    ids = api.get("/queue/entry-ids", "kabid").get_json()
    assert ids == {"entry_ids": [i["entry_id"] for i in whole], "total": 11}
