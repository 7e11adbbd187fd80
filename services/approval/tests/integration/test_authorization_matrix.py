"""Every endpoint of approval, called by every role and by strangers of the right role, on real
PostgreSQL: each wrong caller gets 401, 403 or 404 (or, for a listing, an empty one) and nothing
changes — no table row, no outbox event, no decision, no evidence file.

The role-only tokens (organisasi, bpkad, majelis, admin_bkd) carry the employee id of the person
who *would* be allowed (the supervisor, the appellant, ...): the right person with the wrong role
must be refused just the same. The matrix must name every route the app has: a new endpoint
without a row here fails the test."""
import io
import os

import pytest
from sqlalchemy import select

from ekinerja_common.outbox import PROCESSED

ANON = "anonymous"
CALLERS = {
    # name: (employee key, roles); None as key = the endpoint's rightful actor
    "pegawai": ("budi", ("pegawai",)),  # an employee with no part in anything below
    "other_supervisor": ("kabid2", ("pegawai",)),  # a supervisor, of another team
    "admin_bkd": ("__none__", ("admin_bkd",)),
    "admin_bkd_as_actor": (None, ("admin_bkd",)),
    "organisasi": (None, ("organisasi",)),
    "bpkad": (None, ("bpkad",)),
    "majelis": (None, ("majelis",)),
    "no_employee": ("__none__", ("pegawai",)),
    "board_member": ("insp", ("pegawai", "majelis")),  # appointed, but not seated on this appeal
}

D = 403  # denied by role or object
H = 404  # hidden: may not know it exists
E = "empty"  # 200 with nothing in it
OK = "ok"  # a legitimate read for this caller (checked: nothing changes)
SKIP = "skip"  # the rightful caller of a write: not this test's business


def row(actor, **expected):
    assert set(expected) == set(CALLERS), sorted(set(CALLERS) ^ set(expected))
    return actor, expected


ALL_DENIED = {name: D for name in CALLERS}
ADMIN_ONLY_WRITE = {**ALL_DENIED, "admin_bkd": SKIP, "admin_bkd_as_actor": SKIP}
ADMIN_ONLY_READ = {**ALL_DENIED, "admin_bkd": OK, "admin_bkd_as_actor": OK}
DECIDE_ENTRY = {**ALL_DENIED}
READ_APPEAL = {name: H for name in CALLERS} | {"admin_bkd": OK, "admin_bkd_as_actor": OK}
# BKD reads an appeal but takes no part in it: 403, as a reader in the wrong capacity.
ACT_ON_APPEAL = {name: H for name in CALLERS} | {"admin_bkd": D, "admin_bkd_as_actor": D}
ENTRY_READ = {name: D for name in CALLERS} | {"pegawai": H, "other_supervisor": H, "no_employee": H, "board_member": H}

