"""What the web client's entry form and "my month" chart read besides the figures: the month's
working dates and daily target (GET /me/month), the day's limits (GET /duties)."""
from datetime import date


def test_my_month_lists_its_working_dates(client, keys, world, month):
    body = month(world.employee_id, "2026-06")
    # June 2026 by the default calendar: weekdays less 1 June (Hari Lahir Pancasila) — as the target counts them.
    assert len(body["working_dates"]) == body["working_days"]
    assert body["target_minutes"] == body["working_days"] * body["target_minutes_per_day"] == body["working_days"] * 300
    assert all(date.fromisoformat(d).weekday() < 5 for d in body["working_dates"])
    assert body["working_dates"] == sorted(body["working_dates"]) and body["working_dates"][0].startswith("2026-06-")


def test_the_duty_list_carries_the_days_limits(client, keys, world):
    r = client.get("/duties", headers=keys.headers(world.employee_id, "pegawai"))
    assert r.status_code == 200
    assert r.get_json()["limits"] == {"daily_ceiling_minutes": 450, "submission_window_days": 5,
                                      "revision_window_days": 5, "target_minutes_per_day": 300}
