"""A backlog of submissions applied in the consumer's batches (``Consumer.apply_many``, where
``on_activity_submitted``'s batch form takes each run of submissions at once) leaves exactly the
rows that the same events applied one at a time (``Consumer.apply``) leave: two databases from the
same template, the same envelopes, every table compared. The sequence has what a batch could get
wrong: several versions of one entry in one batch (in order and out of order), the same envelope
twice in a batch and again in a later one, a withdrawal and a placement between submissions,
resubmissions after a return (confirmed to activity) and after an approval (ignored)."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import DateTime, event, select

from ekinerja_common.config import Settings
from ekinerja_common.consumer import Consumer
from ekinerja_common.errors import Unrecoverable
from ekinerja_common.outbox import OUTBOX, PROCESSED
from ekinerja_common.testing import queue_prefix

from approval.app import create_app
from approval.inbox import HANDLERS
from approval.orm import ValidationItem

from ..conftest import Feed, database_from


@pytest.fixture
def twins(keys, migrated_template, clock):
    """Two approval apps on two databases from the same template: (batched, one at a time)."""
    apps = []
    with database_from(migrated_template) as a, database_from(migrated_template) as b:
        for url in (a, b):
            settings = Settings(service="approval", database_url=url, queue_prefix=queue_prefix())
            apps.append(create_app(settings, keys.verifier, today_fn=clock))
        yield apps
        for app in apps:
            app.extensions["runtime"].engine.dispose()


def consumer(app) -> Consumer:
    rt = app.extensions["runtime"]
    return Consumer(rt.settings, rt.session_factory, rt.metadata, HANDLERS)


class Events(Feed):
    """The Feed's events, collected instead of applied."""

    def __init__(self):
        super().__init__(None)  # type: ignore[arg-type]
        self.sent: list = []

    def apply(self, env):
        self.sent.append(env)
        return "handled"

    def take(self) -> list:
        sent, self.sent = self.sent, []
        return sent


def organisation(ev: Events) -> list:
    ev.position("KADIS")
    for code, parent in [("KABID", "KADIS"), ("KABID2", "KADIS"), ("STAFF1", "KABID"), ("STAFF2", "KABID")]:
        ev.position(code, parent)
    for n, (key, code) in enumerate([("kadis", "KADIS"), ("kabid", "KABID"), ("kabid2", "KABID2"),
                                     ("ani", "STAFF1"), ("budi", "STAFF2")], start=1):
        ev.employee(key, f"Pegawai {key}", nip=f"19860926201505100{n}")
        ev.place(key, code)
    return ev.take()


def tables(app) -> dict[str, list]:
    """Every table's rows, without what differs by the clock (timestamps) or by chance (generated
    ids; an outbox body's own id and times)."""
    rt = app.extensions["runtime"]
    out = {}
    with rt.engine.connect() as c:
        for table in rt.metadata.sorted_tables:
            generated = () if table.name == PROCESSED else ("id", "seq")  # processed ids are the events'
            cols = [col for col in table.columns if col.name not in generated
                    and (not isinstance(col.type, DateTime) or col.name == "submitted_at")]
            rows = [dict(r._mapping) for r in c.execute(select(*cols))]
            if table.name == OUTBOX:
                for r in rows:
                    body = json.loads(r["body"])
                    body["data"] = {k: v for k, v in body["data"].items() if k != "decided_at"}
                    r["body"] = {k: v for k, v in body.items() if k not in ("id", "occurred_at")}
            out[table.name] = sorted(rows, key=repr)
    return out


def apply_both(apps, envs: list, batch: int = 7) -> tuple[list, list]:
    batched, single = consumer(apps[0]), consumer(apps[1])
    a = [o for n in range(0, len(envs), batch) for o in batched.apply_many(envs[n:n + batch])]
    b = [single.apply(env) for env in envs]
    return a, b


def decide(app, keys, ev: Events, entry: str, verb: str) -> None:
    headers = {**keys.headers(ev.id("kabid"), "pegawai"), "X-Request-ID": f"req-{verb}-{entry}"}
    body = {"reason": "Perbaiki uraian"} if verb != "approve" else None
    r = app.test_client().post(f"/entries/{ev.id(f'E:{entry}')}/{verb}", headers=headers, json=body)
    assert r.status_code == 200, r.get_json()