MATRIX = {
    ("GET", "/queue"): row("kabid", pegawai=E, other_supervisor=E, admin_bkd=D, admin_bkd_as_actor=D, organisasi=D,
                           bpkad=D, majelis=D, no_employee=E, board_member=E),
    ("GET", "/queue/entry-ids"): row("kabid", pegawai=E, other_supervisor=E, admin_bkd=D, admin_bkd_as_actor=D,
                                     organisasi=D, bpkad=D, majelis=D, no_employee=E, board_member=E),
    ("GET", "/entries/<entry_id>"): row("kabid", **ENTRY_READ),
    ("POST", "/entries/<entry_id>/approve"): row("kabid", **DECIDE_ENTRY),
    ("POST", "/entries/<entry_id>/reject"): row("kabid", **DECIDE_ENTRY),
    ("POST", "/entries/<entry_id>/return"): row("kabid", **DECIDE_ENTRY),
    ("POST", "/decisions"): row("kabid", **DECIDE_ENTRY),
    ("GET", "/reports/late-validations"): row("kabid", **ADMIN_ONLY_READ),
    ("GET", "/reports/rejection-rates"): row("kabid", **{**ADMIN_ONLY_READ, "majelis": OK, "board_member": OK}),
    ("GET", "/reports/pending"): row("kabid", **{**ADMIN_ONLY_READ, "bpkad": OK}),
    ("GET", "/policies/<int:year>"): row("kabid", **{name: OK for name in CALLERS}),
    ("PUT", "/policies/<int:year>"): row("kabid", **ADMIN_ONLY_WRITE),
    ("POST", "/appeals"): row("ani", **{**ALL_DENIED, "pegawai": H, "other_supervisor": H, "board_member": H}),
    ("GET", "/appeals"): row("ani", pegawai=E, other_supervisor=E, admin_bkd=OK, admin_bkd_as_actor=OK, organisasi=D,
                             bpkad=D, majelis=E, no_employee=E, board_member=E),
    ("GET", "/appeals/<appeal_id>"): row("ani", **READ_APPEAL),
    ("GET", "/appeals/<appeal_id>/trail"): row("ani", **READ_APPEAL),
    ("GET", "/appeals/<appeal_id>/evidence/<evidence_id>"): row("ani", **READ_APPEAL),
    ("POST", "/appeals/<appeal_id>/comments"): row("kabid", **ACT_ON_APPEAL),
    ("POST", "/appeals/<appeal_id>/evidence"): row("ani", **ACT_ON_APPEAL),
    ("POST", "/appeals/<appeal_id>/escalate"): row("ani", **ACT_ON_APPEAL),
    ("POST", "/appeals/<appeal_id>/decide"): row("kadis", **ACT_ON_APPEAL),
    ("GET", "/board/members"): row("kabid", **ADMIN_ONLY_READ),
    ("POST", "/board/members"): row("kabid", **ADMIN_ONLY_WRITE),
    ("DELETE", "/board/members/<member_id>"): row("kabid", **ADMIN_ONLY_WRITE),
}

PUBLIC = {"/healthz", "/readyz", "/metrics", "/openapi.json"}


@pytest.fixture
def world(api, org, app):
    """A pending entry, a rejected one under appeal (with a comment and evidence), another rejected
    one not yet appealed, and an appointed board member."""
    org.submit("pending", "ani", day="2026-11-10")
    org.submit("appealed", "ani", day="2026-11-11")
    org.submit("rejected", "ani", day="2026-11-12")
    r = api.post("/decisions", "kabid", json={"decision": "reject", "reason": "Tidak sesuai",
                                              "entry_ids": [api.entry("appealed"), api.entry("rejected")]})
    assert r.status_code == 200
    appeal = api.post("/appeals", "ani", json={"entry_ids": [api.entry("appealed")], "reasons": "Keberatan"}).get_json()["appeals"][0]
    assert api.post(f"/appeals/{appeal['id']}/comments", "kabid", json={"text": "Tanggapan"}).status_code == 201
    ev = api.client.post(f"/appeals/{appeal['id']}/evidence", headers=api.headers("ani"), content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"%PDF-1.4 bukti"), "bukti.pdf")}).get_json()
    org.employee("insp", "Inspektur")
    member = api.post("/board/members", None, "admin_bkd", json={"employee_id": org.id("insp"), "from_date": "2026-01-01"}).get_json()
    return {"entry_id": api.entry("pending"), "appeal_id": appeal["id"], "evidence_id": ev["id"], "member_id": member["id"],
            "year": "2026", "rejected": api.entry("rejected"), "insp": org.id("insp")}


