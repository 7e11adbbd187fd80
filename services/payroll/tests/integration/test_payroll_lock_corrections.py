"""The period lock and corrections (rapel): a locked month never changes; later changes to its data
become correction lines of a later month, each naming its cause, never paid twice.

One employee, kelas 9 (5,000,000), golongan III/b (PPh 5 %), PNS, no salary recorded (BPJS is 1 %
of the TPP alone). June 2026 has 21 working days (target 6,300), July 23 (6,900).
"""
import json
import threading

import pytest
from sqlalchemy import func, select

from payroll import services
from payroll.orm import AuditEntry, DataChange, TppCorrection, TppLineRow, TppRun

EMP = "emp-1"


def bpkad(keys):
    return keys.headers(None, "bpkad", account_id="bpkad-operator")


def figures(x):
    return x["gross"], x["pph"], x["bpjs"], x["net"]


def outbox_types(runtime):
    with runtime.engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT type FROM outbox ORDER BY seq").all()]


def count(runtime, model, *where):
    with runtime.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def one(events):
    events.position("p9", kelas=9, unit_id="unit-a")
    events.employee(EMP, golongan="III/b", nip="198609262015051001", name="Ani")
    events.placement("pl-1", EMP, "p9", "2020-01-01")
    # June: 5,670 of 6,300 minutes (90 %), full discipline:
    # gross 5,000,000 x (0.6 x 0.9 + 0.4) = 4,700,000; PPh 235,000; BPJS 47,000; net 4,418,000.
    events.decision("approved", "jun-a", EMP, "2026-06-02", 3_000)
    events.decision("approved", "jun-b", EMP, "2026-06-03", 2_670)


def compute(client, keys, month, year=2026):
    r = client.post(f"/runs/{year}/{month}/compute", headers=bpkad(keys))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def lock(client, keys, month, year=2026, acknowledge=True, **body):
    """Lock as BPKAD does from the page: having reviewed (acknowledged) the run's warnings."""
    if acknowledge:
        run = client.get(f"/runs/{year}/{month}", headers=bpkad(keys))
        if run.status_code == 200:
            body.setdefault("acknowledged_warnings", [w["code"] for w in run.get_json()["warnings"]])
    return client.post(f"/runs/{year}/{month}/lock", headers=bpkad(keys), **({"json": body} if body else {}))


def test_lock_is_bpkad_only_and_refuses_what_cannot_be_locked(one, client, keys, runtime):
    assert lock(client, keys, 6).status_code == 404  # never computed
    june = compute(client, keys, 6)
    for roles in [("pegawai",), ("admin_bkd",), ("organisasi",), ("majelis",)]:
        assert client.post("/runs/2026/6/lock", headers=keys.headers(EMP, *roles)).status_code == 403
    assert client.post("/runs/2026/6/lock").status_code == 401
    r = client.post("/runs/2026/6/lock", data="{", content_type="application/json", headers=bpkad(keys))
    assert r.status_code == 400
    r = lock(client, keys, 6, version=june["version"] + 1)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "stale_run"
    compute(client, keys, 7)
    r = lock(client, keys, 7)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "earlier_month_open"
    assert r.get_json()["error"]["message"] and r.get_json()["error"]["message_en"]
    assert outbox_types(runtime) == [] and count(runtime, TppRun, TppRun.status == "locked") == 0

    r = lock(client, keys, 6, version=june["version"])
    assert r.status_code == 200
    locked = r.get_json()
    assert (locked["status"], locked["locked_by"]) == ("locked", "bpkad-operator") and locked["locked_at"]
    assert locked["lines"] == june["lines"]
    r = lock(client, keys, 6)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "period_locked"
    assert outbox_types(runtime) == ["tpp.period_locked"]
    assert count(runtime, AuditEntry, AuditEntry.action == "run.locked") == 1
    assert lock(client, keys, 7).status_code == 200  # now in order


