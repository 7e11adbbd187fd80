"""Employees, placements, accounts and roles against a real PostgreSQL database."""
import uuid

from identity.orm import Account, Employee, Placement, PositionRef

EMPLOYEE_EVENT_FIELDS = {"employee_id", "nip", "name", "employee_kind", "status", "golongan", "bank_account", "active",
                         "version"}
PLACED_FIELDS = {"placement_id", "employee_id", "position_id", "start_date", "end_date", "kind", "version"}


def test_admin_registers_an_employee_with_event_and_audit(api, client, admin, admin_h):
    r = client.post("/employees", json={"nip": "19860926 201505 1 001", "name": "  Budi   Santoso ", "employee_kind": "PNS",
                                        "status": "CPNS", "golongan": "iii/A", "bank_account": "123-456-7890",
                                        "npwp": "01.234.567.8-901.000"}, headers=admin_h)
    assert r.status_code == 201, r.get_json()
    e = r.get_json()
    assert e["nip"] == "198609262015051001" and e["nip_formatted"] == "19860926 201505 1 001"
    assert (e["name"], e["golongan"], e["bank_account"], e["npwp"]) == ("Budi Santoso", "III/a", "1234567890", "012345678901000")
    assert e["version"] == 1 and e["active"] is True
    [(kind, data)] = api.outbox()
    assert kind == "employee.registered" and set(data) == EMPLOYEE_EVENT_FIELDS
    assert data == {"employee_id": e["id"], "nip": e["nip"], "name": "Budi Santoso", "employee_kind": "PNS",
                    "status": "CPNS", "golongan": "III/a", "bank_account": "1234567890", "active": True, "version": 1}
    [record] = api.audits("employee.registered")
    assert record.actor_account_id == admin["account"]["id"] and record.object_id == e["id"]
    dup = client.post("/employees", json={"nip": e["nip"], "name": "X", "employee_kind": "PNS", "status": "PNS",
                                          "golongan": "II/a"}, headers=admin_h)
    assert dup.status_code == 409 and dup.get_json()["error"]["code"] == "duplicate_nip"


def test_invalid_nip_lists_every_bad_part_and_stores_nothing(api, client, admin_h):
    # Born 30 February, appointed in month 13, gender 3, sequence 000, and a golongan PNS do not have.
    r = client.post("/employees", json={"nip": "198602302015133000", "name": "Salah", "employee_kind": "PNS",
                                        "status": "PNS", "golongan": "IV/f"}, headers=admin_h)
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert set(err["fields"]) == {"nip.birth_date", "nip.tmt_cpns", "nip.gender", "nip.sequence", "golongan"}
    assert all(f["message"] and f["message_en"] for f in err["fields"].values())
    r = client.post("/employees", json={"nip": "1986092620150510", "name": "Pendek", "employee_kind": "PPPK",
                                        "status": "PNS", "golongan": "XVIII"}, headers=admin_h)
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"nip", "status", "golongan"}
    assert api.count(Employee) == 0 and api.outbox() == [] and api.audits("employee.registered") == []


def test_pppk_numbers_skip_the_year_month_check(api, admin_h):
    e = api.register(admin_h, nip="199203152022211004", employee_kind="PPPK", status="PPPK", golongan="IX")
    assert e["employee_kind"] == "PPPK" and e["golongan"] == "IX"


def test_placement_waits_for_the_position_event(api, client, admin, admin_h):
    e = api.register(admin_h)
    position_id = str(uuid.uuid4())
    body = {"position_id": position_id, "start_date": "2025-01-01", "kind": "definitive"}
    r = client.post(f"/employees/{e['id']}/placements", json=body, headers=admin_h)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "unknown_position"
    assert "position_id" in r.get_json()["error"]["fields"] and api.count(Placement) == 0
    assert api.deliver_position(position_id) == "handled"
    r = client.post(f"/employees/{e['id']}/placements", json=body, headers=admin_h)
    assert r.status_code == 201, r.get_json()
    p = r.get_json()
    assert p["position_name"] == "Pranata Komputer" and p["end_date"] is None and p["version"] == 1
    kind, data = api.outbox()[-1]
    assert kind == "employee.placed" and set(data) == PLACED_FIELDS
    assert data == {"placement_id": p["id"], "employee_id": e["id"], "position_id": position_id,
                    "start_date": "2025-01-01", "end_date": None, "kind": "definitive", "version": 1}
    [record] = api.audits("employee.placed")
    assert record.actor_account_id == admin["account"]["id"] and record.after["position_id"] == position_id


