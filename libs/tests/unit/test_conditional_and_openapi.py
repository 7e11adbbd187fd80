"""ETag / If-None-Match on reads and the OpenAPI's query parameters and responses, on a small app
built with the same base every service uses."""
from __future__ import annotations

from flask import Blueprint, request

from ekinerja_common.errors import Conflict, Text
from ekinerja_common.openapi import build_spec, query_doc
from ekinerja_common.testing import TestKeys
from ekinerja_common.web import create_base_app, public

bp = Blueprint("t", __name__)


def _month() -> str | None:
    return request.args.get("month")


def _flag(name: str) -> bool:
    return request.args.get(name) == "1"


@bp.get("/things")
@public
@query_doc(month="YYYY-MM")
def things():
    """Many things."""
    return {"things": [{"n": i, "name": "x" * 20, "month": _month(), "all": _flag("all")} for i in range(100)]}


@bp.get("/small")
@public
def small():
    """Few."""
    return {"ok": True}


@bp.post("/things/<thing_id>")
def make(thing_id: str):
    """Make one."""
    if thing_id == "x":
        raise Conflict("dup", Text("Sudah ada", "Exists"))
    return {"id": thing_id}, 201


def app():
    a = create_base_app("t", TestKeys().verifier, lambda: None, "T")
    a.register_blueprint(bp)
    return a


def test_a_read_answers_304_when_unchanged_and_200_when_changed():
    c = app().test_client()
    first = c.get("/things?month=2026-11")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag and "Authorization" in first.headers["Vary"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = c.get("/things?month=2026-11", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = c.get("/things?month=2026-12", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    assert "ETag" not in c.get("/small").headers  # too small to be worth it
    assert "ETag" not in c.get("/healthz").headers


def test_openapi_lists_query_parameters_read_by_the_view_and_its_helpers():
    spec = build_spec(app(), "T")
    get = spec["paths"]["/things"]["get"]
    params = {p["name"]: p for p in get["parameters"]}
    assert set(params) == {"month", "all"} and params["month"]["description"] == "YYYY-MM"
    assert set(get["responses"]) == {"200", "304", "503"}
    post = spec["paths"]["/things/{thing_id}"]["post"]
    assert set(post["responses"]) == {"201", "401", "403", "404", "409", "503"}
    assert post["responses"]["503"]["headers"]["Retry-After"]