def test_lock_order_holds_against_every_earlier_month_not_only_those_with_a_run(one, client, keys, runtime):
    """Issue 9 item 6: September and October (never computed) could be computed and locked after
    November was locked. The first lock starts the sequence (the months before the system went
    live are never asked for); after it, no earlier month is computed or locked, and no month is
    locked while one between it and the last locked month is not."""
    compute(client, keys, 11)
    assert lock(client, keys, 11).status_code == 200  # the first lock: November
    for month in (9, 10):
        r = client.post(f"/runs/2026/{month}/compute", headers=bpkad(keys))
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "later_month_locked", month
        assert r.get_json()["error"]["message"] and r.get_json()["error"]["message_en"]
        r = lock(client, keys, month)
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "later_month_locked", month
    assert count(runtime, TppRun, TppRun.year == 2026, TppRun.month.in_([9, 10])) == 0
    # January cannot be locked while December, between it and November, is not (no run yet).
    compute(client, keys, 1, year=2027)
    r = lock(client, keys, 1, year=2027)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "earlier_month_open"
    assert "12/2026" in r.get_json()["error"]["message"]
    compute(client, keys, 12)
    assert lock(client, keys, 12).status_code == 200
    assert lock(client, keys, 1, year=2027).status_code == 200


def test_a_locked_month_refuses_every_change(one, client, keys, runtime):
    compute(client, keys, 6)
    lock(client, keys, 6)
    h = bpkad(keys)
    for r in (client.post("/runs/2026/6/compute", headers=h),
              client.put("/salaries/2026/6", json={"salaries": [{"employee_id": EMP, "salary": 1}]}, headers=h),
              client.post("/salaries/2026/6/import", data=b"nip,gaji_pokok\n198609262015051001,1\n",
                          content_type="text/csv", headers=h)):
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "period_locked"
    with runtime.session_factory() as s:
        assert s.scalar(select(TppRun.version)) == 1 and s.scalar(select(func.count()).select_from(TppLineRow)) == 1


def test_changes_after_the_last_compute_show_as_pending_and_become_corrections(one, client, keys, events):
    june = compute(client, keys, 6)
    assert june["pending_changes"] == 0 and figures(june["lines"][0]) == (4_700_000, 235_000, 47_000, 4_418_000)
    # Approved after the compute, before the lock: the run is out of date and says so.
    events.decision("approved", "jun-c", EMP, "2026-06-04", 630)
    assert client.get("/runs/2026/6", headers=bpkad(keys)).get_json()["pending_changes"] == 1
    lock(client, keys, 6)  # locked as computed
    july = compute(client, keys, 7)
    [c] = july["corrections"]
    # June now 6,300 minutes (100 %): 5,000,000 = +300,000 gross, PPh +15,000, BPJS +3,000, net +282,000.
    assert figures(c) == (300_000, 15_000, 3_000, 282_000) and c["cause"]["event_type"] == "activity.approved"


def test_corrections_are_never_paid_twice(one, client, keys, events, runtime):
    compute(client, keys, 6)
    lock(client, keys, 6)
    events.decision("approved", "jun-c", EMP, "2026-06-04", 630)  # +282,000 net, as above
    # July and August both open: the June correction lands in one of them only.
    first = compute(client, keys, 7)
    assert [figures(c) for c in first["corrections"]] == [(300_000, 15_000, 3_000, 282_000)]
    assert compute(client, keys, 8)["corrections"] == []
    assert [figures(c) for c in compute(client, keys, 7)["corrections"]] == [(300_000, 15_000, 3_000, 282_000)]
    assert count(runtime, TppCorrection) == 1
    lock(client, keys, 7)
    assert compute(client, keys, 8)["corrections"] == []
    # A further change is corrected by its difference only: the entry is rejected after all.
    events.decision("rejected", "jun-c", EMP, "2026-06-04", 630, version=2)
    [back] = compute(client, keys, 8)["corrections"]
    assert figures(back) == (-300_000, -15_000, -3_000, -282_000)
    assert back["basis"]["earlier_corrections"] == {"gross": 300_000, "pph": 15_000, "bpjs": 3_000, "net": 282_000}
    lock(client, keys, 8)
    # Everything paid for June now equals June recomputed today: the locked line alone.
    with runtime.session_factory() as s:
        paid = s.scalar(select(func.sum(TppCorrection.net)).where(TppCorrection.for_month == 6))
    assert paid == 0 and compute(client, keys, 9)["corrections"] == []
    assert outbox_types(runtime).count("tpp.correction_issued") == 2


