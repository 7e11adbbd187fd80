"""BKD's employee list: paged server-side (the libs paging contract), searched and filtered by NIP,
name, unit and status, each row with the post held today; and who may read which rows."""
from __future__ import annotations

import uuid
from datetime import timedelta

from identity.orm import Employee
from ekinerja_common.clock import today as local_today


def nip(i: int, gender: int = 1) -> str:
    return f"19860926201505{gender}{i:03d}"


def bulk(api, n: int, prefix: str = "Pegawai") -> None:
    """n employees straight into the table: the list is the subject here, not registration."""
    with api.runtime.session_factory() as s, s.begin():
        s.add_all(Employee(nip=f"19900101201503{2 if i % 2 else 1}{i:03d}", name=f"{prefix} {i:03d}", employee_kind="PNS",
                           status="CPNS" if i % 10 == 0 else "PNS", golongan="III/a") for i in range(1, n + 1))


def test_the_list_pages_by_cursor_and_by_page_with_totals(api, client, admin_h):
    bulk(api, 120)
    seen, cursor = [], None
    while True:
        r = client.get("/employees?limit=50" + (f"&cursor={cursor}" if cursor else ""), headers=admin_h)
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert set(body) == {"items", "total", "next_cursor"} and body["total"] == 120
        seen += [e["name"] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Pegawai {i:03d}" for i in range(1, 121)]  # sorted by name, each once
    third = client.get("/employees?limit=50&page=3", headers=admin_h).get_json()
    assert [e["name"] for e in third["items"]] == seen[100:] and third["next_cursor"] is None
    default = client.get("/employees", headers=admin_h).get_json()
    assert len(default["items"]) == 50 and default["next_cursor"]


def test_search_and_filters(api, client, admin_h):
    unit_a, unit_b, sub_a = (str(uuid.uuid4()) for _ in range(3))
    api.deliver_position("pos-a", code="A", unit_id=unit_a)
    api.deliver_position("pos-b", code="B", unit_id=unit_b)
    api.deliver_position("pos-sub", code="S", unit_id=sub_a)
    budi = api.register(admin_h, nip=nip(1), name="Budi Santoso")
    siti = api.register(admin_h, nip=nip(2, gender=2), name="Siti Rahmawati", status="CPNS")
    agus = api.register(admin_h, nip=nip(3), name="Agus Budiman")
    api.register(admin_h, nip=nip(4), name="Tanpa Jabatan")
    start = (local_today() - timedelta(days=10)).isoformat()
    for e, pos in ((budi, "pos-a"), (siti, "pos-sub"), (agus, "pos-b")):
        r = client.post(f"/employees/{e['id']}/placements", json={"position_id": pos, "start_date": start,
                                                                  "kind": "definitive"}, headers=admin_h)
        assert r.status_code == 201, r.get_json()
    # Agus leaves unit B yesterday: today he is nobody's in B.
    placement = client.get(f"/employees/{agus['id']}", headers=admin_h).get_json()["placements"][0]
    client.post(f"/placements/{placement['id']}/end", json={"end_date": (local_today() - timedelta(days=1)).isoformat()},
                headers=admin_h)
    client.patch(f"/employees/{budi['id']}", json={"active": False}, headers=admin_h)

    def names(query: str) -> list[str]:
        r = client.get(f"/employees?{query}", headers=admin_h)
        assert r.status_code == 200, r.get_json()
        return [e["name"] for e in r.get_json()["items"]]

    assert names("q=budi") == ["Agus Budiman", "Budi Santoso"]        # part of the name, any case
    assert names("q=19860926 201505 2") == ["Siti Rahmawati"]          # the NIP as it is printed
    assert names(f"nip={nip(3)[:15]}") == ["Agus Budiman", "Budi Santoso", "Tanpa Jabatan"]  # its start
    assert names("status=cpns") == ["Siti Rahmawati"]
    assert names("active=false") == ["Budi Santoso"]
    assert names(f"unit_id={unit_a}") == ["Budi Santoso"]
    assert names(f"unit_id={unit_a}&unit_id={sub_a}") == ["Budi Santoso", "Siti Rahmawati"]  # a unit and its sub-unit
    assert names(f"unit_id={unit_b}") == []
    assert names(f"q=a&unit_id={unit_a}&unit_id={sub_a}&active=true") == ["Siti Rahmawati"]
    body = client.get(f"/employees?q=siti", headers=admin_h).get_json()
    assert body["total"] == 1
    post = body["items"][0]["current_position"]
    assert (post["position_id"], post["unit_id"], post["kind"]) == ("pos-sub", sub_a, "definitive")
    assert client.get("/employees?q=tanpa", headers=admin_h).get_json()["items"][0]["current_position"] is None


def test_bad_arguments_are_all_listed(client, admin_h):
    r = client.get("/employees?limit=9999&status=honorer&active=kadang&nip=12ab&cursor=zzz", headers=admin_h)
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) >= {"status", "active", "nip"}
    r = client.get("/employees?limit=9999&cursor=zzz", headers=admin_h)
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"limit", "cursor"}


