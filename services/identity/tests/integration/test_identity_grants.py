"""Roles are granted by two people, never to oneself (issue 9 item 7), against real PostgreSQL:
the whole matrix of grantor role x role granted x own/other account, through the HTTP API."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from identity.orm import Account, RoleGrant

ROLES = ("admin_bkd", "organisasi", "bpkad", "majelis")


@pytest.fixture
def people(api, admin, admin_h):
    """One account of each kind: admin (admin.bkd), a second admin, BPKAD, Bagian Organisasi, a
    board member, a plain employee and the target of the grants."""
    made = {"admin": admin}
    nips = iter(["197103141996031002", "198001012005011003", "198202022006041004", "198503032010012005",
                 "199001012015031006", "199202022019031007"])
    for name, roles in (("admin2", ["admin_bkd"]), ("bpkad1", ["bpkad"]), ("org1", ["organisasi"]),
                        ("majelis1", ["majelis"]), ("pegawai1", []), ("target", [])):
        _, login = api.make_user(admin_h, name, nip=next(nips), roles=roles)
        made[name] = login
    return made


def roles_of(api, account_id):
    with api.runtime.session_factory() as s:
        return s.get(Account, account_id).roles


def grant_rows(api):
    with api.runtime.session_factory() as s:
        return list(s.scalars(select(RoleGrant)))


@pytest.mark.parametrize("grantor", ["admin", "bpkad1", "org1", "majelis1", "pegawai1"])
def test_who_may_ask_for_a_role_own_or_other_account(api, client, people, grantor):
    me = people[grantor]
    h = api.bearer(me)
    target = people["target"]["account"]["id"]
    for role in ROLES:
        for account_id in (me["account"]["id"], target):
            before_roles, before_grants, before_audits = roles_of(api, account_id), grant_rows(api), api.audits()
            r = client.put(f"/accounts/{account_id}/roles", json={"roles": [role]}, headers=h)
            own = account_id == me["account"]["id"]
            if grantor == "admin" and not own:
                assert r.status_code == 202, r.get_json()
                assert [g["role"] for g in r.get_json()["pending_grants"]] == [role]
                assert roles_of(api, account_id) == before_roles  # nothing added before the approval
                client.put(f"/accounts/{account_id}/roles", json={"roles": []}, headers=h)  # withdrawn again
                continue
            assert r.status_code == 403, (grantor, role, own, r.get_json())
            assert r.get_json()["error"]["code"] == ("own_roles" if own and grantor == "admin" else "forbidden")
            # Nothing changed: no role, no pending request, no audit record.
            assert roles_of(api, account_id) == before_roles
            assert len(grant_rows(api)) == len(before_grants) and len(api.audits()) == len(before_audits)


# role granted -> who may approve it (holders of bpkad and organisasi exist in `people`)
APPROVERS = {"admin_bkd": {"admin2"}, "majelis": {"admin2"}, "bpkad": {"bpkad1"}, "organisasi": {"org1"}}


@pytest.mark.parametrize("role", ROLES)
def test_who_may_approve_each_role(api, client, people, admin_h, role):
    target = people["target"]["account"]["id"]
    for approver in ("admin", "admin2", "bpkad1", "org1", "majelis1", "pegawai1", "target"):
        r = client.put(f"/accounts/{target}/roles", json={"roles": [role]}, headers=admin_h)
        [grant] = r.get_json()["pending_grants"]
        # The target's own token was revoked when an earlier round took the role away again.
        who = api.login("target", "Sandi-Pegawai-01").get_json() if approver == "target" else people[approver]
        r = client.post(f"/role-grants/{grant['id']}/approve", headers=api.bearer(who))
        if approver in APPROVERS[role]:
            assert r.status_code == 200, (role, approver, r.get_json())
            assert role in roles_of(api, target)
            [record] = [a for a in api.audits("account.role_granted") if a.details.get("grant_id") == grant["id"]]
            assert record.actor_account_id == people[approver]["account"]["id"] and record.request_id
            assert role not in record.before["roles"] and role in record.after["roles"]
            assert client.put(f"/accounts/{target}/roles", json={"roles": []}, headers=admin_h).status_code == 200
        else:
            assert r.status_code == 403, (role, approver, r.get_json())
            assert r.get_json()["error"]["code"] == ("own_roles" if approver == "target" else "approval_not_allowed")
            assert role not in roles_of(api, target)
            client.post(f"/role-grants/{grant['id']}/reject", headers=admin_h)  # the asker withdraws it


def test_nobody_approves_a_grant_to_their_own_account(api, client, people, admin_h):
    # admin2 would be the right approver of majelis -- but not for themself.
    admin2 = people["admin2"]
    r = client.put(f"/accounts/{admin2['account']['id']}/roles", json={"roles": ["admin_bkd", "majelis"]}, headers=admin_h)
    [grant] = r.get_json()["pending_grants"]
    r = client.post(f"/role-grants/{grant['id']}/approve", headers=api.bearer(admin2))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "own_roles"
    bpkad1 = people["bpkad1"]
    r = client.put(f"/accounts/{bpkad1['account']['id']}/roles", json={"roles": ["bpkad", "organisasi"]}, headers=admin_h)
    [grant] = r.get_json()["pending_grants"]
    assert client.post(f"/role-grants/{grant['id']}/approve", headers=api.bearer(bpkad1)).status_code == 403
    assert "majelis" not in roles_of(api, admin2["account"]["id"])
    assert "organisasi" not in roles_of(api, bpkad1["account"]["id"])


def test_an_admin_alone_cannot_arm_a_puppet_account(api, client, admin, admin_h):
    """The probe's finding: admin_bkd granting itself bpkad; and the way around it, an account of
    one's own making."""
    me = admin["account"]["id"]
    for role in ("bpkad", "organisasi", "majelis"):
        r = client.put(f"/accounts/{me}/roles", json={"roles": ["admin_bkd", role]}, headers=admin_h)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "own_roles"
    r = client.post("/accounts", json={"username": "boneka", "password": "Kata-Rahasia-77", "roles": ["bpkad"]},
                    headers=admin_h)
    assert r.status_code == 201 and r.get_json()["roles"] == []
    [grant] = r.get_json()["pending_grants"]
    r = client.post(f"/role-grants/{grant['id']}/approve", headers=admin_h)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "approval_not_allowed"
    with api.runtime.session_factory() as s, s.begin():
        s.execute(update(Account).where(Account.username == "boneka").values(must_change_password=False))
    token = api.login("boneka", "Kata-Rahasia-77").get_json()
    assert token["account"]["roles"] == []


