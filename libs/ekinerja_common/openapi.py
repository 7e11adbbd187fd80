"""OpenAPI 3.1 built from the Flask routes themselves: the path, the view's docstring, the
pydantic model of its body, the query parameters it reads, the answers it can give and whether it
needs a token. It cannot drift from the code.

* Query parameters are the names the view reads from ``request.args`` — in its own body or in the
  functions it calls (three levels deep, any module: a shared paging helper counts too), including
  the fields of a pydantic model that validates ``request.args``. A view may
  describe them with ``@query_doc(name="what it means", ...)``.
* Responses: the success status the view returns (200, 201 or 204), 304 for reads (ETag,
  ekinerja_common.conditional), 400/422 for a body, 401/403 unless public, 404 for a path with
  parameters, 409 when the view can raise a conflict, 503 (with Retry-After) always; every error
  in the one error shape.

The gateway serves the specifications browsable at /api-docs/ (Swagger UI, vendored in
web/vendor/swagger-ui).
"""
from __future__ import annotations

import ast
import inspect
import re
import textwrap
from typing import Callable

from flask import Flask

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")
_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_ERRORS = {
    "400": "Malformed request (e.g. not JSON) / Permintaan tidak valid",
    "401": "No valid access token / Belum masuk",
    "403": "Not allowed for this caller / Tidak berwenang",
    "404": "No such object (or not visible to this caller) / Tidak ditemukan",
    "409": "Conflicts with the current state / Bertentangan dengan keadaan data",
    "422": "Invalid fields, every one listed in error.fields / Isian tidak valid",
    "503": "Temporarily unavailable; retry after the Retry-After seconds / Layanan sedang sibuk",
}


def query_doc(**descriptions: str) -> Callable:
    """Describe the query parameters of a view (names it reads are found without this)."""

    def wrap(view: Callable) -> Callable:
        view._query_doc = {**getattr(view, "_query_doc", {}), **descriptions}  # type: ignore[attr-defined]
        return view

    return wrap


def _source_tree(fn: Callable) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def _args_read(tree: ast.AST, bound: dict[str, object] | None = None) -> list[str]:
    """Names read as request.args.get("x"), .getlist("x") or request.args["x"]; in a helper,
    ``request.args.get(name)`` with ``name`` one of its parameters takes the caller's value
    (``bound``), and ``request.args.to_dict()`` validated by a pydantic model passed in lists
    that model's fields."""
    bound = bound or {}
    names = []

    def value(node: ast.AST):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name) and isinstance(bound.get(node.id), str):
            return bound[node.id]
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_args(node.func.value):
            if node.func.attr in ("get", "getlist") and node.args and value(node.args[0]):
                names.append(value(node.args[0]))
            elif node.func.attr == "to_dict":
                for model in bound.values():
                    fields = getattr(model, "model_fields", None) or {}
                    names += [f.alias or n for n, f in fields.items()]
        elif isinstance(node, ast.Subscript) and _is_args(node.value) and value(node.slice):
            names.append(value(node.slice))
    return names


