"""BKD's and BPKAD's month reports from approval, on real PostgreSQL: rejection rates per supervisor
(the appeals board's trigger) and the entries still awaiting validation against the deadline."""
from datetime import date


def test_rejection_rates_per_supervisor_with_the_board_trigger(api, org, clock):
    for i in range(4):
        org.submit(f"a{i}", "ani", day=f"2026-11-{10 + i}")
    org.submit("b0", "budi", day="2026-11-10")
    org.submit("c0", "citra", day="2026-11-10")
    for i in range(3):
        assert api.post(f"/entries/{api.entry(f'a{i}')}/reject", "kabid", "pegawai", json={"reason": "Tidak jelas"}).status_code == 200
    api.post(f"/entries/{api.entry('a3')}/approve", "kabid", "pegawai")
    api.post(f"/entries/{api.entry('b0')}/return", "kabid", "pegawai", json={"reason": "Lengkapi"})
    api.post(f"/entries/{api.entry('c0')}/approve", "kabid2", "pegawai")
    put = api.put("/policies/2026", None, "admin_bkd", json={"validation_deadline_day": 5, "appeal_window_days": 14,
                                                              "first_level_days": 10, "board_rejection_rate_pct": 50,
                                                              "board_min_decisions": 5})
    assert put.status_code == 200, put.get_json()
    r = api.get("/reports/rejection-rates?month=2026-11", None, "admin_bkd")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["board_rejection_rate_pct"], body["board_min_decisions"]) == (50, 5)
    rows = [(x["name"], x["approved"], x["rejected"], x["returned"], x["rejection_rate_pct"], x["board_trigger"])
            for x in body["supervisors"]]
    assert rows == [("Kabid Satu", 1, 3, 1, "60.0", True), ("Kabid Dua", 1, 0, 0, "0.0", False)]
    assert api.get("/reports/rejection-rates?month=2026-10", None, "majelis").get_json()["supervisors"] == []
    assert api.get("/reports/rejection-rates?month=11-2026", None, "admin_bkd").status_code == 422


def test_pending_validations_against_the_deadline(api, org, clock):
    org.submit("a0", "ani", day="2026-11-10")
    org.submit("a1", "ani", day="2026-11-11", start="10:00", end="11:00")
    org.submit("c0", "citra", day="2026-11-12")
    org.submit("o0", "citra", day="2026-10-12")  # another month
    api.post(f"/entries/{api.entry('a1')}/approve", "kabid", "pegawai")
    clock.today = date(2026, 12, 1)
    body = api.get("/reports/pending?month=2026-11", None, "bpkad").get_json()
    assert (body["deadline"], body["past_deadline"], body["pending_entries"]) == ("2026-12-05", False, 2)
    assert [(e["name"], e["pending_entries"], e["pending_minutes"]) for e in body["employees"]] == [
        ("Ani Lestari", 1, 60), ("Citra Dewi", 1, 60)]
    clock.today = date(2026, 12, 6)
    assert api.get("/reports/pending?month=2026-11", None, "admin_bkd").get_json()["past_deadline"] is True