def test_the_first_holder_of_an_agency_role_is_approved_by_a_second_admin(api, client, admin, admin_h):
    _, admin2 = api.make_user(admin_h, "admin2", nip="197103141996031002", roles=["admin_bkd"])
    r = client.post("/accounts", json={"username": "bpkad.pertama", "password": "Sandi-Bpkad-001", "roles": ["bpkad"]},
                    headers=admin_h)
    [grant] = r.get_json()["pending_grants"]
    listed = client.get("/role-grants", headers=api.bearer(admin2)).get_json()["items"]
    assert [(g["id"], g["may_approve"]) for g in listed] == [(grant["id"], True)]
    # The list names who gets the role and who asked (the approval page shows them).
    assert listed[0]["username"] == "bpkad.pertama" and listed[0]["requested_by_username"] == api.ADMIN
    assert listed[0]["requested_by_me"] is False
    mine = client.get("/role-grants", headers=admin_h).get_json()["items"][0]
    assert mine["may_approve"] is False and mine["requested_by_me"] is True  # asked for it
    r = client.post(f"/role-grants/{grant['id']}/approve", headers=api.bearer(admin2))
    assert r.status_code == 200 and r.get_json()["username"] == "bpkad.pertama"
    # Once BPKAD has someone, BPKAD approves its own people; administrators no longer can.
    r = client.post("/accounts", json={"username": "bpkad.kedua", "password": "Sandi-Bpkad-002", "roles": ["bpkad"]},
                    headers=admin_h)
    [grant] = r.get_json()["pending_grants"]
    r = client.post(f"/role-grants/{grant['id']}/approve", headers=api.bearer(admin2))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "approval_not_allowed"
    with api.runtime.session_factory() as s, s.begin():
        s.execute(update(Account).where(Account.username == "bpkad.pertama").values(must_change_password=False))
    first = api.login("bpkad.pertama", "Sandi-Bpkad-001").get_json()
    seen = client.get("/role-grants", headers=api.bearer(first)).get_json()["items"]
    assert [(g["username"], g["role"], g["may_approve"]) for g in seen] == [("bpkad.kedua", "bpkad", True)]
    assert client.post(f"/role-grants/{grant['id']}/approve", headers=api.bearer(first)).status_code == 200