def request_for(method, rule, w):
    """The path and a *valid* body for each route: a refusal must come from who calls, not
    from what they send."""
    path = (rule.replace("<entry_id>", w["entry_id"]).replace("<appeal_id>", w["appeal_id"])
            .replace("<evidence_id>", w["evidence_id"]).replace("<member_id>", w["member_id"])
            .replace("<int:year>", w["year"]))
    kw: dict = {}
    if rule.endswith("/reject") or rule.endswith("/return"):
        kw["json"] = {"reason": "Alasan"}
    elif rule == "/decisions":
        kw["json"] = {"decision": "approve", "entry_ids": [w["entry_id"]]}
    elif rule == "/queue":
        kw["query_string"] = {"limit": "50"}  # the paged queue the web client reads
    elif rule.startswith("/reports/"):
        kw["query_string"] = {"month": "2026-11"}
    elif rule == "/policies/<int:year>" and method == "PUT":
        kw["json"] = {"validation_deadline_day": 6, "appeal_window_days": 14, "first_level_days": 10,
                      "board_rejection_rate_pct": 50, "board_min_decisions": 10}
    elif rule == "/appeals" and method == "POST":
        kw["json"] = {"entry_ids": [w["rejected"]], "reasons": "Keberatan"}
    elif rule.endswith("/comments"):
        kw["json"] = {"text": "Komentar"}
    elif rule.endswith("/evidence") and method == "POST":
        kw["data"] = {"file": (io.BytesIO(b"%PDF-1.4 lagi"), "lagi.pdf")}
        kw["content_type"] = "multipart/form-data"
    elif rule.endswith("/decide"):
        kw["json"] = {"outcome": "overturned", "reasoning": "Putusan"}
    elif rule == "/board/members" and method == "POST":
        kw["json"] = {"employee_id": w["insp"], "from_date": "2030-01-01"}
    return path, kw


def everything(runtime, evidence_dir):
    """Every row of every table (bar the consumer's processed-message log) and every evidence file."""
    state = {}
    with runtime.engine.connect() as conn:
        for name, table in sorted(runtime.metadata.tables.items()):
            if name == PROCESSED:
                continue
            state[name] = sorted(tuple(str(v) for v in r) for r in conn.execute(select(table)))
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(evidence_dir) for f in fs) if os.path.isdir(evidence_dir) else []
    return state, files


def empty(value) -> bool:
    """Nothing in it: empty lists, and counts of zero (a paged list's total)."""
    if isinstance(value, dict):
        return all(empty(v) for v in value.values())
    return value in ([], 0, None)


def test_the_matrix_names_every_route(app):
    routes = {(m, r.rule) for r in app.url_map.iter_rules() if r.endpoint != "static" and r.rule not in PUBLIC
              for m in r.methods - {"HEAD", "OPTIONS"}}
    assert routes == set(MATRIX)


def test_every_wrong_caller_is_refused_and_nothing_changes(app, api, world, runtime, keys):
    evidence_dir = app.extensions["evidence_store"].root
    before = everything(runtime, evidence_dir)
    assert before[0]["outbox"] and before[0]["decisions"] and before[1]  # the world is not empty
    tried = 0
    for (method, rule), (actor, expected) in MATRIX.items():
        path, kw = request_for(method, rule, world)
        r = api.client.open(path, method=method, **kw)
        assert r.status_code == 401, (method, rule, ANON, r.status_code)
        for caller, outcome in expected.items():
            if outcome == SKIP:
                continue
            key, roles = CALLERS[caller]
            key = actor if key is None else key
            employee_id = None if key == "__none__" else api.feed.id(key)
            headers = keys.headers(employee_id, *roles)
            r = api.client.open(path, method=method, headers=headers, **request_for(method, rule, world)[1])
            where = (method, rule, caller, r.status_code, r.get_data(as_text=True)[:300])
            if outcome in (D, H):
                assert r.status_code == outcome, where
                body = r.get_json()["error"]
                assert body["code"] and body["message"] and body["message_en"], where
            elif outcome == E:
                assert r.status_code == 200, where
                assert empty(r.get_json()), where
            else:
                assert r.status_code == 200, where
            assert everything(runtime, evidence_dir) == before, where
            tried += 1
    assert tried > 150
