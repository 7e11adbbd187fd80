"""The supervisor's queue on real PostgreSQL, resolved from the read models at query time."""
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from approval import repository
from approval.orm import ValidationItem


SEEDS = [20261127, 7]


def queue(client, keys, feed, who):
    r = client.get("/queue", headers=keys.headers(feed.id(who), "pegawai"))
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def entries(items, feed):
    names = {v: k for k, v in feed.ids.items()}
    return [names[i["entry_id"]] for i in items]


def test_head_sees_only_pending_items_of_their_subordinates_in_order(client, keys, org):
    org.submit("budi-2", "budi", day="2026-11-10", start="13:00", end="14:00")
    org.submit("ani-2", "ani", day="2026-11-11", start="08:00", end="09:00")
    org.submit("budi-1", "budi", day="2026-11-10", start="08:00", end="09:00")
    org.submit("ani-1", "ani", day="2026-11-10", start="10:00", end="11:00")
    org.submit("citra", "citra")  # the other bidang
    org.submit("kabid", "kabid")  # the head's own entry
    org.submit("kadis", "kadis")  # the top: nobody supervises the kadis here

    items = queue(client, keys, org, "kabid")
    assert entries(items, org) == ["E:ani-1", "E:ani-2", "E:budi-1", "E:budi-2"]
    first = items[0]
    assert first["employee_id"] == org.id("ani") and first["employee_name"] == "Ani Lestari"
    assert first["nip"] == "198609262015051004"
    assert (first["date"], first["start_time"], first["end_time"]) == ("2026-11-10", "10:00", "11:00")
    assert first["duty_description"] == "Menyusun laporan bulanan" and first["volume"] == 1
    assert first["output_unit"] == "laporan" and first["credited_minutes"] == 60 and first["status"] == "pending"
    assert first["submitted_at"].endswith("Z")

    assert entries(queue(client, keys, org, "kadis"), org) == ["E:kabid"]
    assert entries(queue(client, keys, org, "kabid2"), org) == ["E:citra"]
    assert queue(client, keys, org, "ani") == []


def test_a_withdrawn_entry_leaves_the_queue(client, keys, org):
    org.submit("1", "ani")
    org.submit("2", "ani", start="10:00", end="11:00")
    org.withdraw("1", "ani", version=2)
    assert entries(queue(client, keys, org, "kabid"), org) == ["E:2"]


def test_a_late_placement_event_puts_the_item_in_the_right_queue(client, keys, org):
    org.employee("dodi", "Dodi Pratama")
    org.submit("1", "dodi")
    for who in ("kabid", "kabid2", "kadis"):
        assert queue(client, keys, org, who) == []
    # The placement reaches approval only now; its position even later.
    org.place("dodi", "STAFF4")
    assert queue(client, keys, org, "kabid2") == []
    org.position("STAFF4", parent="KABID2")
    assert entries(queue(client, keys, org, "kabid2"), org) == ["E:1"]
    assert queue(client, keys, org, "kabid") == []


def test_a_vacant_post_goes_up_and_a_plt_takes_over(client, keys, org):
    # The kabid leaves on 15 November: later entries go up to the kadis ...
    org.place("kabid", "KABID", end="2026-11-15", version=2)
    org.submit("before", "ani", day="2026-11-15")
    org.submit("after", "ani", day="2026-11-20")
    assert entries(queue(client, keys, org, "kabid"), org) == ["E:before"]
    assert entries(queue(client, keys, org, "kadis"), org) == ["E:after"]
    # ... until the kabid2 is appointed Plt of the vacant KABID from 18 November.
    org.place("kabid2", "KABID", start="2026-11-18", kind="plt")
    assert entries(queue(client, keys, org, "kabid2"), org) == ["E:after"]
    assert queue(client, keys, org, "kadis") == []


def test_a_resubmission_after_return_is_pending_again(client, keys, org):
    org.submit("1", "ani")
    h = keys.headers(org.id("kabid"), "pegawai")
    r = client.post(f"/entries/{org.id('E:1')}/return", json={"reason": "Lampirkan bukti"}, headers=h)
    assert r.status_code == 200 and r.get_json()["version"] == 2
    assert queue(client, keys, org, "kabid") == []
    org.submit("1", "ani", version=3, description="Dengan bukti")
    items = queue(client, keys, org, "kabid")
    assert entries(items, org) == ["E:1"] and items[0]["version"] == 3 and items[0]["description"] == "Dengan bukti"


def test_the_queue_needs_a_token_and_the_pegawai_role(client, keys, org):
    assert client.get("/queue").status_code == 401
    r = client.get("/queue", headers=keys.headers(org.id("kabid"), "bpkad"))
    assert r.status_code == 403
    assert client.get("/queue", headers=keys.headers(None, "pegawai")).get_json() == {"items": [], "groups": []}


@pytest.mark.parametrize("seed", SEEDS)
def test_the_queue_agrees_with_resolving_each_entry_alone(feed, runtime, seed):
    """The queue's subtree shortcut must pick exactly the entries whose supervisor, resolved one
    by one from the full tree, is the caller: random trees, vacancies, Plt posts, overlaps."""
    rng = random.Random(seed)
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(30)]
    people = [f"p{n}" for n in range(25)]
    codes = [f"J{n}" for n in range(15)]
    for n, code in enumerate(codes):
        feed.position(code, parent=codes[rng.randrange(n)] if n and rng.random() < 0.9 else None)
    for n in range(45):
        start = rng.choice(days[:20])
        end = start + timedelta(days=rng.randrange(3, 25)) if rng.random() < 0.5 else None
        feed.place(rng.choice(people), rng.choice(codes), start=start.isoformat(), end=end and end.isoformat(),
                   kind="plt" if rng.random() < 0.3 else "definitive", placement=f"PL{n}")
    for n in range(80):
        feed.submit(str(n), rng.choice(people), day=rng.choice(days).isoformat())

    with runtime.session_factory() as s:
        items = s.scalars(select(ValidationItem)).all()
        expected = {feed.id(p): set() for p in people}
        for item in items:
            boss = repository.supervisor_of(s, item.employee_id, item.date)
            if boss is not None:
                expected[boss].add(item.entry_id)
        assert sum(map(len, expected.values())) > 20  # the world is not trivially empty
        for person in people:
            got = [r.item.entry_id for r in repository.queue_for(s, feed.id(person))]
            assert len(got) == len(set(got)) and set(got) == expected[feed.id(person)], person
