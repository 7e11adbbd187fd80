"""Who may give an account which role (plain rules, no framework; README "Roles and who grants
them").

Two rules stop one person from gathering power alone:

1. Nobody changes the roles of their own account, in either direction.
2. A role is added only by two people: an ``admin_bkd`` asks (``PUT /accounts/{id}/roles``,
   ``POST /accounts``), and the agency that answers for the role approves — a holder of ``bpkad``
   for ``bpkad`` (BPKAD), of ``organisasi`` for ``organisasi`` (Bagian Organisasi), a *second*
   ``admin_bkd`` for BKD's own roles ``admin_bkd`` and ``majelis`` (BKD appoints the appeals board).
   While an agency has no active holder of its role yet (the first BPKAD account), a second
   ``admin_bkd`` approves in its place. Without rule 2 an administrator could create a puppet
   account, give it ``bpkad`` and run the payroll through it.

Taking a role away needs one ``admin_bkd`` (never on their own account): it only ever reduces
what an account can do. ``pegawai`` is never granted: it follows from the link to an employee.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ekinerja_common.errors import Text

# The role whose holders answer for granting each role.
APPROVER_ROLE = {"admin_bkd": "admin_bkd", "majelis": "admin_bkd", "organisasi": "organisasi", "bpkad": "bpkad"}
AGENCY = {"admin_bkd": "BKD", "organisasi": "Bagian Organisasi", "bpkad": "BPKAD"}
GRANTABLE = tuple(APPROVER_ROLE)
# An approval that waits longer than this is void: the request is made again if still wanted.
REQUEST_LIFETIME = timedelta(days=7)

OWN_ACCOUNT = Text("Anda tidak dapat mengubah peran akun Anda sendiri; minta administrator lain",
                   "You cannot change the roles of your own account; ask another administrator")


@dataclass(frozen=True)
class Approver:
    account_id: str
    roles: frozenset[str]


def change_problem(actor_id: str, actor_roles: frozenset[str], target_id: str) -> Text | None:
    """May ``actor`` ask for a role change of ``target`` at all (add or remove)?"""
    if actor_id == target_id:
        return OWN_ACCOUNT
    if "admin_bkd" not in actor_roles:
        return Text("Hanya admin BKD yang dapat mengajukan perubahan peran", "Only a BKD administrator may change roles")
    return None


def approval_problem(role: str, approver: Approver, requested_by: str | None, target_id: str,
                     role_has_holders: bool) -> Text | None:
    """May ``approver`` approve adding ``role`` to ``target_id``, asked by ``requested_by``?
    ``role_has_holders``: an active account other than the target holds ``role`` today."""
    if approver.account_id == target_id:
        return OWN_ACCOUNT
    if approver.account_id == requested_by:
        return Text("Peran ini harus disetujui orang kedua, bukan yang mengajukannya",
                    "A second person must approve this role, not the one who asked for it")
    owner = APPROVER_ROLE[role]
    if owner in approver.roles:
        return None
    if owner != "admin_bkd" and not role_has_holders and "admin_bkd" in approver.roles:
        return None  # the agency has nobody yet who could approve: a second administrator does
    agency = AGENCY[owner]
    second = " (administrator kedua)" if owner == "admin_bkd" else ""
    return Text(f"Peran {role} hanya dapat disetujui oleh {agency}{second}",
                f"The {role} role can only be approved by {agency}{' (a second administrator)' if second else ''}")


def may_decide(role: str, roles: frozenset[str], role_has_holders: bool) -> bool:
    """Would an account with ``roles`` see a pending grant of ``role`` among the ones it decides
    (apart from the own-account and second-person checks)?"""
    owner = APPROVER_ROLE[role]
    return owner in roles or ("admin_bkd" in roles and owner != "admin_bkd" and not role_has_holders)