def test_a_transfer_ends_the_previous_definitive_placement(api, client, admin_h):
    e = api.register(admin_h)
    first, second, acting = (str(uuid.uuid4()) for _ in range(3))
    for pid in (first, second, acting):
        api.deliver_position(pid)

    def place(pid, start, kind="definitive", end=None):
        return client.post(f"/employees/{e['id']}/placements",
                           json={"position_id": pid, "start_date": start, "end_date": end, "kind": kind}, headers=admin_h)

    assert place(first, "2024-01-01").status_code == 201
    assert place(acting, "2024-06-01", kind="plt", end="2024-12-31").status_code == 201
    assert place(second, "2025-07-01").status_code == 201
    placed = [d for t, d in api.outbox() if t == "employee.placed"]
    assert [(d["position_id"], d["end_date"], d["version"]) for d in placed] == [
        (first, None, 1), (acting, "2024-12-31", 1), (first, "2025-06-30", 2), (second, None, 1)]
    history = client.get(f"/employees/{e['id']}", headers=admin_h).get_json()["placements"]
    assert [(p["position_id"], p["start_date"], p["end_date"]) for p in history] == [
        (first, "2024-01-01", "2025-06-30"), (acting, "2024-06-01", "2024-12-31"), (second, "2025-07-01", None)]
    # Back-dating a definitive placement into existing history is refused, nothing changes.
    r = place(first, "2025-01-01")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "overlapping_placement"
    r = place(second, "2026-01-01", end="2025-01-01")
    assert r.status_code == 422 and "end_date" in r.get_json()["error"]["fields"]
    assert api.count(Placement) == 3 and len(api.outbox()) == 1 + 4


def test_stale_position_events_are_ignored(api, runtime):
    pid = str(uuid.uuid4())
    assert api.deliver_position(pid, version=2, event="position.updated", name="Analis Kepegawaian") == "handled"
    api.deliver_position(pid, version=1, name="Nama Lama")
    with runtime.session_factory() as s:
        ref = s.get(PositionRef, pid)
    assert (ref.name, ref.version) == ("Analis Kepegawaian", 2)


def test_employees_see_only_themselves(api, client, admin_h):
    me, user = api.make_user(admin_h, "budi.santoso")
    other = api.register(admin_h, nip="199001012015032002", name="Siti Rahma")
    h = api.bearer(user)
    assert [x["id"] for x in client.get("/employees", headers=h).get_json()["items"]] == [me["id"]]
    assert len(client.get("/employees", headers=admin_h).get_json()["items"]) == 2
    own = client.get(f"/employees/{me['id']}", headers=h)
    assert own.status_code == 200 and own.get_json()["placements"] == []
    # Someone else's record and a record that does not exist look the same: forbidden.
    for target in (other["id"], str(uuid.uuid4())):
        r = client.get(f"/employees/{target}", headers=h)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
        assert "Siti" not in r.get_data(as_text=True)
    assert client.get(f"/employees/{uuid.uuid4()}", headers=admin_h).status_code == 404
    profile = client.get("/me", headers=h).get_json()
    assert profile["account"]["name"] == "Budi Santoso" and profile["employee"]["id"] == me["id"]


def test_a_non_admin_cannot_manage_people_or_roles(api, client, admin_h, runtime):
    me, user = api.make_user(admin_h, "budi.santoso", roles=["organisasi", "bpkad", "majelis"])
    account_id = user["account"]["id"]
    h = api.bearer(user)
    api.deliver_position("p-1")
    events_before, audits_before = len(api.outbox()), len(api.audits())
    attempts = [
        client.post("/employees", json={"nip": "199001012015032002", "name": "X", "employee_kind": "PNS",
                                        "status": "PNS", "golongan": "II/a"}, headers=h),
        client.put(f"/accounts/{account_id}/roles", json={"roles": ["admin_bkd"]}, headers=h),
        client.post("/accounts", json={"username": "sneaky", "password": "Sandi-Rahasia-1", "roles": ["admin_bkd"]}, headers=h),
        client.post(f"/employees/{me['id']}/placements", json={"position_id": "p-1", "start_date": "2025-01-01",
                                                                "kind": "definitive"}, headers=h),
        client.patch(f"/employees/{me['id']}", json={"golongan": "IV/e"}, headers=h),
    ]
    for r in attempts:
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    with runtime.session_factory() as s:
        assert s.get(Account, account_id).roles == ["pegawai", "organisasi", "bpkad", "majelis"]
        assert s.get(Employee, me["id"]).golongan == "III/a"
    assert api.count(Employee) == 1 and api.count(Account) == 2 and api.count(Placement) == 0
    assert len(api.outbox()) == events_before and len(api.audits()) == audits_before


def test_role_change_is_audited_and_reaches_the_next_token(api, client, admin, admin_h):
    _, user = api.make_user(admin_h, "budi.santoso")
    _, second = api.make_user(admin_h, "admin.kedua", nip="197103141996031002", roles=["admin_bkd"])
    account_id = user["account"]["id"]
    r = client.put(f"/accounts/{account_id}/roles", json={"roles": ["majelis"]}, headers=admin_h)
    assert r.status_code == 202 and r.get_json()["roles"] == ["pegawai"]
    [grant] = r.get_json()["pending_grants"]
    assert (grant["role"], grant["status"], grant["approver"]) == ("majelis", "pending", "BKD")
    r = client.post(f"/role-grants/{grant['id']}/approve", headers=api.bearer(second))
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    [record] = [a for a in api.audits("account.role_granted") if a.object_id == account_id]
    assert record.actor_account_id == second["account"]["id"] and record.object_id == account_id
    assert (record.before["roles"], record.after["roles"]) == (["pegawai"], ["pegawai", "majelis"])
    assert record.details["requested_by"] == admin["account"]["id"] and record.request_id
    renewed = api.refresh(user["refresh_token"]).get_json()
    assert renewed["account"]["roles"] == ["pegawai", "majelis"]
    r = client.put(f"/accounts/{account_id}/roles", json={"roles": ["raja"]}, headers=admin_h)
    assert r.status_code == 422 and "roles" in r.get_json()["error"]["fields"]
    r = client.put(f"/accounts/{admin['account']['id']}/roles", json={"roles": ["bpkad"]}, headers=admin_h)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "own_roles"
    assert client.put(f"/accounts/{uuid.uuid4()}/roles", json={"roles": ["bpkad"]}, headers=admin_h).status_code == 404
    assert len(api.audits("account.role_granted")) == 2  # the second admin's (operator) and budi's