def test_a_change_in_a_later_open_month_recomputes_that_month_instead(one, client, keys, events):
    compute(client, keys, 6)
    lock(client, keys, 6)
    compute(client, keys, 7)
    events.decision("approved", "jul-a", EMP, "2026-07-01", 6_900)
    july = compute(client, keys, 7)
    assert july["corrections"] == [] and july["lines"][0]["inputs"]["approved_minutes"] == 6_900


def test_sanction_after_the_lock_is_recovered_and_its_revocation_repaid(one, client, keys, events, runtime):
    compute(client, keys, 6)
    lock(client, keys, 6)
    r = client.post("/sanctions", json={"employee_id": EMP, "start_date": "2026-06-15", "end_date": "2026-11-30",
                                        "cut_pct": "25", "reference": "SK-1"}, headers=bpkad(keys))
    sanction = r.get_json()
    july = compute(client, keys, 7)
    [c] = july["corrections"]
    # June x 75 %: 3,525,000; PPh 176,250; BPJS 35,250; net 3,313,500 -> -1,175,000 / -58,750 / -11,750 / -1,104,500.
    assert figures(c) == (-1_175_000, -58_750, -11_750, -1_104_500)
    assert c["cause"] == {"event_id": sanction["id"], "event_type": "sanction.recorded", "for_year": 2026,
                          "for_month": 6, "text": "hukuman disiplin dicatat",
                          "changes": [{"event_id": sanction["id"], "event_type": "sanction.recorded", "ref": None,
                                       "day": None}]}
    assert c["cause_text"] == "hukuman disiplin dicatat"
    # July itself is cut too (the sanction overlaps it): 5,000,000 x 0.4 x 0.75 = 1,500,000.
    assert july["lines"][0]["gross"] == 1_500_000
    # The disbursement list shows the recovery: July's net 1,410,000 less 1,104,500.
    rows = client.get("/runs/2026/7/disbursement.csv", headers=bpkad(keys)).get_data().decode("utf-8-sig").splitlines()
    assert rows[1].split(",")[3] == str(1_410_000 - 1_104_500)
    lock(client, keys, 7)
    r = client.post(f"/sanctions/{sanction['id']}/revoke", json={"reason": "Dibatalkan oleh putusan banding"},
                    headers=bpkad(keys))
    assert r.status_code == 200 and r.get_json()["revoked_by"] == "bpkad-operator"
    august = compute(client, keys, 8)
    back = {(c["for_month"]): c for c in august["corrections"]}
    assert figures(back[6]) == (1_175_000, 58_750, 11_750, 1_104_500)
    # July was locked at 1,500,000; in full it is 2,000,000 (no minutes, 40 %): +500,000 gross.
    assert figures(back[7]) == (500_000, 25_000, 5_000, 470_000)
    assert {c["cause"]["event_type"] for c in august["corrections"]} == {"sanction.revoked"}


def test_an_appeal_granted_after_the_lock_is_a_correction_that_names_it(one, client, keys, events):
    events.decision("rejected", "jun-r", EMP, "2026-06-05", 630)
    compute(client, keys, 6)
    lock(client, keys, 6)
    events.appeal_decided("ap-1a2b3c4d-rest", EMP, [("jun-r", "2026-06-05", 630)], "overturned", version=2)
    [up] = compute(client, keys, 7)["corrections"]
    assert figures(up) == (300_000, 15_000, 3_000, 282_000)
    assert up["cause"]["event_type"] == "appeal.decided" and up["cause"]["changes"][0]["ref"] == "ap-1a2b3c4d-rest"
    assert up["cause_text"] == "banding dikabulkan (keberatan ap-1a2b3)"


