"""OpenAPI 3.1 built from the Flask routes themselves: the path, the view's docstring, the
pydantic model of its body and whether it needs a token. It cannot drift from the code."""
from __future__ import annotations

import inspect
import re

from flask import Flask

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")


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
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict = {
                "operationId": f"{rule.endpoint}_{method.lower()}",
                "summary": summary or rule.endpoint,
                "responses": {
                    "200": {"description": "OK"},
                    "4XX": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            }
            if details.strip():
                op["description"] = details.strip()
            params = _CONVERTER.findall(rule.rule)
            if params:
                op["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params]
            model = getattr(view, "_body_model", None)
            if model is not None:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, sub in schema.pop("$defs", {}).items():
                    schemas[name] = sub
                schemas[model.__name__] = schema
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}
            if not getattr(view, "_public", False):
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
