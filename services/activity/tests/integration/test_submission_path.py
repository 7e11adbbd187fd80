"""The submission's two-statement path on PostgreSQL (issue 13): the facts are read without the
employee's lock, and the write takes the lock only if nobody changed the employee's entries since
(services._pg_write). These tests put a competing writer exactly between the read and the write —
the interleaving the old "lock first" order excluded — and check that nothing is doubled and the
answers are the ones a one-at-a-time order gives."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from activity import entry_facts, services
from activity.app import EntryIn
from activity.domain import EntryRules
from activity.orm import Entry, EntryClaim, MonthSummary



def entry_body(world, **kw) -> dict:
    body = {"date": world.today.isoformat(), "start_time": "08:00", "end_time": "10:00", "duty_id": world.duty_id,
            "volume": 3, "description": "Menyusun laporan bulanan"}
    return {**body, **kw}


def entry_count(runtime) -> int:
    with runtime.session_factory() as s:
        return s.scalar(select(func.count()).select_from(Entry))


def submit(client, keys, world, **kw):
    return client.post("/entries", json=entry_body(world, **kw), headers=keys.headers(world.employee_id, "pegawai"))


@pytest.fixture
def between_read_and_write(monkeypatch):
    """``run(fn)``: ``fn`` runs to completion (in another thread, its own transaction) right after
    the next submission has read its facts, before it writes."""
    pending = []
    reads: list[str | None] = []  # per read, the isolation level it ran in (None: a transaction)
    real = entry_facts.read

    def read(session, *args, **kwargs):
        reads.append(session.connection().get_execution_options().get("isolation_level"))
        result = real(session, *args, **kwargs)
        if pending:
            worker = threading.Thread(target=pending.pop())
            worker.start()
            worker.join(10)
            assert not worker.is_alive(), "the competing writer was blocked: the read took a lock"
        return result

    monkeypatch.setattr(entry_facts, "read", read)
    return Between(pending.append, reads)


class Between:
    """Call it with the competitor; ``reads`` tells how the submission's reads ran."""

    def __init__(self, run, reads):
        self.run, self.reads = run, reads

    def __call__(self, fn):
        self.run(fn)


def _competitor(app, keys, world, results, **kw):
    def run():
        results.append(app.test_client().post("/entries", json=entry_body(world, **kw),
                                               headers=keys.headers(world.employee_id, "pegawai")))
    return run


@pytest.mark.parametrize("first_ever", [True, False], ids=["no-lock-row-yet", "lock-row-exists"])
def test_a_competitor_between_read_and_write_is_seen(client, keys, world, runtime, app, between_read_and_write,
                                                     outbox, consistent, first_ever):
    """The competitor stores 08:00–10:00 after this submission read a free day; the write notices
    (the lock row changed), reads again under the lock and refuses the overlap: one entry, one
    event, the month counted once."""
    if not first_ever:
        assert submit(client, keys, world, start_time="13:00", end_time="14:00").status_code == 201
    won = []
    between_read_and_write(_competitor(app, keys, world, won))
    r = submit(client, keys, world, start_time="09:00", end_time="11:00")
    assert won[0].status_code == 201
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"start_time"}
    assert "08:00–10:00" in r.get_json()["error"]["fields"]["start_time"]["message"]
    assert entry_count(runtime) == (1 if first_ever else 2)
    # Read at once (no transaction) first, then — the write having found the lock row changed and
    # written nothing — read again in a transaction (the competitor's own read comes between).
    assert between_read_and_write.reads[0] == "AUTOCOMMIT" and between_read_and_write.reads[-1] is None
    assert [e["data"]["start_time"] for e in outbox() if e["type"] == "activity.submitted"][-1] == "08:00"
    assert len(outbox()) == entry_count(runtime)
    consistent()


def test_a_competitor_that_leaves_room_lets_the_second_through_under_the_ceiling(
        client, keys, world, runtime, app, between_read_and_write, consistent):
    """Read again, judged again: a competitor's entry that does not overlap still counts in the
    daily ceiling of the second (450 minutes: 2 × 4 h do not fit)."""
    won = []
    between_read_and_write(_competitor(app, keys, world, won, start_time="07:00", end_time="11:00", volume=8))
    r = submit(client, keys, world, start_time="12:00", end_time="16:00", volume=8)
    assert won[0].status_code == 201 and won[0].get_json()["credited_minutes"] == 240
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"credited_minutes"}
    assert entry_count(runtime) == 1
    between_read_and_write(_competitor(app, keys, world, won, start_time="12:00", end_time="13:00"))
    r = submit(client, keys, world, start_time="14:00", end_time="15:00")
    assert r.status_code == 201 and won[1].status_code == 201
    assert entry_count(runtime) == 3
    consistent()