def test_locked_month_keeps_its_policy_version(one, client, keys, events):
    compute(client, keys, 6)
    lock(client, keys, 6)
    doc = client.get("/policies/2026", headers=bpkad(keys)).get_json()
    doc["base_amounts"]["9"] = 10_000_000
    assert client.put("/policies/2026", json=doc, headers=bpkad(keys)).status_code == 200
    events.decision("approved", "jun-c", EMP, "2026-06-04", 630)
    july = compute(client, keys, 7)
    # June is corrected at June's base (5,000,000): +300,000, not at the new 10,000,000.
    assert figures(july["corrections"][0])[0] == 300_000 and july["corrections"][0]["basis"]["policy_version"] == 1
    assert july["policy_version"] == 2 and july["lines"][0]["inputs"]["base"] == 10_000_000


def test_a_change_for_someone_without_a_locked_line_is_reported(one, client, keys, events):
    compute(client, keys, 6)
    lock(client, keys, 6)
    events.decision("approved", "x-1", "emp-unknown", "2026-06-04", 300)
    july = compute(client, keys, 7)
    assert july["corrections"] == []
    assert {"employee_id": "emp-unknown", "reason": "no_line_in_locked_month", "for_year": 2026, "for_month": 6} in july["skipped"]


def test_a_correction_changing_nothing_is_not_written(one, client, keys, events, runtime):
    compute(client, keys, 6)
    lock(client, keys, 6)
    events.attendance(EMP, "2026-06-10", "0", ["CUTI"])  # leave deducts nothing
    assert compute(client, keys, 7)["corrections"] == []
    lock(client, keys, 7)
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(DataChange).where(DataChange.settled_at.is_(None))) == 0


def test_events_payloads_on_lock(one, client, keys, events, runtime):
    compute(client, keys, 6)
    lock(client, keys, 6)
    events.decision("approved", "jun-c", EMP, "2026-06-04", 630)
    compute(client, keys, 7)
    assert outbox_types(runtime) == ["tpp.period_locked"]  # a correction is issued at the lock, not before
    lock(client, keys, 7)
    with runtime.engine.connect() as conn:
        bodies = [json.loads(r[0]) for r in conn.exec_driver_sql("SELECT body FROM outbox ORDER BY seq").all()]
    assert [b["type"] for b in bodies] == ["tpp.period_locked", "tpp.correction_issued", "tpp.period_locked"]
    issued = bodies[1]["data"]
    assert {k: issued[k] for k in ("employee_id", "year", "month", "for_year", "for_month", "amount")} == {
        "employee_id": EMP, "year": 2026, "month": 7, "for_year": 2026, "for_month": 6, "amount": 282_000}
    assert issued["cause"]["event_type"] == "activity.approved" and issued["correction_id"]
    with runtime.session_factory() as s:
        assert s.scalar(select(TppCorrection.issued_at)) is not None


def test_unpriced_attendance_codes_are_warned_about(one, client, keys, events):
    events.attendance(EMP, "2026-06-10", "1", ["WFH"])
    june = compute(client, keys, 6)
    unpriced = [w for w in june["warnings"] if w["code"] == "unpriced_attendance_code"]
    assert [{k: w[k] for k in ("attendance_code", "employees", "days", "blocking")} for w in unpriced] == [
        {"attendance_code": "WFH", "employees": 1, "days": 1, "blocking": True}]
    assert june["lines"][0]["inputs"]["unpriced_codes"] == {"WFH": 1} and june["lines"][0]["inputs"]["deductions_pct"] == "0.000"


def race_blocks(first_use, second_use, runtime):
    """Run ``first_use`` in an open transaction, start ``second_use`` in a thread (it must wait for
    the first's lock), commit the first, let the second finish."""
    done = threading.Event()
    errors = []
    with runtime.uow() as first:
        first_use(first)

        def second():
            try:
                with runtime.uow() as uow:
                    second_use(uow)
                    uow.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            done.set()

        worker = threading.Thread(target=second)
        worker.start()
        assert not done.wait(0.5), "the second transaction should wait for the first's period lock"
        first.commit()
    worker.join(timeout=20)
    assert done.is_set() and not errors, errors


