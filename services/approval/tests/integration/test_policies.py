"""Policy data on real PostgreSQL: defaults until BKD stores a year, full validation, audit."""

from sqlalchemy import select

from approval.orm import PolicyChange, ValidationPolicy

DOC = {"validation_deadline_day": 7, "appeal_window_days": 21, "first_level_days": 5,
       "board_rejection_rate_pct": 40, "board_min_decisions": 20}


def test_defaults_are_readable_by_anyone_logged_in(api, org):
    for who, roles in [("ani", ("pegawai",)), (None, ("bpkad",)), (None, ("organisasi",)), ("x", ("majelis",))]:
        r = api.get("/policies/2027", who, *roles)
        assert r.status_code == 200
        assert r.get_json() == {"year": 2027, "validation_deadline_day": 5, "appeal_window_days": 14,
                                "first_level_days": 10, "board_rejection_rate_pct": 50, "board_min_decisions": 10,
                                "version": 0, "is_default": True, "updated_by": None, "updated_at": None}
    assert api.client.get("/policies/2027").status_code == 401


def test_bkd_stores_a_year_and_every_change_is_audited(api, org, runtime):
    r = api.client.put("/policies/2027", json=DOC, headers=api.keys.headers(None, "admin_bkd", account_id="acc-bkd"))
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"year": 2027, **DOC, "version": 1, "is_default": False, "updated_by": "acc-bkd",
                            "updated_at": r.get_json()["updated_at"]}
    r = api.put("/policies/2027", None, "admin_bkd", json={**DOC, "appeal_window_days": 30})
    assert r.get_json()["version"] == 2 and r.get_json()["appeal_window_days"] == 30
    assert api.get("/policies/2027", "ani").get_json()["appeal_window_days"] == 30
    assert api.get("/policies/2026", "ani").get_json()["is_default"] is True  # other years untouched
    with runtime.session_factory() as s:
        changes = s.scalars(select(PolicyChange).order_by(PolicyChange.seq)).all()
    assert [(c.year, c.version, c.changed_by) for c in changes][0] == (2027, 1, "acc-bkd")
    assert [c.version for c in changes] == [1, 2] and '"appeal_window_days": 30' in changes[1].document


def test_every_bad_field_is_listed_and_nothing_changes(api, org, runtime):
    bad = {"validation_deadline_day": 29, "appeal_window_days": 0, "first_level_days": 91,
           "board_rejection_rate_pct": 101, "board_min_decisions": 0}
    r = api.put("/policies/2027", None, "admin_bkd", json=bad)
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == set(bad)
    r = api.put("/policies/2027", None, "admin_bkd", json={"validation_deadline_day": "lima", "x": 1})
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"validation_deadline_day", "appeal_window_days", "first_level_days",
                                                    "board_rejection_rate_pct", "board_min_decisions", "x"}
    assert api.put("/policies/1999", None, "admin_bkd", json=DOC).status_code == 422
    for who, roles in [("ani", ("pegawai",)), (None, ("bpkad",)), ("x", ("majelis",)), (None, ("organisasi",))]:
        assert api.put("/policies/2027", who, *roles, json=DOC).status_code == 403
    assert api.count(ValidationPolicy) == 0 and api.count(PolicyChange) == 0
