"""The queue's counts (``queue_counts``, kept by ``approval.queue_model``) are exactly a recount of
the pending items after any sequence of submissions, resubmissions that move an entry to another
day or month, withdrawals, decisions (one and bulk), escalations and placement and position
changes; and a queue page read from them equals the page counted by the GROUP BY it replaced."""
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from approval import jobs, queue_model, repository
from approval.orm import QueueCount, ValidationItem

SEEDS = [20261201, 7, 99]
STAFF = [f"s{n}" for n in range(8)]
CODES = ["KADIS", "KABID", "KABID2", "STAFF1", "STAFF2", "STAFF3"]


def stored_counts(runtime) -> dict:
    with runtime.session_factory() as s:
        return {(c.holder_id, c.employee_id, c.year, c.month): {"entries": c.entries, "minutes": c.minutes,
                                                                "escalated": c.escalated, "oldest": c.oldest}
                for c in s.scalars(select(QueueCount))}


def assert_exact(runtime, step) -> None:
    stored = stored_counts(runtime)
    with runtime.session_factory() as s:
        assert stored == queue_model.counts_of(s), step
        # ... and each holder's months are those the GROUP BY over their queue gives.
        holders = {h for h, _, _, _ in stored} | set(s.scalars(select(ValidationItem.supervisor_id).distinct()))
        for holder in holders - {None}:
            assert repository.counted_months(s, holder, None, None)[0] == repository.queue_months(s, holder), step


@pytest.mark.parametrize("seed", SEEDS)
def test_counts_equal_a_recount_after_any_sequence_of_changes(api, org, runtime, clock, seed):
    rng = random.Random(seed)
    feed = org
    for n, key in enumerate(STAFF):
        feed.employee(key, f"Staf {n}", nip=f"1986092620150520{n:02d}")
        feed.place(key, rng.choice(["STAFF1", "STAFF2", "STAFF3"]))
    days = [date(2026, 10, 20) + timedelta(days=n) for n in range(30)]
    clock.today = date(2026, 11, 20)
    versions: dict[str, int] = {}
    where: dict[str, tuple[str, date]] = {}
    names = {v: k for k, v in feed.ids.items()}

    def submit():
        entry = str(rng.randrange(60))
        who, day = where.get(entry, (rng.choice(STAFF), rng.choice(days)))
        if rng.random() < 0.3:
            day = rng.choice(days)  # a resubmission may move to another day, another month
        versions[entry] = versions.get(entry, 0) + 1
        where[entry] = (who, day)
        feed.send("activity.submitted", "activity", {
            "entry_id": feed.id(f"E:{entry}"), "employee_id": feed.id(who), "date": day.isoformat(),
            "start_time": f"{8 + int(entry) % 8:02d}:00", "end_time": f"{8 + int(entry) % 8:02d}:45",
            "duty_id": feed.id("D:laporan"), "duty_description": "Menyusun laporan", "volume": 1,
            "output_unit": "laporan", "credited_minutes": rng.choice([30, 45, 60, 90]), "description": "x",
            "version": versions[entry]})

    def withdraw():
        if not where:
            return
        entry = rng.choice(sorted(where))
        who, day = where[entry]
        versions[entry] += 1
        feed.withdraw(entry, who, day=day.isoformat(), version=versions[entry])

    def pending_of() -> dict[str, list[str]]:
        """Each holder's pending entries (as their queue shows them)."""
        with runtime.session_factory() as s:
            return {h: [r.item.entry_id for r in repository.queue_view(s, h)]
                    for h in set(s.scalars(select(ValidationItem.supervisor_id).distinct())) - {None}}

    def decide():
        queues = {h: ids for h, ids in pending_of().items() if ids and h in names}
        if not queues:
            return
        holder = rng.choice(sorted(queues))
        chosen = rng.sample(queues[holder], min(len(queues[holder]), rng.choice([1, 1, 3])))
        decision = rng.choice(["approve", "return", "reject"])
        body = {"decision": decision, "entry_ids": chosen, **({"reason": "Perbaiki"} if decision != "approve" else {})}
        r = api.post("/decisions", names[holder], json=body)
        assert r.status_code in (200, 409), r.get_json()  # 409: a locked month is not in play here

    def move():
        key = rng.choice(STAFF + ["ani", "budi", "citra"])
        start = rng.choice(days)
        feed.place(key, rng.choice(CODES[1:]), start=start.isoformat(), kind=rng.choice(["definitive", "plt"]),
                   end=(start + timedelta(days=rng.randrange(2, 20))).isoformat(), version=rng.randrange(2, 1000),
                   placement=f"PL:{key}:{rng.randrange(3)}")

    def reparent():
        code = rng.choice(["STAFF1", "STAFF2", "STAFF3"])
        feed.position(code, parent=rng.choice(["KABID", "KABID2"]), version=rng.randrange(2, 1000),
                      event="position.updated")

    def escalate():
        jobs.run(runtime, date(2026, 12, rng.choice([1, 8])))

    steps = [submit] * 8 + [withdraw] * 2 + [decide] * 3 + [move, reparent, escalate]
    for n in range(70):
        step = rng.choice(steps)
        step()
        assert_exact(runtime, (n, step.__name__))
    assert stored_counts(runtime), "the sequence left nothing pending: it tested nothing"