def test_who_sees_which_rows(api, client, admin_h):
    """Matrix: admin_bkd everyone; an employee themself (and whom they supervise, tested in
    test_identity_supervision); staff accounts without a personnel record nobody; no token 401.
    Filters and cursors never widen it."""
    me, user = api.make_user(admin_h, "budi.santoso", nip=nip(1), name="Budi Santoso")
    api.register(admin_h, nip=nip(2), name="Budi Lain")
    bulk(api, 5, prefix="Budi Massal")
    _, staff_only = api.make_user(admin_h, "org", nip=nip(9), name="Orang Organisasi", roles=["organisasi", "bpkad"])
    with api.runtime.session_factory() as s, s.begin():
        # The organisasi account without a personnel record, as the seed makes it.
        from identity.orm import Account
        acc = s.get(Account, staff_only["account"]["id"])
        acc.employee_id = None
    staff_only = api.login("org", "Sandi-Pegawai-01").get_json()

    def listed(headers, query=""):
        r = client.get(f"/employees?limit=500{query}", headers=headers)
        return r.status_code, [e["name"] for e in r.get_json().get("items", [])]

    assert listed(admin_h, "&q=budi")[1] == ["Budi Lain", "Budi Massal 001", "Budi Massal 002", "Budi Massal 003",
                                            "Budi Massal 004", "Budi Massal 005", "Budi Santoso"]
    for query in ("", "&q=budi", "&nip=1986", "&active=true", "&page=1"):
        assert listed(api.bearer(user), query) == (200, ["Budi Santoso"])
        assert listed(api.bearer(staff_only), query) == (200, [])
    # A cursor taken from the admin's list shows the employee nothing of anyone else's.
    cursor = client.get("/employees?limit=1", headers=admin_h).get_json()["next_cursor"]
    r = client.get(f"/employees?cursor={cursor}", headers=api.bearer(user))
    assert r.status_code == 200 and [e["name"] for e in r.get_json()["items"]] in ([], ["Budi Santoso"])
    assert client.get("/employees").status_code == 401
    assert client.get("/employees", headers={"Authorization": "Bearer x.y.z"}).status_code == 401


def test_accounts_are_paged_and_searchable(api, client, admin_h):
    for i in range(1, 8):
        api.make_user(admin_h, f"pegawai.{i}", nip=nip(i), name=f"Pegawai Nomor {i}", roles=["majelis"] if i % 2 else [])
    first = client.get("/accounts?limit=3", headers=admin_h).get_json()
    assert set(first) == {"items", "total", "next_cursor"} and first["total"] == 8 and len(first["items"]) == 3
    rest = client.get(f"/accounts?limit=10&cursor={first['next_cursor']}", headers=admin_h).get_json()
    names = [a["username"] for a in first["items"] + rest["items"]]
    assert names == sorted(names) and len(set(names)) == 8
    assert [a["username"] for a in client.get("/accounts?q=nomor 3", headers=admin_h).get_json()["items"]] == ["pegawai.3"]
    assert client.get("/accounts?role=majelis", headers=admin_h).get_json()["total"] == 4
    r = client.get("/accounts?role=raja&limit=0", headers=admin_h)
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"role", "limit"}
    _, user = api.make_user(admin_h, "bukan.admin", nip=nip(20), roles=["organisasi", "bpkad", "majelis"])
    assert client.get("/accounts", headers=api.bearer(user)).status_code == 403
    assert client.get("/accounts").status_code == 401