def test_an_event_during_a_compute_is_never_lost(one, client, keys, events, runtime, consumer):
    from ekinerja_common.envelope import Envelope
    from ekinerja_common.events import parse
    from payroll.inbox import HANDLERS

    compute(client, keys, 6)
    env = Envelope(type="activity.approved", source="approval", data={
        "entry_id": "jun-late", "employee_id": EMP, "date": "2026-06-04", "credited_minutes": 630,
        "decided_by": "s", "decided_at": "2026-06-30T10:00:00+07:00", "version": 1, "submission_version": 0})
    # The compute holds June; the event waits, then lands after it: noted as a pending change.
    race_blocks(lambda uow: services.compute_run(uow, 2026, 6, "bpkad-operator"),
                lambda uow: HANDLERS[env.type](uow, parse(env)), runtime)
    assert client.get("/runs/2026/6", headers=bpkad(keys)).get_json()["pending_changes"] == 1
    # The other way round: the event holds June; the compute waits and then sees the minutes.
    env2 = Envelope(type="activity.approved", source="approval", data={**env.data, "entry_id": "jun-later",
                                                                          "date": "2026-06-05"})
    race_blocks(lambda uow: HANDLERS[env2.type](uow, parse(env2)),
                lambda uow: services.compute_run(uow, 2026, 6, "bpkad-operator"), runtime)
    june = client.get("/runs/2026/6", headers=bpkad(keys)).get_json()
    assert june["lines"][0]["inputs"]["approved_minutes"] == 5_670 + 630 + 630 and june["pending_changes"] == 0


def test_corrections_arrive_by_an_employee_s_own_view_and_slip(one, client, keys, events):
    compute(client, keys, 6)
    lock(client, keys, 6)
    events.decision("approved", "jun-c", EMP, "2026-06-04", 630)
    compute(client, keys, 7)
    mine = client.get("/runs/2026/7/me", headers=keys.headers(EMP, "pegawai")).get_json()
    # July: no minutes, full discipline: 2,000,000 - 100,000 - 20,000 = 1,880,000; plus 282,000.
    assert mine["net"] == 1_880_000 and [c["net"] for c in mine["corrections"]] == [282_000]
    assert mine["payable"] == 2_162_000
    slip = client.get(f"/runs/2026/7/slips/{EMP}.pdf", headers=keys.headers(EMP, "pegawai"))
    assert slip.status_code == 200 and slip.content_type == "application/pdf" and slip.data.startswith(b"%PDF")


def test_a_change_to_a_month_being_corrected_waits_and_is_paid_once(one, client, keys, events, runtime):
    from ekinerja_common.envelope import Envelope
    from ekinerja_common.events import parse
    from payroll.inbox import HANDLERS

    compute(client, keys, 6)
    lock(client, keys, 6)
    compute(client, keys, 8)  # August is open too
    events.decision("approved", "jun-c", EMP, "2026-06-04", 315)  # June 5,985 minutes (95 %)
    late = Envelope(type="activity.approved", source="approval", data={
        "entry_id": "jun-d", "employee_id": EMP, "date": "2026-06-05", "credited_minutes": 315,
        "decided_by": "s", "decided_at": "2026-07-30T10:00:00+07:00", "version": 1, "submission_version": 0})
    # July's compute holds June while it corrects it: a further June change waits for it, so the
    # next compute (August) corrects only what July did not see.
    race_blocks(lambda uow: services.compute_run(uow, 2026, 7, "bpkad-operator"),
                lambda uow: HANDLERS[late.type](uow, parse(late)), runtime)
    august = compute(client, keys, 8)
    with runtime.session_factory() as s:
        rows = s.execute(select(TppRun.month, TppCorrection.gross).join(TppRun, TppRun.id == TppCorrection.run_id)
                         .order_by(TppRun.month)).all()
    # 95 %: 5,000,000 x (0.6 x 0.95 + 0.4) = 4,850,000 (+150,000 in July); 100 %: 5,000,000
    # (+150,000 more in August). Together exactly June recomputed less June locked.
    assert [tuple(r) for r in rows] == [(7, 150_000), (8, 150_000)]
    assert august["corrections"][0]["cause"]["event_id"] == late.id