def test_batched_submissions_leave_the_same_rows_as_one_at_a_time(twins, keys):
    ev = Events()
    org = organisation(ev)
    assert apply_both(twins, org, batch=1) == (["handled"] * len(org), ["handled"] * len(org))

    # A backlog: new entries, then one entry in three versions within one batch.
    for n in range(1, 15):
        ev.submit(str(n), "ani" if n % 2 else "budi", day=f"2026-11-{10 + n % 5:02d}", start=f"{7 + n % 3:02d}:00",
                  end=f"{8 + n % 3:02d}:00")
    first = ev.take()
    ev.submit("9", "ani", version=2, description="v2")
    ev.submit("9", "ani", version=3, description="v3")
    v2, v3 = ev.take()
    envs = [*first[:10], v2, first[10], v3, first[12], v2, first[11], first[13]]  # v2 also redelivered behind v3
    a, b = apply_both(twins, envs)
    assert a == b and a.count("duplicate") == 1
    assert tables(twins[0]) == tables(twins[1])

    # A decision on each side: entry 1 approved (it stands), entry 2 returned (a newer version is taken).
    for app in twins:
        decide(app, keys, ev, "1", "approve")
        decide(app, keys, ev, "2", "return")

    ev.submit("2", "budi", version=3, description="diperbaiki")       # after the return: confirmed to activity
    ev.submit("1", "ani", version=3, description="terlambat")         # after the approval: ignored
    ev.submit("9", "ani", version=1, description="basi")              # older than stored: ignored
    ev.withdraw("5", "ani", version=2)                                 # between submissions: ends a run
    ev.submit("5", "ani", version=3, description="kembali")           # after its withdrawal, newer: taken
    ev.withdraw("20", "ani", day="2026-11-12", version=2)              # before its submission: a tombstone
    ev.submit("20", "ani", day="2026-11-12", version=1)                # the late, older submission: ignored
    ev.submit("21", "ani", day="2026-11-13")
    ev.place("ani", "KABID2", start="2026-11-01", placement="PL:ani:move")  # a placement between them
    ev.submit("22", "ani", day="2026-11-13", start="10:00", end="11:00")
    ev.submit("21", "ani", day="2026-11-13", version=2, description="v2")
    later = ev.take()
    envs = [*later, first[3], later[0], *later[:2]]  # redeliveries from an earlier batch and this one
    a, b = apply_both(twins, envs, batch=20)
    assert a == b and a.count("duplicate") == 4
    assert tables(twins[0]) == tables(twins[1])

    with twins[0].extensions["runtime"].session_factory() as s:
        items = {i.entry_id: i for i in s.scalars(select(ValidationItem))}
        at = lambda key: items[ev.id(f"E:{key}")]  # noqa: E731
        assert (at("9").version, at("9").description) == (3, "v3")
        assert (at("1").status, at("2").status, at("2").version) == ("approved", "pending", 3)
        assert (at("5").status, at("20").status, at("21").version) == ("pending", "withdrawn", 2)
        assert at("21").supervisor_id is not None and at("21").supervisor_id == at("22").supervisor_id
    accepted = sorted((r["body"]["data"]["entry_id"], r["body"]["data"]["version"])
                      for r in tables(twins[0])[OUTBOX] if r["type"] == "activity.change_accepted")
    # Every change taken over an earlier version, and the withdrawal that overtook its submission.
    assert accepted == sorted((ev.id(f"E:{e}"), v) for e, v in [("9", 2), ("9", 3), ("2", 3), ("5", 2), ("5", 3),
                                                                  ("20", 2), ("21", 2)])


def test_a_batch_of_submissions_costs_the_same_statements_whatever_its_size(twins):
    """The batch form's point: a few statements per batch, not a few per submission."""
    ev = Events()
    org = organisation(ev)
    apply_both(twins, org, batch=1)
    app = twins[0]
    engine = app.extensions["runtime"].engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    counts = []
    for size in (4, 40):
        for n in range(size):
            ev.submit(f"{size}-{n}", "ani" if n % 2 else "budi", day="2026-11-10", start=f"{7 + n % 8:02d}:00",
                      end=f"{8 + n % 8:02d}:00")
        envs = ev.take()
        statements.clear()
        assert consumer(app).apply_many(envs) == ["handled"] * size
        counts.append(len(statements))
        # New items are inserted with their supervisor, not updated with it right after.
        assert not [st for st in statements if st.startswith("UPDATE validation_items")]
    assert counts[0] == counts[1], counts


def test_a_poisoned_submission_fails_its_whole_batch_so_it_goes_alone(twins):
    """A submission that does not fit its model (no retry could cure it) rolls the whole batch back;
    the consumer then sends each delivery through on its own (libs' test_consumer_batches)."""
    ev = Events()
    org = organisation(ev)
    apply_both(twins, org, batch=1)
    ev.submit("1", "ani")
    ev.submit("2", "ani", start="10:00", end="11:00")
    good, other = ev.take()
    poison = type(good)(type="activity.submitted", source="activity", data={**good.data, "entry_id": str(uuid.uuid4()),
                                                                            "version": "dua"})
    c = consumer(twins[0])
    with pytest.raises(Unrecoverable):
        c.apply_many([good, poison, other])
    with twins[0].extensions["runtime"].session_factory() as s:
        assert s.scalars(select(ValidationItem.entry_id)).all() == []
    assert [c.apply(e) for e in (good, other)] == ["handled", "handled"]
