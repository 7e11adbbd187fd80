"""Who may grant which role, and how guessing is slowed: the pure rules (grants.py, throttle.py)."""
from datetime import datetime, timedelta, timezone

import pytest

from identity import grants, throttle
from identity.grants import Approver

ROLES = ("admin_bkd", "organisasi", "bpkad", "majelis")
# The role whose holder approves each role (a second admin for BKD's own roles).
OWNER = {"admin_bkd": "admin_bkd", "majelis": "admin_bkd", "organisasi": "organisasi", "bpkad": "bpkad"}


@pytest.mark.parametrize("actor_role", ROLES + ("pegawai",))
@pytest.mark.parametrize("own", [True, False])
def test_only_an_admin_asks_and_never_for_their_own_account(actor_role, own):
    problem = grants.change_problem("a1", frozenset({actor_role}), "a1" if own else "a2")
    assert (problem is None) == (actor_role == "admin_bkd" and not own)
    if own:
        assert problem is grants.OWN_ACCOUNT


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("approver_role", ROLES + ("pegawai",))
@pytest.mark.parametrize("who", ["target", "requester", "other"])
@pytest.mark.parametrize("holders", [True, False])
def test_approval_matrix(role, approver_role, who, holders):
    approver = Approver({"target": "t", "requester": "r", "other": "o"}[who], frozenset({approver_role}))
    problem = grants.approval_problem(role, approver, "r", "t", holders)
    expected = who == "other" and (
        approver_role == OWNER[role]
        # an agency without anyone holding its role yet: a second administrator stands in
        or (approver_role == "admin_bkd" and OWNER[role] != "admin_bkd" and not holders))
    assert (problem is None) == expected, problem


def test_majelis_and_admin_need_a_second_admin_even_when_nobody_holds_them():
    for role in ("admin_bkd", "majelis"):
        assert grants.approval_problem(role, Approver("o", frozenset({"bpkad"})), "r", "t", False) is not None
        assert grants.approval_problem(role, Approver("r", frozenset({"admin_bkd"})), "r", "t", False) is not None
        assert grants.approval_problem(role, Approver("o", frozenset({"admin_bkd"})), "r", "t", False) is None


NOW = datetime(2026, 11, 27, 7, 30, tzinfo=timezone.utc)


def fail(rule, times, counter=None, now=NOW):
    for _ in range(times):
        counter = throttle.after_failure(rule, counter, now)
    return counter


def test_free_failures_then_a_doubling_wait_up_to_the_ceiling():
    rule = throttle.LOGIN_USER_ADDRESS
    c = fail(rule, 5)
    assert throttle.wait_seconds(c, NOW) == 0
    c = fail(rule, 1, c)
    assert throttle.wait_seconds(c, NOW) == 30
    later = NOW + timedelta(seconds=31)
    c = fail(rule, 1, c, later)
    assert throttle.wait_seconds(c, later) == 60
    c = fail(rule, 20, c, later)
    assert throttle.wait_seconds(c, later) == 15 * 60  # never more, and never a lock for good
    assert throttle.wait_seconds(c, later + timedelta(minutes=15)) == 0


def test_old_failures_are_forgotten_after_the_window():
    rule = throttle.LOGIN_USER_ADDRESS
    c = fail(rule, 5)
    c = fail(rule, 1, c, NOW + rule.window + timedelta(seconds=1))
    assert c.failures == 1 and c.blocked_until is None


def test_the_username_wide_limit_spares_a_known_address():
    scopes = {throttle.LOGIN_USER.scope: fail(throttle.LOGIN_USER, 25), throttle.LOGIN_USER_ADDRESS.scope: None,
              throttle.LOGIN_ADDRESS.scope: None}
    assert throttle.login_wait(scopes, NOW) > 0  # a new address waits
    scopes[throttle.LOGIN_USER_ADDRESS.scope] = throttle.after_success(NOW - timedelta(days=3))
    assert throttle.login_wait(scopes, NOW) == 0  # where the person logged in before: no wait
    scopes[throttle.LOGIN_USER_ADDRESS.scope] = throttle.after_success(NOW - timedelta(days=31))
    assert throttle.login_wait(scopes, NOW) > 0


def test_an_office_address_is_slowed_only_after_many_failures():
    c = fail(throttle.LOGIN_ADDRESS, 200)
    assert throttle.wait_seconds(c, NOW) == 0
    assert throttle.wait_seconds(fail(throttle.LOGIN_ADDRESS, 1, c), NOW) == 10


def test_keys_do_not_hold_the_raw_address_and_differ_by_scope():
    keys = throttle.login_scopes("budi", "10.1.2.3")
    assert len(set(keys.values())) == 3 and all(len(k) == 64 and "10.1.2.3" not in k for k in keys.values())
    assert throttle.login_scopes("budi", "10.1.2.4")[throttle.LOGIN_USER.scope] == keys[throttle.LOGIN_USER.scope]