def test_a_page_from_the_counts_equals_the_page_from_the_group_by(api, org, runtime):
    """A filter on whole months reads the counts, any other the GROUP BY: the same queue, filtered
    to the 1st..last of a month either way, answers alike (totals, people, items)."""
    for n in range(6):
        org.submit(f"a{n}", "ani", day=f"2026-11-{3 + n:02d}")
        org.submit(f"o{n}", "ani", day=f"2026-10-{20 + n:02d}")
        org.submit(f"b{n}", "budi", day=f"2026-11-{10 + n:02d}")
    month = api.get("/queue", "kabid", query_string={"limit": 4, "month": "2026-11"}).get_json()
    dates = api.get("/queue", "kabid", query_string={"limit": 4, "from": "2026-10-31", "to": "2026-11-30"}).get_json()
    assert month["totals"] == dates["totals"] == {"entries": 12, "minutes": 720, "people": 2, "escalated": 0}
    assert month["people"] == dates["people"] and month["items"] == dates["items"]
    whole = api.get("/queue", "kabid", query_string={"limit": 50}).get_json()
    assert whole["totals"]["entries"] == 18 and [m["month"] for m in whole["people"][0]["months"]] == ["2026-10",
                                                                                                      "2026-11"]


def test_the_migration_counts_what_is_already_pending(org, runtime):
    org.submit("a1", "ani")
    org.submit("c1", "citra", day="2026-10-30")
    before = stored_counts(runtime)
    with runtime.session_factory() as s, s.begin():
        s.execute(QueueCount.__table__.delete())
    with runtime.session_factory() as s, s.begin():
        queue_model.recount_all(s)
    assert stored_counts(runtime) == before and len(before) == 2


def test_concurrent_submissions_of_one_month_are_all_counted(org, runtime):
    """Two consumers committing entries of the same employee's month at the same time: each
    recount waits for the other's commit (the advisory lock per month), so none is lost and no
    two transactions insert the same count row."""
    import threading

    from ekinerja_common.consumer import Consumer
    from approval.inbox import HANDLERS

    errors: list[BaseException] = []

    def consumer(prefix: str) -> None:
        mine = Consumer(runtime.settings, runtime.session_factory, runtime.metadata, HANDLERS)
        try:
            for n in range(15):
                env = org.envelope("activity.submitted", "activity", {
                    "entry_id": org.id(f"E:{prefix}{n}"), "employee_id": org.id("ani"),
                    "date": f"2026-11-{1 + n:02d}", "start_time": "08:00", "end_time": "09:00",
                    "duty_id": org.id("D:laporan"), "duty_description": "Menyusun laporan", "volume": 1,
                    "output_unit": "laporan", "credited_minutes": 60, "description": "x", "version": 1})
                assert mine.apply(env) == "handled"
        except BaseException as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=consumer, args=(p,)) for p in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert [c["entries"] for c in stored_counts(runtime).values()] == [45]
    assert_exact(runtime, "concurrent")