def test_account_rules(api, client, admin_h):
    e = api.register(admin_h)
    r = client.post("/accounts", json={"username": "X", "password": "short", "roles": ["pegawai", "raja"]}, headers=admin_h)
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"username", "password", "roles"}
    r = client.post("/accounts", json={"username": "kasubag", "password": "Sandi-Rahasia-1", "roles": ["pegawai"]}, headers=admin_h)
    assert r.status_code == 422 and "roles" in r.get_json()["error"]["fields"]
    ok = client.post("/accounts", json={"username": "Budi", "password": "Sandi-Rahasia-1", "employee_id": e["id"]}, headers=admin_h)
    assert ok.status_code == 201 and ok.get_json()["username"] == "budi" and ok.get_json()["roles"] == ["pegawai"]
    again = client.post("/accounts", json={"username": "budi2", "password": "Sandi-Rahasia-1", "employee_id": e["id"]}, headers=admin_h)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "employee_has_account"
    dup = client.post("/accounts", json={"username": "budi", "password": "Sandi-Rahasia-1", "roles": ["bpkad"]}, headers=admin_h)
    assert dup.status_code == 409 and dup.get_json()["error"]["code"] == "duplicate_username"
    [created] = [a for a in api.audits("account.created") if a.after["username"] == "budi"]
    assert created.after == {"username": "budi", "employee_id": e["id"], "roles": ["pegawai"], "active": True,
                             "must_change_password": True, "token_version": 0}
    assert created.details == {"requested_roles": ["pegawai"]} and created.before is None
    assert "Sandi" not in str(created.details) + str(created.after)


def test_employee_events_carry_the_bank_account(api, client, admin_h):
    e = api.register(admin_h, nip="198609262015051001")
    kind, data = api.outbox()[-1]
    assert kind == "employee.registered" and set(data) == EMPLOYEE_EVENT_FIELDS and data["bank_account"] is None
    r = client.patch(f"/employees/{e['id']}", json={"bank_account": "0987-654-321"}, headers=admin_h)
    assert r.status_code == 200 and r.get_json()["version"] == 2
    kind, data = api.outbox()[-1]
    assert kind == "employee.updated" and (data["bank_account"], data["version"]) == ("0987654321", 2)
    r = client.patch(f"/employees/{e['id']}", json={"bank_account": None}, headers=admin_h)
    kind, data = api.outbox()[-1]
    assert kind == "employee.updated" and (data["bank_account"], data["version"]) == (None, 3)


def test_updating_an_employee_publishes_a_new_version(api, client, admin_h):
    me, user = api.make_user(admin_h, "budi.santoso")
    r = client.patch(f"/employees/{me['id']}", json={"status": "CPNS", "golongan": "III/b"}, headers=admin_h)
    assert r.status_code == 200 and r.get_json()["version"] == 2
    kind, data = api.outbox()[-1]
    assert kind == "employee.updated" and (data["status"], data["golongan"], data["version"]) == ("CPNS", "III/b", 2)
    assert set(data) == EMPLOYEE_EVENT_FIELDS
    same = client.patch(f"/employees/{me['id']}", json={"status": "CPNS"}, headers=admin_h)
    assert same.get_json()["version"] == 2 and len(api.outbox()) == 2
    bad = client.patch(f"/employees/{me['id']}", json={"status": "PPPK", "nip": "1"}, headers=admin_h)
    assert bad.status_code == 422 and "nip" in bad.get_json()["error"]["fields"]
    bad = client.patch(f"/employees/{me['id']}", json={"status": "PPPK"}, headers=admin_h)
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["fields"]
    # Leaving service: the record stays, the account can no longer log in or refresh.
    off = client.patch(f"/employees/{me['id']}", json={"active": False}, headers=admin_h)
    assert off.get_json()["active"] is False and api.outbox()[-1][1]["active"] is False
    assert api.refresh(user["refresh_token"]).status_code == 401
    refused = api.login("budi.santoso", "Sandi-Pegawai-01")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "account_disabled"
    changes = [a.details["changed"] for a in api.audits("employee.updated")]
    assert changes == [{"status": ["PNS", "CPNS"], "golongan": ["III/a", "III/b"]}, {"active": [True, False]}]