def _is_args(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "args" and isinstance(node.value, ast.Name) \
        and node.value.id == "request"


def _called(view: Callable, tree: ast.AST) -> list[tuple[Callable, dict[str, object]]]:
    """Functions the view calls by name (resolved in its module), each with what the call binds
    to its parameters (string constants, and classes such as a pydantic model of the query)."""
    scope = getattr(view, "__globals__", {})
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target, fn = node.func, None
        if isinstance(target, ast.Name):
            fn = scope.get(target.id)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            owner = scope.get(target.value.id)
            fn = getattr(owner, target.attr, None) if owner is not None and inspect.ismodule(owner) else None
        if not inspect.isfunction(fn):
            continue
        try:
            params = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            params = []
        bound: dict[str, object] = {}
        for pname, arg in zip(params, node.args):
            if isinstance(arg, ast.Constant):
                bound[pname] = arg.value
            elif isinstance(arg, ast.Name) and isinstance(scope.get(arg.id), type):
                bound[pname] = scope[arg.id]
        out.append((fn, bound))
    return out


def query_parameters(view: Callable) -> list[str]:
    inner = inspect.unwrap(view)
    tree = _source_tree(inner)
    if tree is None:
        return []
    names = _args_read(tree)
    seen = {inner}
    todo = [(fn, bound, 1) for fn, bound in _called(inner, tree)]
    while todo:  # helpers of helpers, a few levels deep
        fn, bound, depth = todo.pop(0)
        sub = _source_tree(fn)
        if sub is None or fn in seen and not bound:
            continue
        seen.add(fn)
        names += _args_read(sub, bound)
        if depth < 3:
            todo += [(f, b, depth + 1) for f, b in _called(fn, sub)]
    names += list(getattr(view, "_query_doc", {}))
    return list(dict.fromkeys(names))


def _success_status(view: Callable) -> str:
    try:
        src = inspect.getsource(inspect.unwrap(view))
    except (OSError, TypeError):
        return "200"
    for status in ("201", "204", "202"):
        if re.search(rf"return [^\n]*,\s*{status}\b", src):
            return status
    return "200"


def _raises_conflict(view: Callable) -> bool:
    try:
        return "Conflict" in inspect.getsource(inspect.unwrap(view))
    except (OSError, TypeError):
        return False


def build_spec(app: Flask, title: str, description: str = "") -> dict:
    paths: dict[str, dict] = {}
    schemas: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        doc = inspect.getdoc(view) or ""
        summary, _, details = doc.partition("\n")
        public = getattr(view, "_public", False)
        model = getattr(view, "_body_model", None)
        success = _success_status(view)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            responses: dict[str, dict] = {success: {"description": {"201": "Created", "204": "No content"}.get(success, "OK")}}
            if method == "GET":
                responses["304"] = {"description": "Not modified: the body has the ETag sent in If-None-Match"}
            errors = ["503"]
            if model is not None:
                errors += ["400", "422"]
            if not public:
                errors += ["401", "403"]
            if _CONVERTER.search(rule.rule):
                errors.append("404")
            if _raises_conflict(view):
                errors.append("409")
            for code in sorted(set(errors)):
                responses[code] = {"description": _ERRORS[code], **_ERROR}
            responses["503"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
            op: dict = {"operationId": f"{rule.endpoint}_{method.lower()}", "summary": summary or rule.endpoint,
                        "responses": dict(sorted(responses.items()))}
            if details.strip():
                op["description"] = details.strip()
            params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                      for p in _CONVERTER.findall(rule.rule)]
            described = getattr(view, "_query_doc", {})
            for q in query_parameters(view):
                param = {"name": q, "in": "query", "required": False, "schema": {"type": "string"}}
                if q in described:
                    param["description"] = described[q]
                params.append(param)
            if getattr(view, "_idempotent", False):
                # ekinerja_common.idempotency: a retry with the same key gets the stored answer.
                params.append({"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"},
                               "description": "a key of the client's own for this request (1-200 characters): a repeat "
                                              "with the same key gets the stored answer; another body with it is 422 "
                                              "idempotency_key_reused"})
                op["responses"] = dict(sorted({"422": {"description": _ERRORS["422"], **_ERROR}, **op["responses"]}.items()))
            if params:
                op["parameters"] = params
            if model is not None:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, sub in schema.pop("$defs", {}).items():
                    schemas[name] = sub
                schemas[model.__name__] = schema
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}
            if not public:
                op["security"] = [{"bearer": []}]
            paths.setdefault(path, {})[method.lower()] = op
    schemas["Error"] = {
        "type": "object",
        "properties": {"error": {"type": "object", "properties": {
            "code": {"type": "string"}, "message": {"type": "string", "description": "Bahasa Indonesia"},
            "message_en": {"type": "string"}, "fields": {"type": "object"}}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0.0", "description": description},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