def test_an_edit_between_read_and_write_is_seen(client, keys, world, runtime, between_read_and_write):
    """Writers other than submissions (here an edit of a pending entry, which keeps the announced
    version's slot as a claim) take the same lock: a submission that read the day before the edit
    sees the claim once it writes."""
    first = submit(client, keys, world, start_time="08:00", end_time="09:00").get_json()
    h = keys.headers(world.employee_id, "pegawai")

    def edit():
        moved = client.application.test_client().put(f"/entries/{first['id']}", json=entry_body(
            world, start_time="13:00", end_time="14:00"), headers=h)
        assert moved.status_code == 200 and moved.get_json()["awaiting_confirmation"]

    # Before the edit the submission read 08:00–09:00 as taken and 13:00–14:00 as free; the edit
    # moves the entry there and keeps 08:00–09:00 claimed until approval answers.
    between_read_and_write(edit)
    r = submit(client, keys, world, start_time="13:30", end_time="14:30")
    assert r.status_code == 422 and "13:00–14:00" in r.get_json()["error"]["fields"]["start_time"]["message"]
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(EntryClaim)) == 1
    assert entry_count(runtime) == 1


def test_many_concurrent_submissions_of_one_slot_store_one(app, keys, world, runtime, consistent):
    """Eight at once for the same slot: one 201, seven 422, one entry."""
    barrier = threading.Barrier(8)
    codes = []

    def one():
        c = app.test_client()
        barrier.wait()
        codes.append(c.post("/entries", json=entry_body(world), headers=keys.headers(world.employee_id, "pegawai"))
                     .status_code)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes) == [201] + [422] * 7
    assert entry_count(runtime) == 1
    consistent()


def test_a_submission_is_two_statements(client, keys, world, runtime):
    """The facts in one read, the lock, entry, month summary and outbox row in one write (a
    refusal: the read alone)."""
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(runtime.engine, "before_cursor_execute", listener)
    try:
        assert submit(client, keys, world).status_code == 201
        assert len(seen) == 2, seen
        seen.clear()
        assert submit(client, keys, world).status_code == 422
        assert len(seen) == 1, seen
    finally:
        event.remove(runtime.engine, "before_cursor_execute", listener)


def test_batch_and_drafts_take_the_same_path(client, keys, world, runtime, outbox, consistent, month):
    """A batch over two months and a draft: the rows, summaries and events a one-at-a-time order
    gives (drafts are not announced)."""
    h = keys.headers(world.employee_id, "pegawai")
    last_month = world.today.replace(day=1) - timedelta(days=1)
    items = [entry_body(world, start_time="07:00", end_time="08:00"), entry_body(world, start_time="08:00", end_time="09:00"),
             entry_body(world, date=last_month.isoformat(), start_time="07:00", end_time="08:00")]
    r = client.post("/entries/batch", json={"entries": items}, headers=h)
    if r.status_code == 422:  # last month may be outside the window today: the batch is refused whole
        assert set(r.get_json()["error"]["fields"]) == {"entries.2.date"} and entry_count(runtime) == 0
        items = items[:2]
        r = client.post("/entries/batch", json={"entries": items}, headers=h)
    assert r.status_code == 201, r.get_json()
    assert len(r.get_json()["entries"]) == len(items)
    d = client.post("/entries", json={**entry_body(world, start_time="10:00", end_time="11:00"), "submit": False}, headers=h)
    assert d.status_code == 201 and d.get_json()["status"] == "draft"
    assert [e["type"] for e in outbox()] == ["activity.submitted"] * len(items)
    assert month(world.employee_id)["minutes"]["draft"] == 60
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(MonthSummary)) == len({i["date"][:7] for i in items})
        stored = s.get(Entry, d.get_json()["id"])
        assert (stored.status, stored.submitted_version, stored.version) == ("draft", 0, 1)
    consistent()


def test_the_service_layer_result_is_the_stored_row(keys, world, runtime):
    """create_entries hands back entries equal to what a read of the table gives."""
    draft = EntryIn.model_validate(entry_body(world)).draft()
    with runtime.uow() as uow:
        [made] = services.create_entries(uow, world.employee_id, [draft], world.today, EntryRules())
        uow.commit()
    with runtime.session_factory() as s:
        stored = s.get(Entry, made.id)
        assert {c.key: getattr(stored, c.key) for c in Entry.__table__.columns} == \
            {c.key: getattr(made, c.key) for c in Entry.__table__.columns}