def test_a_request_can_be_withdrawn_or_rejected_and_expires(api, client, people, admin_h):
    target = people["target"]["account"]["id"]
    r = client.put(f"/accounts/{target}/roles", json={"roles": ["bpkad"]}, headers=admin_h)
    [grant] = r.get_json()["pending_grants"]
    assert client.post(f"/role-grants/{grant['id']}/reject", headers=api.bearer(people["pegawai1"])).status_code == 403
    r = client.post(f"/role-grants/{grant['id']}/reject", json={"reason": ""}, headers=api.bearer(people["bpkad1"]))
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"reason"}
    r = client.post(f"/role-grants/{grant['id']}/reject", json={"reason": "bukan pegawai BPKAD"},
                    headers=api.bearer(people["bpkad1"]))
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"
    assert client.post(f"/role-grants/{grant['id']}/approve", headers=api.bearer(people["bpkad1"])).status_code == 409
    [rejected] = api.audits("account.role_rejected")
    assert rejected.actor_account_id == people["bpkad1"]["account"]["id"] and rejected.details["role"] == "bpkad"
    assert rejected.details["reason"] == "bukan pegawai BPKAD"

    r = client.put(f"/accounts/{target}/roles", json={"roles": ["organisasi"]}, headers=admin_h)
    [grant] = r.get_json()["pending_grants"]
    with api.runtime.session_factory() as s, s.begin():
        s.execute(update(RoleGrant).where(RoleGrant.id == grant["id"])
                  .values(expires_at=RoleGrant.requested_at - timedelta(seconds=1)))
    r = client.post(f"/role-grants/{grant['id']}/approve", headers=api.bearer(people["org1"]))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "grant_closed"
    assert "organisasi" not in roles_of(api, target)


def test_taking_a_role_away_needs_one_admin_and_is_audited(api, client, people, admin, admin_h):
    bpkad1 = people["bpkad1"]
    r = client.put(f"/accounts/{bpkad1['account']['id']}/roles", json={"roles": []}, headers=admin_h)
    assert r.status_code == 200 and r.get_json()["roles"] == ["pegawai"] and r.get_json()["pending_grants"] == []
    [record] = api.audits("account.roles_removed")
    assert record.actor_account_id == admin["account"]["id"] and record.details["roles"] == ["bpkad"]
    assert record.before["roles"] == ["pegawai", "bpkad"] and record.after["roles"] == ["pegawai"]
    # The token in hand stops working at once (token version); a refresh gives the smaller one.
    assert client.get("/me", headers=api.bearer(bpkad1)).get_json()["error"]["code"] == "token_revoked"
    renewed = api.refresh(bpkad1["refresh_token"]).get_json()
    assert renewed["account"]["roles"] == ["pegawai"] and client.get("/me", headers=api.bearer(renewed)).status_code == 200
